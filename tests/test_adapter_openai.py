"""The drop-in OpenAI client against a local server that speaks the API (whole replies).

What the caller gets (denied calls gone, decisions in ``firewall``) and what the server
received (tool outputs redacted, the denied call and its reason sent back to the model).
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from adapters.openai import INVALID_ARGUMENTS, AsyncOpenAI, OpenAI, arun_tool_calls, run_tool_calls
from firewall import CallbackApprover, Firewall, Principal, load_policy
from firewall.redact.engine import analyzer_for
from tests.conftest import POLICIES
from tests.openai_api import (
    Reply,
    Server,
    completion,
    fc_item,
    function_call,
    message,
    response,
    text_item,
)

EMAIL = "maria.lopez@example.com"
PHONE = "+1 415 555 0199"
CUSTOMER = f"Maria's record: email {EMAIL}, phone {PHONE}, open orders 2"
EXTERNAL = {"to": "x@evil.test", "body": "the customer list"}


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)  # the NER model, loaded once for the module


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


def client_for(api, fw: Firewall, **kwargs) -> OpenAI:
    kwargs.setdefault("context", {"env": "production"})
    kwargs.setdefault("session", "s1")
    return OpenAI(firewall=fw, api_key="test", base_url=api.url, max_retries=0, **kwargs)


def last_body(api) -> dict:
    return api.state.received[-1][1]


def tool_messages(body: dict) -> dict[str, str]:
    return {m["tool_call_id"]: m["content"] for m in body["messages"] if m["role"] == "tool"}


def lookup(query: str) -> str:
    return CUSTOMER


# -- chat completions ------------------------------------------------------------------


def test_a_denied_call_is_removed_and_the_model_is_told_why(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies += [
        Reply(
            completion(
                message(
                    "Working on it.",
                    [
                        function_call("c1", "search_docs", {"query": "maria"}),
                        function_call("c2", "send_email", EXTERNAL),
                    ],
                )
            )
        ),
        Reply(completion(message("Done."))),
    ]
    messages = [{"role": "user", "content": "Find Maria's record."}]
    reply = client.chat.completions.create(model="gpt-test", messages=messages)

    got = reply.choices[0].message
    assert [c.id for c in got.tool_calls] == ["c1"]
    assert reply.choices[0].finish_reason == "tool_calls"
    verdicts = {d["call_id"]: d["verdict"] for d in got.firewall["decisions"]}
    assert verdicts == {"c1": "allow", "c2": "deny"}
    assert "only mail addresses at example.com" in got.firewall["denied"][0]["message"]

    messages.append(got)
    messages += run_tool_calls(reply, {"search_docs": lookup})
    client.chat.completions.create(model="gpt-test", messages=messages)

    sent = last_body(api)
    assistant = sent["messages"][1]
    assert {c["id"] for c in assistant["tool_calls"]} == {"c1", "c2"}
    assert "firewall" not in assistant
    outputs = tool_messages(sent)
    assert "denied by the firewall" in outputs["c2"]
    assert EMAIL not in json.dumps(sent) and PHONE not in json.dumps(sent)
    assert "<EMAIL_ADDRESS_1>" in outputs["c1"]


def test_a_hand_built_assistant_message_still_carries_the_denial(api, fw) -> None:
    client = client_for(api, fw)
    calls = [
        function_call("c1", "search_docs", {"query": "q"}),
        function_call("c2", "send_email", EXTERNAL),
    ]
    api.state.replies += [Reply(completion(message(None, calls))), Reply(completion(message("ok")))]
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "go"}]
    )
    kept = reply.choices[0].message.tool_calls
    # The caller copies only the fields it knows (no `firewall` field).
    assistant = {"role": "assistant", "tool_calls": [c.model_dump(exclude_none=True) for c in kept]}
    tool = {"role": "tool", "tool_call_id": "c1", "content": "3 documents"}
    client.chat.completions.create(model="gpt-test", messages=[assistant, tool])
    sent = last_body(api)
    assert [c["id"] for c in sent["messages"][0]["tool_calls"]] == ["c1", "c2"]
    assert "denied by the firewall" in tool_messages(sent)["c2"]


def test_when_every_call_is_denied_the_reply_stops(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies += [
        Reply(completion(message(None, [function_call("c9", "send_email", EXTERNAL)]))),
        Reply(completion(message("I could not send it."))),
    ]
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "mail"}]
    )
    assert reply.choices[0].message.tool_calls is None
    assert reply.choices[0].finish_reason == "stop"
    assert run_tool_calls(reply, {}) == []
    client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "mail"}, reply.choices[0].message],
    )
    sent = last_body(api)
    assert sent["messages"][1]["tool_calls"][0]["id"] == "c9"
    assert "denied by the firewall" in tool_messages(sent)["c9"]


def test_placeholders_are_restored_for_the_caller_and_never_sent_back(api) -> None:
    approved = []
    fw = Firewall(
        load_policy(POLICIES / "default.yaml"),
        approver=CallbackApprover(
            lambda request: approved.append(request.call.arguments["to"]) or True
        ),
    )
    client = client_for(api, fw, context={"env": "staging"})
    reply_with_email = {"to": "<EMAIL_ADDRESS_1>", "body": "Your order shipped."}
    api.state.replies += [
        Reply(completion(message(None, [function_call("c1", "search_docs", {"query": "maria"})]))),
        Reply(completion(message(None, [function_call("c2", "send_email", reply_with_email)]))),
        Reply(completion(message("Sent."))),
    ]
    messages: list = [{"role": "user", "content": "Tell Maria her order shipped."}]
    sent_mail = []
    tools = {"search_docs": lookup, "send_email": lambda to, body: sent_mail.append(to) or "sent"}
    for _ in range(3):
        reply = client.chat.completions.create(model="gpt-test", messages=messages)
        got = reply.choices[0].message
        if not got.tool_calls:
            break
        messages.append(got)
        messages += run_tool_calls(reply, tools)

    assert approved == [EMAIL]  # personal data leaving: the person saw the real address
    assert sent_mail == [EMAIL]  # and the tool ran with it
    for _, body in api.state.received:
        assert EMAIL not in json.dumps(body)
    echoed = api.state.received[-1][1]["messages"][3]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(echoed)["to"] == "<EMAIL_ADDRESS_1>"


def test_invalid_json_arguments_are_denied_with_a_clear_reason(api, fw) -> None:
    client = client_for(api, fw)
    broken = function_call("c1", "search_docs", '{"query": "unterminated')
    api.state.replies.append(Reply(completion(message(None, [broken]))))
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}]
    )
    decision = reply.choices[0].message.firewall["decisions"][0]
    assert decision["verdict"] == "deny"
    assert decision["reasons"][0]["rule_id"] == INVALID_ARGUMENTS
    assert "not a JSON object" in decision["message"]
    assert reply.choices[0].message.tool_calls is None
    assert [d.rule_ids for d in fw.memory.decisions] == [[INVALID_ARGUMENTS]]


def test_every_choice_and_every_parallel_call_is_checked(api, fw) -> None:
    client = client_for(api, fw)
    custom = {"id": "c5", "type": "custom", "custom": {"name": "run_shell", "input": "rm -rf /"}}
    api.state.replies.append(
        Reply(
            completion(
                message(None, [function_call("c1", "send_email", EXTERNAL), custom]),
                message(
                    None,
                    [
                        function_call("c3", "search_docs", {"query": "a"}),
                        function_call("c4", "search_docs", {"query": "b"}),
                    ],
                ),
            )
        )
    )
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}], n=2
    )
    first, second = reply.choices
    assert first.message.tool_calls is None and first.finish_reason == "stop"
    assert {d["call_id"]: d["verdict"] for d in first.message.firewall["decisions"]} == {
        "c1": "deny",
        "c5": "deny",
    }
    assert [c.id for c in second.message.tool_calls] == ["c3", "c4"]


def test_approval_goes_to_the_firewalls_approver(api) -> None:
    asked = []

    def approve_internal_payments(request) -> bool:
        asked.append(request.call.name)
        return request.call.arguments["amount"] <= 100

    fw = Firewall(
        load_policy(POLICIES / "default.yaml"),
        approver=CallbackApprover(approve_internal_payments, name="finance lead"),
    )
    client = client_for(api, fw, principal=Principal(id="bot", roles=("finance",)))
    api.state.replies.append(
        Reply(
            completion(
                message(
                    None,
                    [
                        function_call("p1", "send_money", {"to": "acme", "amount": 50}),
                        function_call("p2", "send_money", {"to": "acme", "amount": 500}),
                    ],
                )
            )
        )
    )
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "pay"}]
    )
    assert asked == ["send_money", "send_money"]
    assert [c.id for c in reply.choices[0].message.tool_calls] == ["p1"]
    decisions = reply.choices[0].message.firewall["decisions"]
    assert decisions[0]["approved_by"] == "finance lead"


def test_every_client_path_is_checked(api, fw) -> None:
    client = client_for(api, fw)
    reply = completion(message(None, [function_call("c1", "send_email", EXTERNAL)]))
    args = {"model": "gpt-test", "messages": [{"role": "user", "content": "x"}]}

    api.state.replies.append(Reply(reply))
    raw = client.chat.completions.with_raw_response.create(**args)
    assert raw.parse().choices[0].message.tool_calls is None

    api.state.replies.append(Reply(reply))
    with client.chat.completions.with_streaming_response.create(**args) as streamed:
        assert streamed.parse().choices[0].message.tool_calls is None

    api.state.replies.append(Reply(reply))
    parsed = client.chat.completions.parse(**args)
    assert parsed.choices[0].message.tool_calls in (None, [])
    assert parsed.choices[0].message.firewall["denied"][0]["id"] == "c1"

    api.state.replies.append(Reply(response(fc_item("c1", "send_email", EXTERNAL))))
    raw = client.responses.with_raw_response.create(model="gpt-test", input="x")
    assert raw.parse().output == []

    api.state.replies.append(Reply(response(fc_item("c1", "send_email", EXTERNAL))))
    assert client.responses.parse(model="gpt-test", input="x").output == []

    api.state.replies.append(Reply(response(fc_item("c1", "send_email", EXTERNAL))))
    assert client.responses.retrieve("resp_1").output == []


def test_copies_keep_the_firewall(api, fw) -> None:
    client = client_for(api, fw, principal=Principal(id="bot"))
    assert isinstance(client, openai.OpenAI)
    for copy in (client.copy(), client.with_options(timeout=5), client.with_session("other")):
        assert isinstance(copy, OpenAI)
        assert copy.firewall is fw
        assert copy._guard.principal == Principal(id="bot")
    assert client.with_session("other").session == "other"
    assert client.with_options(max_retries=1).session == "s1"

    api.state.replies.append(
        Reply(completion(message(None, [function_call("c1", "send_email", EXTERNAL)])))
    )
    reply = client.with_options(timeout=5).chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}]
    )
    assert reply.choices[0].message.tool_calls is None


def test_user_messages_are_recorded_as_the_users(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies.append(Reply(completion(message("ok"))))
    client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "Please mail bob@example.com the report"}],
    )
    flow = fw.graph("s1").provenance({"to": "bob@example.com"}).arguments["to"]
    assert flow.from_user
    stranger = fw.graph("s1").provenance({"to": "eve@example.com"}).arguments["to"]
    assert not stranger.from_user


def test_errors_of_the_api_reach_the_caller_unchanged(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies.append(
        Reply({"error": {"message": "bad model", "type": "invalid"}}, status=400)
    )
    with pytest.raises(openai.BadRequestError, match="bad model"):
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])


def test_a_reply_that_is_not_json_is_not_passed_on(api, fw) -> None:
    client = client_for(api, fw)
    api.state.replies.append(Reply("not an object"))
    with pytest.raises(Exception, match="not a JSON object"):
        client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "x"}]
        )


# -- responses ---------------------------------------------------------------------------


def test_responses_denied_items_are_removed_and_answered(api, fw) -> None:
    client = client_for(api, fw)
    items = [
        text_item("Let me check."),
        fc_item("c1", "search_docs", {"query": "m"}),
        fc_item("c2", "send_email", EXTERNAL),
    ]
    api.state.replies += [
        Reply(response(*items, id="resp_A")),
        Reply(response(text_item("ok"), id="resp_B")),
    ]
    reply = client.responses.create(model="gpt-test", input="Find Maria.")
    assert [i.type for i in reply.output] == ["message", "function_call"]
    assert reply.firewall["denied"][0]["call_id"] == "c2"
    assert {d["call_id"]: d["verdict"] for d in reply.firewall["decisions"]} == {
        "c1": "allow",
        "c2": "deny",
    }

    outputs = run_tool_calls(reply, {"search_docs": lookup})
    assert outputs[0]["type"] == "function_call_output"
    client.responses.create(model="gpt-test", previous_response_id=reply.id, input=outputs)
    sent = last_body(api)
    by_call = {i["call_id"]: i["output"] for i in sent["input"]}
    assert "denied by the firewall" in by_call["c2"]
    assert EMAIL not in by_call["c1"] and "<EMAIL_ADDRESS_1>" in by_call["c1"]


def test_responses_replayed_history_carries_the_denied_call(api, fw) -> None:
    client = client_for(api, fw)
    items = [fc_item("c1", "search_docs", {"query": "m"}), fc_item("c2", "send_email", EXTERNAL)]
    api.state.replies += [Reply(response(*items, id="resp_C")), Reply(response(text_item("ok")))]
    history: list = [{"role": "user", "content": "Find Maria."}]
    reply = client.responses.create(model="gpt-test", input=history)
    history += reply.output
    history += run_tool_calls(reply, {"search_docs": lookup})
    client.responses.create(model="gpt-test", input=history)
    sent = last_body(api)["input"]
    kinds = [(i.get("type"), i.get("call_id")) for i in sent]
    assert ("function_call", "c2") in kinds and ("function_call_output", "c2") in kinds
    assert kinds.index(("function_call", "c2")) < kinds.index(("function_call_output", "c2"))
    assert EMAIL not in json.dumps(sent)


def test_responses_custom_and_local_shell_calls_are_checked(api, fw) -> None:
    client = client_for(api, fw)
    custom = {
        "type": "custom_tool_call",
        "id": "ct1",
        "call_id": "c1",
        "name": "run_shell",
        "input": "rm -rf /",
        "status": "completed",
    }
    shell = {
        "type": "local_shell_call",
        "id": "ls1",
        "call_id": "c2",
        "status": "completed",
        "action": {"type": "exec", "command": ["rm", "-rf", "/"], "env": {}},
    }
    api.state.replies.append(Reply(response(custom, shell, text_item("done"))))
    reply = client.responses.create(model="gpt-test", input="clean up")
    assert [i.type for i in reply.output] == ["message"]
    assert {d["call_id"] for d in reply.firewall["decisions"]} == {"c1", "c2"}


# -- async -------------------------------------------------------------------------------


def test_async_client_checks_chat_and_responses(api, fw) -> None:
    async def run() -> None:
        client = AsyncOpenAI(
            firewall=fw,
            api_key="test",
            base_url=api.url,
            context={"env": "production"},
            session="s1",
        )
        assert isinstance(client, openai.AsyncOpenAI)
        assert client.with_options(timeout=3).firewall is fw
        api.state.replies += [
            Reply(
                completion(
                    message(
                        None,
                        [
                            function_call("c1", "search_docs", {"query": "m"}),
                            function_call("c2", "send_email", EXTERNAL),
                        ],
                    )
                )
            ),
            Reply(completion(message("ok"))),
            Reply(response(fc_item("c3", "send_email", EXTERNAL), id="resp_async")),
            Reply(response(text_item("ok"))),
        ]
        messages: list = [{"role": "user", "content": "go"}]
        reply = await client.chat.completions.create(model="gpt-test", messages=messages)
        assert [c.id for c in reply.choices[0].message.tool_calls] == ["c1"]

        async def lookup_async(query: str) -> str:
            return CUSTOMER

        messages += [
            reply.choices[0].message,
            *await arun_tool_calls(reply, {"search_docs": lookup_async}),
        ]
        await client.chat.completions.create(model="gpt-test", messages=messages)
        sent = last_body(api)
        assert "denied by the firewall" in tool_messages(sent)["c2"]
        assert EMAIL not in json.dumps(sent)

        got = await client.responses.create(model="gpt-test", input="mail")
        assert got.output == [] and got.firewall["denied"][0]["call_id"] == "c3"
        await client.responses.create(model="gpt-test", input=[], previous_response_id=got.id)
        assert last_body(api)["input"][0]["call_id"] == "c3"
        await client.close()

    asyncio.run(run())


def test_async_approval_uses_an_async_approver(api) -> None:
    class Desk:
        name = "desk"

        async def arequest(self, request):
            from firewall import grant_for

            return (
                grant_for(request.call, "desk") if request.call.arguments["amount"] < 100 else None
            )

        def request(self, request):  # pragma: no cover - the async path must be used
            raise AssertionError("the blocking approver was asked")

    fw = Firewall(load_policy(POLICIES / "default.yaml"), approver=Desk())

    async def run() -> list:
        client = AsyncOpenAI(
            firewall=fw,
            api_key="t",
            base_url=api.url,
            principal=Principal(id="b", roles=("finance",)),
        )
        api.state.replies.append(
            Reply(
                completion(
                    message(
                        None,
                        [
                            function_call("p1", "send_money", {"to": "a", "amount": 5}),
                            function_call("p2", "send_money", {"to": "a", "amount": 500}),
                        ],
                    )
                )
            )
        )
        reply = await client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "pay"}]
        )
        return [c.id for c in reply.choices[0].message.tool_calls]

    assert asyncio.run(run()) == ["p1"]


def test_the_sdks_own_tool_runner_goes_through_the_firewall(api, fw) -> None:
    from openai.lib.responses_tool_runner import RegisteredFunction, ResponsesToolRunner

    def declared(name: str) -> dict:
        properties = {key: {"type": "string"} for key in ("query", "to", "body")}
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        return {"type": "function", "name": name, "parameters": schema, "strict": False}

    ran: list[str] = []
    runner = ResponsesToolRunner(
        functions=[
            RegisteredFunction(declared("search_docs"), lambda a: ran.append("search") or CUSTOMER),
            RegisteredFunction(declared("send_email"), lambda a: ran.append("mail") or "sent"),
        ]
    )
    items = [
        fc_item("c1", "search_docs", {"query": "maria"}),
        fc_item("c2", "send_email", EXTERNAL),
    ]
    api.state.replies += [
        Reply(response(*items, id="r1")),
        Reply(response(text_item("Done."), id="r2")),
    ]
    final = runner.run(client_for(api, fw), {"model": "gpt-test", "input": "Find Maria."})
    assert final.output[0].content[0].text == "Done."
    assert ran == ["search"]
    sent = last_body(api)["input"]
    by_call = {i["call_id"]: i["output"] for i in sent if i.get("type") == "function_call_output"}
    assert "denied by the firewall" in by_call["c2"]
    assert EMAIL not in by_call["c1"] and "<EMAIL_ADDRESS_1>" in by_call["c1"]


def test_the_legacy_function_call_field_is_checked(api, fw) -> None:
    client = client_for(api, fw)
    body = completion(message(None))
    body["choices"][0]["message"]["function_call"] = {
        "name": "send_email",
        "arguments": json.dumps(EXTERNAL),
    }
    body["choices"][0]["finish_reason"] = "function_call"
    api.state.replies.append(Reply(body))
    reply = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "x"}]
    )
    assert reply.choices[0].message.function_call is None
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.firewall["decisions"][0]["verdict"] == "deny"


def test_firewall_redact_gives_the_session_placeholders_and_records_nothing(fw) -> None:
    from firewall import ToolCall

    fw.after(ToolCall(name="search_docs", id="r1"), CUSTOMER, session="p1")
    events = len(fw.graph("p1").nodes())
    echoed = fw.redact(f'{{"to": "{EMAIL}"}}', session="p1", tool="send_email")
    assert echoed.output == '{"to": "<EMAIL_ADDRESS_1>"}'
    assert len(fw.graph("p1").nodes()) == events


def test_an_mcp_approval_request_is_answered_by_the_firewall(api, fw) -> None:
    client = client_for(api, fw)
    request = {
        "type": "mcp_approval_request",
        "id": "mcpr_1",
        "server_label": "crm",
        "name": "send_email",
        "arguments": json.dumps(EXTERNAL),
    }
    api.state.replies += [Reply(response(request, id="resp_M")), Reply(response(text_item("ok")))]
    reply = client.responses.create(model="gpt-test", input="mail the list")
    assert reply.output == []
    client.responses.create(model="gpt-test", previous_response_id=reply.id, input=[])
    (answer,) = last_body(api)["input"]
    assert answer["type"] == "mcp_approval_response" and answer["approve"] is False
    assert answer["approval_request_id"] == "mcpr_1"
    assert "only mail addresses at example.com" in answer["reason"]
