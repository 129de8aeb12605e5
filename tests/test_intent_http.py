"""The HTTP classifier: method -> read or write, where the request goes, and whether that
place is internal, however the URL spells it."""

from __future__ import annotations

import pytest

from firewall.intent import get_classifier
from firewall.intent.http import classify


def http(url: object, **options: object):
    return classify(url, options)


@pytest.mark.parametrize(
    ("method", "intent"),
    [
        ("GET", "data.read"),
        ("head", "data.read"),
        ("OPTIONS", "data.read"),
        ("POST", "data.write"),
        ("PUT", "data.write"),
        ("DELETE", "data.write"),
        ("PATCH", "data.write"),
        ("PROPFIND", "data.write"),
    ],
)
def test_method_decides_read_or_write(method: str, intent: str) -> None:
    result = http("https://api.example.com/v1/items", method=method)
    assert result.intents == {intent, "network.egress"}
    assert result.facts["method"] == method.upper()


def test_method_from_another_argument() -> None:
    options = {"method_argument": "method", "_arguments": {"url": "x", "method": "delete"}}
    assert "data.write" in classify("https://example.com/a", options).intents
    missing = {"method_argument": "method", "_arguments": {"url": "x"}}
    assert classify("https://example.com/a", missing).facts["method"] == "GET"
    bad = {"method_argument": "method", "_arguments": {"method": ["GET"]}}
    assert classify("https://example.com/a", bad).intents == {"unknown"}


def test_host_scheme_port_path() -> None:
    f = http("https://API.Example.com:8443/v1/users?id=3#top").facts
    assert (f["host"], f["scheme"], f["port"], f["path"]) == (
        "api.example.com",
        "https",
        8443,
        "/v1/users",
    )
    assert http("http://example.com").facts["port"] == 80
    assert http("example.com/x").facts["host"] == "example.com"
    assert http("localhost:8080/health").facts["port"] == 8080


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:9200/_cat",
        "http://app.localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/admin",
        "http://[::1]/",
        "http://[fc00::1]/",
        "http://0.0.0.0:8000/",
        "http://0/",
        "http://2130706433/",  # decimal 127.0.0.1
        "http://0x7f000001/",  # hex
        "http://0177.0.0.1/",  # octal
        "http://127.1/",  # shortened
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:7f00:1]/",
        "http://127.0.0.1.nip.io/",  # wildcard DNS
        "http://db.internal/",
        "http://printer.local/",
        "http://intranet/",
        "http://100.64.0.1/",  # shared address space
    ],
)
def test_private_addresses_are_flagged(url: str) -> None:
    result = http(url)
    assert result.facts["private"] is True, result.facts
    assert "network.egress" in result.intents


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://2852039166/",  # 169.254.169.254 in decimal
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://0251.0376.0251.0376/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64
        "http://169.254.169.254.nip.io/",
    ],
)
def test_metadata_endpoints_are_flagged(url: str) -> None:
    facts = http(url).facts
    assert facts["metadata_endpoint"] is True, facts
    assert facts["private"] is True


@pytest.mark.parametrize(
    "url", ["https://example.com/", "https://8.8.8.8/", "https://[2606:4700::1111]/"]
)
def test_public_addresses_are_not_flagged(url: str) -> None:
    facts = http(url).facts
    assert facts["private"] is False and facts["metadata_endpoint"] is False


def test_userinfo_does_not_hide_the_host() -> None:
    assert http("http://good.test@evil.test/").facts["host"] == "evil.test"


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.test\\@good.test/",  # browsers: evil.test; curl: good.test
        "https://github.com\\@attacker.test/",
        "http://a@b@evil.test/",  # several '@'
        "http://%31%32%37.0.0.1/",  # percent-encoded host bytes
        "https://git%68ub.com/",
        "http://[fe80::1%25eth0]/",  # a zone id: parsers differ
        "https://github\u3002com/",  # an ideographic full stop
        "https://github\uff0ecom/",  # a fullwidth full stop
        "https://github.com#@attacker.test/",
        "https://github.com?@attacker.test/",
    ],
)
def test_urls_parsers_disagree_on_are_unknown(url: str) -> None:
    result = http(url)
    assert result.intents == frozenset({"unknown"}), result.facts
    assert "disagree" in result.facts["error"]


def test_credentials_in_the_url_are_flagged_but_not_copied() -> None:
    facts = http("https://deploy:s3cr3t@registry.example.com/v2/").facts
    assert facts["userinfo"] is True
    assert "s3cr3t" not in repr(facts)
    assert http("https://registry.example.com/").facts["userinfo"] is False


def test_look_alike_hosts_are_compared_in_ascii() -> None:
    # Cyrillic ie and ha: never equal to the ASCII name an allowlist holds
    host = http("https://\u0435\u0445ample.com/").facts["host"]
    assert host.startswith("xn--") and host != "example.com"


def test_file_urls_are_file_reads() -> None:
    result = http("file:///etc/passwd")
    assert result.intents == {"file.read"}
    assert result.facts["path"] == "/etc/passwd"


def test_other_schemes_are_unknown() -> None:
    result = http("gopher://example.com:70/_GET")
    assert "unknown" in result.intents and result.facts["scheme"] == "gopher"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "http://",
        "http://[::1",
        "http://999.0.0.1/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://a..b/",
        "http://x.test/\x00",
        None,
        7,
        ["http://x"],
    ],
)
def test_unreadable_urls_are_unknown(value: object) -> None:
    result = http(value)
    assert result.intents == {"unknown"}
    assert result.facts["error"]


def test_options_are_checked_at_policy_load() -> None:
    validate = get_classifier("http").validate_options
    assert validate is not None
    validate({"method": "POST"})
    with pytest.raises(ValueError):
        validate({"method": "POST", "method_argument": "m"})
    with pytest.raises(ValueError):
        validate({"method": "not a method"})


def test_registered_with_every_fact_it_produces() -> None:
    facts = get_classifier("http").facts
    assert set(http("https://example.com").facts) == facts
    assert set(http(None).facts) == facts


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://API.GitHub.com/repos", "github.com"),
        ("https://files.pythonhosted.org/x", "pythonhosted.org"),
        ("https://github.com.attacker.test/", "github.com.attacker.test"),
        ("https://evilgithub.com/", "evilgithub.com"),
        ("https://user.github.io/", "user.github.io"),  # a public suffix: each user apart
        ("https://a.b.example.co.uk/", "example.co.uk"),
        ("http://127.0.0.1:8000/", "127.0.0.1"),
    ],
)
def test_domain_is_the_registered_domain_in_lower_case(url: str, domain: str) -> None:
    assert http(url).facts["domain"] == domain
