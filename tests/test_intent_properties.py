"""No classifier ever raises, whatever text it is given, and what it cannot read is unknown."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firewall.intent.http import classify as http
from firewall.intent.path import classify as path
from firewall.intent.shell import classify as shell

# Text shaped like shell and URLs is far likelier to reach deep code than random unicode.
_SHELL_ALPHABET = string.ascii_letters + string.digits + " \t\n-_./~*?[]{}()<>|&;$`'\"\\=:@#!%+,"
shellish = st.text(alphabet=_SHELL_ALPHABET, max_size=200)
any_text = st.text(max_size=300)
values = st.one_of(
    any_text,
    st.none(),
    st.integers(),
    st.lists(any_text, max_size=5),
    st.dictionaries(any_text, any_text, max_size=3),
    st.binary(max_size=50),
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(shellish, values))
def test_shell_never_raises(value: object) -> None:
    result = shell(value, {})
    assert set(result.facts) >= {"commands", "destructive", "error"}
    if "unknown" in result.intents:
        assert result.facts["error"]
    if result.facts["error"]:
        assert "unknown" in result.intents


@SETTINGS
@given(shellish)
def test_shell_text_that_does_not_parse_is_unknown(text: str) -> None:
    from firewall.intent.shell.parse import parse

    if text.strip() and "\x00" not in text and parse(text.encode()).root_node.has_error:
        assert "unknown" in shell(text, {}).intents


_URL_ALPHABET = string.ascii_letters + string.digits + ":/?#[]@!$&'()*+,;=%.-_~\\ "
urlish = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "", "file://", "HTTP://", "ftp://", "//"]),
    st.text(alphabet=_URL_ALPHABET, max_size=80),
)


@SETTINGS
@given(st.one_of(urlish, values), st.sampled_from([{}, {"method": "POST"}]))
def test_http_never_raises(value: object, options: dict) -> None:
    result = http(value, options)
    if "unknown" in result.intents:
        assert result.facts["error"]
    else:
        assert result.facts["host"] or result.facts["scheme"] == "file"


pathish = st.text(alphabet=string.ascii_letters + "./~\\-_ \x00\n", max_size=80)


@SETTINGS
@given(st.one_of(pathish, values), st.sampled_from([{}, {"base": "/srv/w", "operation": "delete"}]))
def test_path_never_raises(value: object, options: dict) -> None:
    result = path(value, options)
    if "unknown" in result.intents:
        assert result.facts["error"]
    else:
        assert result.intents <= {"file.read", "file.write", "file.delete"}
        assert all("\x00" not in p for p in result.facts["paths"])
