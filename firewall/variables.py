"""What conditions see: the CEL variables of one call, built lazily and converted once.

Handing values to CEL costs far more than evaluating a condition (about a microsecond per
string), so each variable is built only when a condition names it, only the parts the
fitting rules' conditions read are converted, and that happens once per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cel

from firewall.conditions import Projection, project
from firewall.graph import EMPTY_FLOW, FlowLookup, with_missing_arguments
from firewall.history import EMPTY_SESSION, HistoryView
from firewall.model import Principal, ToolCall


class CallVariables:
    """The CEL variables of one call, converted once, and only the parts conditions read."""

    __slots__ = (
        "_activation",
        "_call",
        "_context",
        "_facts",
        "_flow",
        "_history",
        "_intents",
        "_principal",
    )

    def __init__(
        self,
        call: ToolCall,
        principal: Principal,
        context: Mapping[str, Any],
        intents: tuple[str, ...],
        facts: dict[str, Any],
        flow: FlowLookup | None = None,
        history: HistoryView | None = None,
    ) -> None:
        self._flow = flow
        self._history = history
        self._call = call
        self._principal = principal
        self._context = context
        self._intents = intents
        self._facts = facts
        self._activation: cel.Context | None = None

    def activation(self, projections: Mapping[str, Projection]) -> cel.Context:
        """One CEL context per call, holding only the parts of the variables conditions read.

        Converting values into CEL is the expensive part of a condition, so it is done
        once per call and only for what the policy's conditions name.
        """
        if self._activation is None:
            functions = None
            if "session" in projections and self._history is not None:
                functions = self._history.functions()  # they need this call's session
            self._activation = cel.Context(
                {name: project(self._build(name, sub), sub) for name, sub in projections.items()},
                functions,
            )
        return self._activation

    def _build(self, name: str, projection: Projection = None) -> Any:
        if name == "call":
            call = self._call
            return {
                "name": call.name,
                "id": call.id or "",
                "arguments": call.arguments,
                "raw_arguments": call.raw_arguments or "",
            }
        if name == "principal":
            p = self._principal
            return {"id": p.id, "kind": p.kind, "roles": list(p.roles), "attributes": p.attributes}
        if name == "intents":
            return list(self._intents)
        if name == "facts":
            return self._facts
        if name == "context":
            return dict(self._context)
        if name == "flow":
            flow = self._flow.variable() if self._flow is not None else dict(EMPTY_FLOW)
            return with_missing_arguments(flow, projection)
        if name == "session":
            return self._history.variable() if self._history is not None else EMPTY_SESSION
        raise KeyError(name)
