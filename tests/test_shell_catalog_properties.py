"""hypothesis: random compositions of catalogued programs, options and bash constructs
never raise, and a line with any part the catalog does not model is never allowed."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from firewall import Firewall, ToolCall, Verdict, load_policy
from firewall.intent.shell import classify

FIREWALL = Firewall(load_policy(Path(__file__).parent.parent / "policies" / "default.yaml"))

PROGRAMS = [
    "ls",
    "cat",
    "grep",
    "git",
    "curl",
    "find",
    "sed",
    "awk",
    "tar",
    "rm",
    "env",
    "python3",
    "npm",
    "docker",
    "ssh",
    "xargs",
    "sort",
    "jq",
    "make",
    "gdb",
    "vim",
    "tmux",
    "busybox",
    "trap",
    "eval",
    "source",
    "chmod",
]
OPTIONS = [
    "-l",
    "-a",
    "-rf",
    "-n",
    "5",
    "--stat",
    "-c",
    "core.pager=sh",
    "-x",
    "-o",
    "ProxyCommand=sh",
    "--to-command=sh",
    "-exec",
    "sh",
    ";",
    "-e",
    "1e id",
    "status",
    "log",
    "run",
    "--proxy",
    "u+s",
    "4755",
    "-i",
    "--",
    "'a[$(id)]'",
]
ARGS = [
    "file.txt",
    "src/",
    ".env",
    "~/.ssh/id_rsa",
    "*.py",
    ".e?v",
    "https://github.com",
    "https://a.test\\@b.test",
    "$X",
    "$(id)",
    "'rm -rf ~'",
    "x",
]
JOINERS = [" && ", " | ", "; ", " || "]
WRAPS = [
    "{}",
    "$({})",
    "bash -c '{}'",
    "sudo {}",
    "timeout 5 {}",
    "cd ~/.ssh && {}",
    "GIT_PAGER=sh {}",
    "(( {} ))",
    "[[ $x -eq 1 ]] && {}",
    "x='a[$(id)]'; {}",
]

command = st.builds(
    lambda p, o, a: " ".join([p, *o, *a]),
    st.sampled_from(PROGRAMS),
    st.lists(st.sampled_from(OPTIONS), max_size=3),
    st.lists(st.sampled_from(ARGS), max_size=2),
)
line = st.builds(
    lambda parts, joiners, wrap: wrap.format(
        "".join(p + j for p, j in zip(parts, joiners, strict=False)) + parts[-1]
        if len(parts) > 1
        else parts[0]
    ),
    st.lists(command, min_size=1, max_size=3),
    st.lists(st.sampled_from(JOINERS), min_size=2, max_size=2),
    st.sampled_from(WRAPS),
)


@settings(max_examples=400, deadline=None)
@given(line)
def test_compositions_never_raise_and_not_understood_is_never_allowed(text: str) -> None:
    result = classify(text, {})
    assert isinstance(result.facts["not_understood"], list)
    decision = FIREWALL.check(ToolCall(name="run_shell", arguments={"command": text}))
    if result.facts["not_understood"] or "unknown" in result.intents:
        assert decision.verdict != Verdict.ALLOW, (text, result.facts["not_understood"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc-=$()'\"{}[]|&;<> \\\n*?~./@!`", max_size=60))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = classify(text, {})
    if "unknown" in result.intents:
        assert result.facts["error"]
