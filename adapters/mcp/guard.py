"""One tools/call through the firewall: check it, then redact what it returned.

Shared by the gateway and the in-server middleware, so both judge and redact alike. Only
text can be checked for personal data: other content (images, audio, binary resources)
is withheld unless the tool is exempt from redaction. Sampling requests an upstream sends
during the call reach the client's model too, so they are redacted in the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import mcp_types as types
from pydantic import BaseModel, ValidationError

from firewall import Decision, Firewall, Principal, ToolCall
from firewall.redact.redactor import withheld_notice
from firewall.redact.vault import restore

_M = TypeVar("_M", bound=BaseModel)

_BINARY_WITHHELD = "it cannot be checked for personal data"


async def check_call(
    firewall: Firewall,
    name: str,
    arguments: Any,
    *,
    principal: Principal,
    session: str | None,
    context: Mapping[str, Any],
    call_id: str | None = None,
) -> tuple[ToolCall, Decision]:
    """The call as the firewall sees it, and its decision (never raises: errors deny)."""
    if arguments is None:
        arguments = {}
    if isinstance(arguments, dict):
        call = ToolCall(name=name, arguments=arguments, id=call_id)
    else:  # not an object: kept raw, classified unknown
        call = ToolCall(name=name, id=call_id, raw_arguments=_json_text(arguments))
    decision = await firewall.acheck(call, principal, context, session=session)
    return call, decision


def denied_result(decision: Decision, note: str = "") -> types.CallToolResult:
    """What the model sees of a blocked call: the reason, as a tool error."""
    text = decision.message_for_model()
    if note:
        text = f"{text}; {note}"
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def error_result(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


async def redact_result(
    firewall: Firewall,
    call: ToolCall,
    result: types.CallToolResult,
    *,
    session: str | None,
    output_schema: Mapping[str, Any] | None,
) -> types.CallToolResult:
    """The result with PII and secrets replaced in its text and structured content.

    A structured part that no longer matches the tool's declared output schema after
    redaction is withheld and the result marked as an error, so it stays valid for
    clients that check results against the schema.
    """
    texts: list[str] = []
    for block in result.content:
        text = _text_of(block)
        if text is not None:
            texts.append(text)
    has_structured = result.structured_content is not None
    output: dict[str, Any] = {"content": texts}
    if has_structured:
        output["structured"] = result.structured_content
    settings = firewall.policy.redaction
    if not settings.enabled or settings.is_exempt(call.name):
        redacted = firewall.after(call, output, session=session)  # nothing to analyse
    else:
        redacted = await firewall.aafter(call, output, session=session)
    if redacted.exempt:
        return result
    if redacted.withheld or not isinstance(redacted.output, dict):
        notice = (
            redacted.output
            if isinstance(redacted.output, str)
            else withheld_notice(call.name, "it could not be checked")
        )
        return error_result(notice)
    new_texts = iter(redacted.output.get("content", []))
    blocks: list[types.ContentBlock] = []
    for block in result.content:
        if _text_of(block) is not None:
            blocks.append(_with_text(block, next(new_texts)))
        else:
            blocks.append(_withheld_block(call.name, block))
    updates: dict[str, Any] = {"content": blocks}
    if has_structured:
        structured = redacted.output.get("structured")
        changed = structured != result.structured_content
        problem = _schema_problem(output_schema, structured) if changed else None
        if problem is None:
            updates["structured_content"] = structured
        else:
            updates["structured_content"] = None
            updates["is_error"] = True
            blocks.append(
                types.TextContent(
                    type="text",
                    text=withheld_notice(
                        call.name,
                        "its structured part, once personal data was replaced, no longer "
                        f"matches the tool's output schema ({problem}); the text above is redacted",
                    ),
                )
            )
    return result.model_copy(update=updates)


def _text_of(block: types.ContentBlock) -> str | None:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.EmbeddedResource) and isinstance(
        block.resource, types.TextResourceContents
    ):
        return block.resource.text
    return None


def _with_text(block: types.ContentBlock, text: Any) -> types.ContentBlock:
    if not isinstance(text, str):
        text = _json_text(text)
    if isinstance(block, types.TextContent):
        return block.model_copy(update={"text": text})
    assert isinstance(block, types.EmbeddedResource)
    return block.model_copy(update={"resource": block.resource.model_copy(update={"text": text})})


def _withheld_block(tool: str, block: types.ContentBlock) -> types.ContentBlock:
    if isinstance(block, types.ResourceLink):
        return block  # a link carries no content of its own
    kind = getattr(block, "type", "content")
    return types.TextContent(type="text", text=withheld_notice(tool, f"{kind}: {_BINARY_WITHHELD}"))


def _schema_problem(schema: Mapping[str, Any] | None, value: Any) -> str | None:
    if not schema:
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        validator = Draft202012Validator(dict(schema))
        error = next(iter(validator.iter_errors(value)), None)
    except (SchemaError, Exception) as exc:  # an unusable schema: withhold, fail closed
        return f"the schema could not be used: {type(exc).__name__}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    return f"at {where}: {error.validator}"


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


class SamplingWithheld(Exception):
    """A sampling request the firewall could not redact, so it does not reach the model."""


class SamplingGuard:
    """Sampling requests carry an upstream's text to the client's model: redact it as a
    result is redacted, and put real values back for placeholders the model writes in its
    reply, as for the arguments of a call.
    """

    def __init__(self, firewall: Firewall, call: ToolCall, session: str | None) -> None:
        self.firewall = firewall
        self.call = call
        self.session = session

    async def outgoing(self, request: types.CreateMessageRequest) -> types.CreateMessageRequest:
        """The request with PII and secrets replaced (``SamplingWithheld`` when it cannot be)."""
        params = request.params.model_dump(mode="json", by_alias=True, exclude_none=True)
        visible = {key: params[key] for key in ("messages", "systemPrompt") if key in params}
        redacted = await self.firewall.aafter(self.call, visible, session=self.session)
        if redacted.exempt:
            return request
        if redacted.withheld or not isinstance(redacted.output, dict):
            raise SamplingWithheld(
                "the firewall withheld the sampling request: it could not be checked"
            )
        params.update(redacted.output)
        try:
            checked = types.CreateMessageRequestParams.model_validate(params, by_name=False)
        except ValidationError:
            why = "the firewall withheld the sampling request: redaction broke it"
            raise SamplingWithheld(why) from None
        return types.CreateMessageRequest(params=checked)

    def incoming(self, reply: _M) -> _M:
        """The model's reply with the placeholders it wrote restored to the real values."""
        vault = self.firewall.vaults.peek(self.session)
        if vault is None:
            return reply
        restored = restore(reply.model_dump(mode="json", by_alias=True, exclude_none=True), vault)
        if not restored.changed:
            return reply
        return type(reply).model_validate(restored.arguments, by_name=False)
