"""Streams (server-sent events): tool calls are held until the firewall has decided.

Text deltas pass at once. Tool-call deltas are buffered per choice and call index (chat) or
per output item (responses) and released only after the decision, as one delta with the
restored arguments; a denied call's events are dropped, and ``finish_reason`` /
``response.completed`` describe only what was released. The decisions ride on the chunk
that finishes a choice, or on the completed response, in a ``firewall`` field.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.openai.guard import Denial, Guard, restored_arguments, summary
from adapters.openai.replies import Ask, Check, apply_response, chat_call, item_call, remember_chat
from firewall import Decision, FirewallError, ToolCall


class Events:
    """Splits a byte stream into SSE event blocks (without their blank line); linear time."""

    def __init__(self) -> None:
        self._buffer = b""
        self._carry = b""

    def feed(self, data: bytes) -> list[bytes]:
        data = self._carry + data
        self._carry = b""
        if data.endswith(b"\r"):
            data, self._carry = data[:-1], b"\r"
        buffer = self._buffer + data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        blocks = buffer.split(b"\n\n")
        self._buffer = blocks.pop()
        return [b for b in blocks if b]

    def end(self) -> list[bytes]:
        rest = (self._buffer + self._carry).strip(b"\r\n")
        self._buffer = self._carry = b""
        return [rest] if rest else []


def parse(block: bytes) -> tuple[str | None, str]:
    """The ``event`` name and the joined ``data`` of one block."""
    name, data = None, []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[5:].removeprefix(b" "))
        elif line.startswith(b"event:"):
            name = line[6:].strip().decode()
    return name, b"\n".join(data).decode()


def encode(name: str | None, data: dict[str, Any]) -> bytes:
    head = f"event: {name}\n" if name else ""
    return (head + "data: " + json.dumps(data, ensure_ascii=False) + "\n\n").encode()


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise FirewallError(
            "the firewall could not read an event of the stream; it was not passed on"
        ) from None


class ChatStream:
    """Chat completion chunks: tool calls held per choice until the choice finishes."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        #: choice index -> call index -> the call's parts so far.
        self.calls: dict[int, dict[Any, dict[str, Any]]] = {}
        self.content: dict[int, list[str]] = {}
        self.meta: dict[str, Any] = {}

    def event(self, block: bytes) -> Check:
        name, text = parse(block)
        if text == "[DONE]":
            yield from self._finish_all()
            yield block + b"\n\n"
            return
        if not text:
            yield block + b"\n\n"
            return
        chunk = _load(text)
        choices = chunk.get("choices") if isinstance(chunk, dict) else None
        if not isinstance(choices, list) or not choices:
            yield block + b"\n\n"  # usage-only chunks, errors
            return
        self.meta = {k: v for k, v in chunk.items() if k not in ("choices", "usage", "firewall")}
        passing, finishing, changed = [], [], False
        for choice in choices:
            index = choice.get("index", 0)
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                self.content.setdefault(index, []).append(delta["content"])
            if delta.get("tool_calls") or delta.get("function_call"):
                self._buffer(index, delta)
                delta = {k: v for k, v in delta.items() if k not in ("tool_calls", "function_call")}
                choice = {**choice, "delta": delta}
                changed = True
            if choice.get("finish_reason") is not None:
                finishing.append(choice)
                changed = True
                if delta:
                    passing.append({**choice, "finish_reason": None})
            elif delta or choice.get("logprobs"):
                passing.append(choice)
            else:
                changed = True
        if not changed:
            yield block + b"\n\n"
        elif passing:
            yield encode(name, {**chunk, "choices": passing})
        elif chunk.get("usage"):
            yield encode(name, {**chunk, "choices": []})
        for choice in finishing:
            yield from self._finish(choice)

    def close(self) -> Check:
        yield from self._finish_all()

    def _buffer(self, index: int, delta: dict[str, Any]) -> None:
        calls = self.calls.setdefault(index, {})
        legacy = delta.get("function_call")
        entries = [("legacy", legacy)] if isinstance(legacy, dict) else []
        entries += [
            (e.get("index", 0), e) for e in delta.get("tool_calls") or () if isinstance(e, dict)
        ]
        for key, entry in entries:
            held = calls.setdefault(key, {"name": [], "arguments": [], "input": []})
            for field in ("id", "type"):
                if entry.get(field):
                    held[field] = entry[field]
            part = entry if key == "legacy" else entry.get("function") or entry.get("custom") or {}
            if part.get("name"):
                held["name"].append(part["name"])
            if isinstance(part.get("arguments"), str):
                held["arguments"].append(part["arguments"])
            if isinstance(part.get("input"), str):
                held["input"].append(part["input"])

    def _finish_all(self) -> Check:
        for index in list(self.calls):
            yield from self._finish({"index": index, "delta": {}, "finish_reason": None})

    def _finish(self, choice: dict[str, Any]) -> Check:
        index = choice.get("index", 0)
        held = self.calls.pop(index, {})
        content = "".join(self.content.pop(index, ()))
        if not held and choice.get("finish_reason") is None:
            return
        entries = {key: _entry(parts) for key, parts in held.items()}
        proposed = [(key, entry, _held_call(key, entry)) for key, entry in entries.items()]
        decisions: list[Decision] = (yield Ask([c for _, _, c in proposed])) if proposed else []
        kept, denied, released = [], [], []
        for (key, entry, call), decision in zip(proposed, decisions, strict=True):
            if call.id:
                self.guard.ledger.names[call.id] = call.name
            if not decision.allowed:
                denied.append(Denial(call.id or "", call.name, entry, decision.message_for_model()))
                continue
            if key == "legacy":
                function = entry["function"]
                restored = restored_arguments(decision, call, function["arguments"])
                released.append(("legacy", {"name": function["name"], "arguments": restored}))
                continue
            if entry.get("type") == "function":
                restored = restored_arguments(decision, call, entry["function"]["arguments"])
                if call.id:
                    self.guard.ledger.echoes[call.id] = (restored, entry["function"]["arguments"])
                entry = {**entry, "function": {**entry["function"], "arguments": restored}}
            kept.append(entry)
            released.append((len(kept) - 1, entry))
        for new_index, entry in released:
            if new_index == "legacy":
                delta = {"function_call": entry}
            else:
                delta = {"tool_calls": [{"index": new_index, **entry}]}
            yield encode(None, self._chunk(index, delta, None))
        remember_chat(
            self.guard,
            kept,
            content,
            denied,
            [(None, c, d) for (_, _, c), d in zip(proposed, decisions, strict=False)],
        )
        reason = choice.get("finish_reason")
        if reason in ("tool_calls", "function_call") and not released:
            reason = "stop"
        if reason is None and not proposed:
            return
        delta: dict[str, Any] = {}
        if proposed:
            # In the delta: the SDK's stream helpers accumulate it into the message.
            delta["firewall"] = {
                "decisions": [summary(d) for d in decisions],
                "denied": [{**d.raw, "message": d.message} for d in denied],
            }
        last = self._chunk(index, delta, reason)
        last["choices"][0]["logprobs"] = choice.get("logprobs")
        yield encode(None, last)

    def _chunk(self, index: int, delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
        meta = self.meta or {"object": "chat.completion.chunk"}
        return {**meta, "choices": [{"index": index, "delta": delta, "finish_reason": reason}]}


def _entry(parts: dict[str, Any]) -> dict[str, Any]:
    """The complete tool-call entry built from its deltas."""
    name = "".join(parts["name"])
    entry: dict[str, Any] = {"id": parts.get("id"), "type": parts.get("type") or "function"}
    if entry["type"] == "custom":
        entry["custom"] = {"name": name, "input": "".join(parts["input"])}
    else:
        entry["function"] = {"name": name, "arguments": "".join(parts["arguments"])}
    return entry


def _held_call(key: Any, entry: dict[str, Any]) -> ToolCall:
    if key == "legacy":
        function = entry["function"]
        return ToolCall.from_json(function["name"], function["arguments"])
    return chat_call(entry)


class ResponseStream:
    """Responses events: each output item the client would carry out is held until decided."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        #: Events in order; a held item is a dict {"item", "events", "decision"}.
        self.queue: list[Any] = []
        self.denied_indexes: list[int] = []
        self.decided: list[tuple[tuple[dict, ToolCall], Decision]] = []
        self.sequence = 0
        self.rewrite = False

    def event(self, block: bytes) -> Check:
        name, text = parse(block)
        if not text:
            yield block + b"\n\n"
            return
        data = _load(text)
        if not isinstance(data, dict):
            raise FirewallError("the firewall could not read an event of the stream")
        kind = data.get("type") or name
        index = data.get("output_index")
        item = data.get("item")
        held = self._held(index, data.get("item_id"))
        if kind == "response.output_item.added" and isinstance(item, dict) and item_call(item):
            if not isinstance(index, int):
                raise FirewallError("a proposed call in the stream has no output index")
            entry = {"index": index, "id": item.get("id"), "events": [(name, data)]}
            self.queue.append({**entry, "decision": None})
        elif held is not None:
            held["events"].append((name, data))
            if kind == "response.output_item.done":
                call = item_call(item) if isinstance(item, dict) else None
                if call is None:
                    raise FirewallError("a held output item changed its kind")
                (decision,) = yield Ask([call])
                held.update(decision=decision, call=call, item=item)
        else:
            self.queue.append((name, data))
        yield from self._flush()

    def close(self) -> Check:
        # Items never finished were never complete: nothing of them is released.
        self.queue = [e for e in self.queue if not isinstance(e, dict) or e["decision"]]
        yield from self._flush()

    def _held(self, index: Any, item_id: Any) -> dict[str, Any] | None:
        """The undecided item an event belongs to (by output index or item id)."""
        for entry in self.queue:
            if not isinstance(entry, dict) or entry["decision"] is not None:
                continue
            if (isinstance(index, int) and entry["index"] == index) or (
                item_id is not None and entry["id"] == item_id
            ):
                return entry
        return None

    def _flush(self) -> Check:
        while self.queue:
            entry = self.queue[0]
            if isinstance(entry, dict):
                if entry["decision"] is None:
                    return
                self.queue.pop(0)
                yield from self._release(entry)
                continue
            self.queue.pop(0)
            yield self._emit(*entry)

    def _release(self, held: dict[str, Any]) -> Check:
        decision, call, item = held["decision"], held["call"], held["item"]
        self.decided.append(((item, call), decision))
        if not decision.allowed:
            self.denied_indexes.append(held["index"])
            self.rewrite = True
            return
        # What the caller accumulates is exactly what was checked: the deltas are replaced by
        # one delta holding the checked (and restored) arguments or input.
        field = "input" if item.get("type") == "custom_tool_call" else "arguments"
        checked = item.get(field) or ""
        if field == "arguments":
            checked = restored_arguments(decision, call, checked)
            if call.id:
                self.guard.ledger.echoes[call.id] = (checked, item.get("arguments") or "")
        sent_delta = False
        for name, data in held["events"]:
            kind = str(data.get("type") or "")
            if kind.endswith(".delta"):
                if sent_delta:
                    self.rewrite = True  # sequence numbers close the gap
                    continue
                data = {**data, "delta": checked}
                sent_delta = True
            elif kind.endswith(".done") and field in data:
                data = {**data, field: checked}
            elif kind == "response.output_item.done":
                data = {**data, "item": {**data["item"], field: checked}}
            yield self._emit(name, data)

    def _emit(self, name: str | None, data: dict[str, Any]) -> bytes:
        kind = data.get("type")
        response = data.get("response")
        if kind in (
            "response.completed",
            "response.incomplete",
            "response.failed",
            "response.done",
        ) and isinstance(response, dict):
            data = {**data, "response": self._final(response)}
            self.rewrite = True
        if self.rewrite:
            index = data.get("output_index")
            if isinstance(index, int):
                data = {
                    **data,
                    "output_index": index - sum(1 for i in self.denied_indexes if i < index),
                }
            if "sequence_number" in data:
                data = {**data, "sequence_number": self.sequence}
        self.sequence += 1
        return encode(name, data)

    def _final(self, response: dict[str, Any]) -> dict[str, Any]:
        """The finished response: only what was released, and the decisions."""
        response = dict(response)
        by_call = {c.id: (i, c, d) for (i, c), d in self.decided}
        output = response.get("output") or []
        decided = []
        for item in output:
            if not isinstance(item, dict):
                continue
            call = item_call(item)
            if call is None:
                continue
            found = by_call.get(call.id)
            if found is None or found[1].fingerprint() != call.fingerprint():
                raise FirewallError("the completed response holds a call that was never checked")
            decided.append(((item, call), found[2]))
        apply_response(self.guard, response, decided)
        return response
