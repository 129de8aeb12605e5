"""Errors the firewall raises to its user; the engine turns errors inside a check into denies."""

from __future__ import annotations


class FirewallError(Exception):
    """Base class of the firewall's own errors."""


class PolicyError(FirewallError):
    """A policy that cannot be loaded: says which file, which rule, which field and line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        rule: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.rule = rule
        self.field = field
        self.line = line
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "<policy>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.rule is not None:
            parts.append(f"rule '{self.rule}'")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"
