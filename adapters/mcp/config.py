"""The gateway's configuration file: upstream servers and who may call over HTTP.

```yaml
servers:                       # tools are exposed as <server>.<tool>
  git: {command: uvx, args: [mcp-server-git], timeout: 120}
  crm: {url: "http://127.0.0.1:9000/mcp", headers: {X-Tenant: acme}}
principals:                    # HTTP: a bearer token names a principal
  - {id: alice, kind: human, roles: [admin], token_sha256: "<sha256 of the token, hex>"}
  - {id: ci-bot, kind: agent, token_env: CI_BOT_TOKEN}
identity_header: X-Forwarded-User   # optional: set by a trusted front proxy, value = a principal id
```
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.mcp.upstream import UpstreamSpec
from firewall import Principal


class ConfigError(Exception):
    """The configuration file cannot be used; the message names the problem."""


class ServerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=300.0, gt=0)
    protocol: Literal["auto", "legacy"] = "auto"

    @model_validator(mode="after")
    def _one_target(self) -> ServerEntry:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of command or url")
        return self


class PrincipalEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kind: Literal["human", "agent", "service"] = "agent"
    roles: list[str] = Field(default_factory=list)
    attributes: dict[str, object] = Field(default_factory=dict)
    #: Hex SHA-256 of the bearer token (the token itself is not stored in the file).
    token_sha256: str | None = None
    #: Name of an environment variable holding the token.
    token_env: str | None = None
    #: The token itself (for tests and local use; prefer token_sha256 or token_env).
    token: str | None = None

    def principal(self) -> Principal:
        return Principal(
            id=self.id, kind=self.kind, roles=tuple(self.roles), attributes=self.attributes
        )

    def digest(self) -> str | None:
        if self.token_sha256 is not None:
            text = self.token_sha256.strip().lower()
            if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
                raise ConfigError(f"principal '{self.id}': token_sha256 is not a hex SHA-256")
            return text
        if self.token_env is not None:
            value = os.environ.get(self.token_env)
            if not value:
                raise ConfigError(
                    f"principal '{self.id}': environment variable {self.token_env} is not set"
                )
            return token_digest(value)
        if self.token is not None:
            return token_digest(self.token)
        return None


class GatewayConfig(BaseModel):
    """What a gateway serves and who may call it."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, ServerEntry] = Field(default_factory=dict)
    principals: list[PrincipalEntry] = Field(default_factory=list)
    identity_header: str | None = None

    def upstreams(self) -> list[UpstreamSpec]:
        specs = []
        for name, entry in self.servers.items():
            if not name or "." in name:
                raise ConfigError(f"server name '{name}' may not be empty or hold '.'")
            specs.append(
                UpstreamSpec(
                    name=name,
                    command=entry.command,
                    args=tuple(entry.args),
                    env=dict(entry.env),
                    cwd=entry.cwd,
                    url=entry.url,
                    headers=dict(entry.headers),
                    timeout=entry.timeout,
                    protocol=entry.protocol,
                )
            )
        return specs

    def identities(self) -> Identities:
        tokens: dict[str, Principal] = {}
        by_id: dict[str, Principal] = {}
        for entry in self.principals:
            if entry.id in by_id:
                raise ConfigError(f"principal '{entry.id}' is listed twice")
            principal = entry.principal()
            by_id[entry.id] = principal
            digest = entry.digest()
            if digest is not None:
                if digest in tokens:
                    raise ConfigError(f"principal '{entry.id}' has the token of another")
                tokens[digest] = principal
        return Identities(tokens, by_id if self.identity_header else {}, self.identity_header)


class Identities:
    """Maps an HTTP request's credentials to a principal; unknown ones map to nothing."""

    def __init__(
        self,
        tokens: Mapping[str, Principal],
        by_id: Mapping[str, Principal] | None = None,
        header: str | None = None,
    ) -> None:
        self._tokens = dict(tokens)
        self._by_id = dict(by_id or {})
        self._header = header.lower() if header else None

    @property
    def empty(self) -> bool:
        return not self._tokens and not self._header

    def principal_for(self, headers: Mapping[str, str]) -> Principal | None:
        """The principal of a bearer token (or of the trusted header), else ``None``."""
        authorization = headers.get("authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self._tokens.get(token_digest(token.strip()))
        if self._header is not None:
            value = headers.get(self._header)
            if value:
                return self._by_id.get(value.strip())
        return None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_config(path: str | Path) -> GatewayConfig:
    """Read and check a configuration file (``ConfigError`` names what is wrong)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping")
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'top level'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
