"""Text that crashes the bash grammar's scanner never reaches it.

tree-sitter-bash 0.25.1 reads outside a 256-entry table (``isdigit``) when a ``{`` is
followed by a character above U+00FF, and dies with SIGSEGV on some of them (found by the
property tests, which draw any unicode: ``{`` + U+F4EE8). A crashed parser
takes the agent process down with it, so such a command line must be refused before
parsing: it is not understood (``unknown``). Each case runs in a child process, where a
crash is a failed test instead of a dead test run.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT

CHILD = """
import sys
sys.path.insert(0, {root!r})
from firewall.intent.shell import _classify_safely
text = bytes.fromhex(sys.argv[1]).decode("utf-8")
for _ in range(200):  # the crash is not certain on one parse; the cache is bypassed
    result = _classify_safely(text)
print(",".join(sorted(result.intents)))
"""


@pytest.mark.parametrize(
    "text",
    [
        "{" + chr(0xF4EE8),
        "echo {" + chr(0x10FFFF),
        "a{" + chr(0xE0100),
        "ls {" + chr(0x100000) + "}",
        "{" + chr(0xE0001) + chr(0xE0041),  # tag characters
        "echo {1.." + chr(0x30000),  # the second digit loop of a brace range
        "x {12" + chr(0x5FFFF),
    ],
)
def test_text_that_crashes_the_parser_is_unknown_not_a_crash(text: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT)), text.encode().hex()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, f"the classifier process died ({child.returncode})"
    assert child.stdout.strip() == "unknown"


def test_ordinary_non_ascii_text_is_still_parsed() -> None:
    from firewall.intent.shell import classify

    texts = ('git commit -m "🎉 fertig, äöü"', "echo 日本語 > notes.txt", "ls {a,é}", "echo {é,ü}")
    for text in texts:
        assert "unknown" not in classify(text, {}).intents, text
