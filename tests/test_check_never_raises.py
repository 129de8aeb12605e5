"""Property: ``check()`` answers every call with a decision and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firewall import Decision, Firewall, Principal, ToolCall, Verdict, load_policy
from tests.conftest import POLICIES

FIREWALL = Firewall(load_policy(POLICIES / "default.yaml"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
tool_names = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["send_email", "send_money", "search_docs", "run_sql", "run_shell"]),
)
argument_names = st.one_of(
    st.text(max_size=12), st.sampled_from(["to", "amount", "query", "command", "url", "path"])
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=tool_names,
    arguments=st.dictionaries(argument_names, json_values, max_size=5),
    roles=st.lists(st.text(max_size=8), max_size=3),
    context=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
def test_check_never_raises_on_arbitrary_calls(name, arguments, roles, context):
    decision = FIREWALL.check(
        ToolCall(name=name, arguments=arguments),
        Principal(id="p", roles=tuple(roles)),
        context,
    )
    assert isinstance(decision, Decision)
    assert decision.verdict in Verdict
    if "unknown" in decision.intents:
        assert decision.verdict is not Verdict.ALLOW


@settings(max_examples=200, deadline=None)
@given(name=tool_names, raw=st.text(max_size=200))
def test_check_never_raises_on_arbitrary_argument_text(name, raw):
    decision = FIREWALL.check(ToolCall.from_json(name, raw))
    assert isinstance(decision, Decision)
    if decision.intents == ("unknown",):
        assert decision.verdict is not Verdict.ALLOW
