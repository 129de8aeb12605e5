"""HTTP classifier: where a request goes, with which method, and whether that place is internal.

A tool declaration names the argument holding the URL and how the method is known::

    fetch_url:    {classifier: http, argument: url}                         # GET
    http_request: {classifier: http, argument: url, method_argument: method}
    post_json:    {classifier: http, argument: url, method: POST}

Options: ``method`` (fixed for the tool) or ``method_argument`` (another argument of the
call; a tool that leaves it out sends GET). Without either the method is GET.

The URL is read the way the client that fetches it would read it. Where parsers disagree
on the host (a backslash or several ``@`` in the authority, an ``@`` after ``?`` or ``#``,
percent-encoded host bytes, Unicode dots such as ``。``) the client may fetch another host
than the one checked, so the URL is ``unknown``. IPv4 hosts in decimal, octal, hex
or shortened form (``http://2130706433/``, ``http://0x7f.1/``) are the addresses they
denote; an IPv6 address with an IPv4 inside (mapped, NAT64, 6to4, Teredo) is checked as
that IPv4 address; international names are compared in their ASCII (punycode) form, so a
look-alike never equals an allow-listed name. Nothing is resolved: a public name whose DNS
points at a private address is not detected here (the HTTP tool must pin resolved
addresses), except the well-known wildcard names (``127.0.0.1.nip.io``, ``localtest.me``).

Facts (``facts.http.<name>``):

- ``host``: the lower-case host (punycode; an IP in its canonical form, IPv6 without
  brackets); empty for ``file:`` URLs.
- ``domain``: the registered domain of the host (``api.github.com`` -> ``github.com``,
  ``user.github.io`` -> ``user.github.io``; public-suffix list shipped with tldextract, no
  network), or the host itself for addresses and single labels. Allowlists compare this,
  never a suffix of ``host``: ``github.com.attacker.test`` is not ``github.com``.
- ``ip``: the IP address the host denotes when it is an address (canonical), else empty.
- ``scheme``: ``http``, ``https``, ... (empty when the URL had none and ``http`` was assumed).
- ``port``: the explicit port, or the scheme's default (0 when there is none).
- ``method``: the upper-case method.
- ``path``: the URL path (still percent-encoded).
- ``private``: the host is a loopback, private, link-local, unique-local, shared,
  unspecified or otherwise non-global address, or a name for one (``localhost``,
  ``*.local``, ``*.internal``, ...).
- ``metadata_endpoint``: the host is a cloud instance metadata service.
- ``userinfo``: the URL carries a user name or password (never copied into the facts).
- ``error``: why the URL could not be read (empty when it could).

Intents: ``network.egress`` plus ``data.read`` for GET/HEAD/OPTIONS or ``data.write`` for
any other method; ``file.read`` for ``file:`` URLs; ``unknown`` for anything unreadable
or a scheme that is not a web protocol.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import tldextract

from firewall.intent import Classifier, register
from firewall.model import Classification, Intent

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WEB_SCHEMES = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_OTHER_NETWORK_SCHEMES = {"ftp": 21, "ftps": 990, "sftp": 22, "gopher": 70, "dict": 2628}
_METHOD = re.compile(r"^[A-Z][A-Z-]{0,31}$")
_MAX_URL = 16384

#: Host names of cloud instance metadata services.
METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)
#: Addresses of cloud instance metadata services.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OCI, OpenStack, ...
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("169.254.169.253"),  # AWS DNS resolver
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud classic
    }
)
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
_PRIVATE_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain"})
_LOOPBACK_NAMES = ("localtest.me", "lvh.me", "vcap.me")
_WILDCARD_DNS = (".nip.io", ".sslip.io", ".xip.io", ".traefik.me")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_V4_PART = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")

FACTS = frozenset(
    {
        "host",
        "domain",
        "ip",
        "scheme",
        "port",
        "method",
        "path",
        "private",
        "metadata_endpoint",
        "userinfo",
        "error",
    }
)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 host in any form ``inet_aton`` accepts (``127.1``, ``0x7f.0.0.1``, ``2130706433``).

    ``None`` when ``host`` is not such a number (a name); a number out of range is an
    error, as in browsers.
    """
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not parts or len(parts) > 4 or not all(_V4_PART.match(p) for p in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            if any(c in "89" for c in part):
                raise ValueError(f"'{part}' is not an octal number")
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"'{host}' is out of range for an IPv4 address")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(packed)
    return None


def address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` (brackets removed) denotes, or ``None`` for a name."""
    if ":" in host:
        return ipaddress.IPv6Address(host.split("%", 1)[0])
    return parse_ipv4(host)


def is_private_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Anything that is not a global unicast address, checked through IPv6 wrappers too."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None and is_private_address(inner):
            return True
    return not ip.is_global or ip.is_multicast


def is_metadata_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip in METADATA_ADDRESSES:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        return inner is not None and inner in METADATA_ADDRESSES
    return False


def _wildcard_dns_address(host: str) -> ipaddress.IPv4Address | None:
    """The address a wildcard-DNS name (``10.0.0.1.nip.io``, ``a-10-0-0-1.sslip.io``) maps to."""
    for suffix in _WILDCARD_DNS:
        if host.endswith(suffix):
            label = host[: -len(suffix)]
            match = re.search(r"(\d{1,3})[.-](\d{1,3})[.-](\d{1,3})[.-](\d{1,3})$", label)
            if match:
                try:
                    return ipaddress.IPv4Address(".".join(match.groups()))
                except ValueError:
                    return None
    return None


def host_facts(host: str) -> dict[str, Any]:
    """``host``, ``ip``, ``private`` and ``metadata_endpoint`` for a host taken from a URL.

    Raises ``ValueError`` for a host that is not a valid name or address.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError("the URL has no host")
    if any(c.isspace() or ord(c) < 32 or c in "<>\"'`{}|^\\" for c in host):
        raise ValueError("the host contains characters no host name may hold")
    ip = address_of(host)
    if ip is not None:
        return {
            "host": str(ip),
            "domain": str(ip),
            "ip": str(ip),
            "private": is_private_address(ip),
            "metadata_endpoint": is_metadata_address(ip),
        }
    name = host.rstrip(".")
    if not name.isascii():
        name = name.encode("idna").decode("ascii")
    if not name or any(not label for label in name.split(".")):
        raise ValueError(f"'{host}' is not a valid host name")
    private = (
        name in _PRIVATE_NAMES
        or name.endswith(_PRIVATE_SUFFIXES)
        or "." not in name  # a single label resolves through the local search domain
        or any(name == n or name.endswith("." + n) for n in _LOOPBACK_NAMES)
    )
    metadata = name in METADATA_HOSTS
    wildcard = _wildcard_dns_address(name)
    if wildcard is not None:
        private = private or is_private_address(wildcard)
        metadata = metadata or is_metadata_address(wildcard)
    return {
        "host": name,
        "domain": registered_domain(name),
        "ip": "",
        "private": private,
        "metadata_endpoint": metadata,
    }


_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def registered_domain(host: str) -> str:
    """The registered domain of a lower-case host name (``a.b.example.co.uk`` ->
    ``example.co.uk``); the host itself when it has no public suffix (``localhost``)."""
    parts = _OFFLINE_TLD(host, include_psl_private_domains=True)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def parse_url(url: str, *, assume_scheme: str = "http") -> dict[str, Any]:
    """Facts of ``url`` except the method. Raises ``ValueError`` when it cannot be read."""
    text = url.strip()
    if not text:
        raise ValueError("the URL is empty")
    if len(text) > _MAX_URL:
        raise ValueError(f"the URL is longer than {_MAX_URL} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("the URL contains control characters")
    scheme_given = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", text)
    scheme = scheme_given.group(1).lower() if scheme_given else ""
    rest = text[len(scheme) + 1 :]
    if scheme and scheme != "file" and re.match(r"^[0-9]+(?:[/?#\\]|$)", rest):
        scheme = ""  # "localhost:8080/x" or "example.com:443": a host and port, not a scheme
    if not scheme:
        text = f"{assume_scheme}://{text.lstrip('/')}"
        effective = assume_scheme
    else:
        effective = scheme
    if effective != "file":
        _parsers_agree(text)
    if effective in _WEB_SCHEMES or effective in _OTHER_NETWORK_SCHEMES:
        text = text.replace("\\", "/")  # WHATWG: a backslash is a slash in web URLs
    parts = urlsplit(text)
    if effective == "file":
        return {
            "host": (parts.hostname or "").lower(),
            "domain": "",
            "ip": "",
            "scheme": "file",
            "port": 0,
            "path": parts.path,
            "private": True,
            "metadata_endpoint": False,
            "userinfo": False,
        }
    netloc = parts.netloc
    userinfo = "@" in netloc
    hostport = netloc.rsplit("@", 1)[-1]
    host = unquote(_host_of(hostport), errors="strict")  # WHATWG decodes the host
    facts = host_facts(host)
    port = parts.port  # raises ValueError on a bad port
    if port is None:
        port = _WEB_SCHEMES.get(effective) or _OTHER_NETWORK_SCHEMES.get(effective, 0)
    return {
        **facts,
        "scheme": scheme,
        "port": port,
        "path": parts.path or "/",
        "userinfo": userinfo,
    }


#: Characters some parsers read as a dot in a host name (IDNA maps them to ".").
_UNICODE_DOTS = ("\u3002", "\uff0e", "\uff61", "\u2024", "\ufe52")


def _parsers_agree(text: str) -> None:
    """Raise ``ValueError`` when URL parsers would disagree on the host.

    Browsers and WHATWG parsers read a backslash as a slash and decode the host; curl,
    urllib and RFC 3986 parsers do neither. A URL whose host depends on which parser
    reads it (``https://a.test\\@b.test/``, ``https://github%2ecom@x``, ``github。com``)
    is one the firewall cannot judge: the client may fetch the other host.
    """
    _, sep, rest = text.partition("//")
    if not sep:
        return
    end = len(rest)
    for stop in "/?#":
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    authority = rest[:end]
    if "\\" in authority:
        raise ValueError("URL parsers disagree on the host (a backslash in the authority)")
    if authority.count("@") > 1:
        raise ValueError("URL parsers disagree on the host (several '@' in the authority)")
    host_part = authority.rsplit("@", 1)[-1]
    if "%" in host_part:
        raise ValueError("URL parsers disagree on the host (percent-encoded host bytes)")
    if any(dot in host_part for dot in _UNICODE_DOTS):
        raise ValueError("URL parsers disagree on the host (a Unicode dot)")
    tail = rest[end:]
    if "@" in tail.split("/", 1)[0] and tail[:1] in ("?", "#"):
        raise ValueError("URL parsers disagree on the host (an '@' after '?' or '#')")


def _host_of(hostport: str) -> str:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError("the IPv6 address in the URL is not closed")
        return hostport[: end + 1]
    return hostport.split(":", 1)[0]


def classify(value: Any, options: Mapping[str, Any]) -> Classification:
    """Classify a URL the call would send a request to."""
    try:
        return _classify(value, options)
    except Exception as exc:  # never raise: what cannot be read is unknown
        return _unknown(f"cannot classify the URL: {type(exc).__name__}")


def _classify(value: Any, options: Mapping[str, Any]) -> Classification:
    method = _method(options)
    if method is None:
        return _unknown("the HTTP method is not a method name")
    if not isinstance(value, str):
        return _unknown("the URL is not text", method=method)
    try:
        facts = parse_url(value)
    except (ValueError, UnicodeError) as exc:
        return _unknown(f"the URL cannot be read: {exc}", method=method)
    facts["method"] = method
    facts["error"] = ""
    scheme = facts["scheme"] or "http"
    if scheme == "file":
        return Classification(intents=frozenset({Intent.FILE_READ.value}), facts=facts)
    intents = {Intent.NETWORK_EGRESS.value}
    intents.add(Intent.DATA_READ.value if method in _READ_METHODS else Intent.DATA_WRITE.value)
    if scheme not in _WEB_SCHEMES:
        intents.add(Intent.UNKNOWN.value)
        facts["error"] = f"'{scheme}' is not a web scheme"
    return Classification(intents=frozenset(intents), facts=facts)


def _method(options: Mapping[str, Any]) -> str | None:
    name = options.get("method_argument")
    if isinstance(name, str):
        arguments = options.get("_arguments")
        raw = arguments.get(name, "GET") if isinstance(arguments, Mapping) else "GET"
        if raw is None:
            raw = "GET"
    else:
        raw = options.get("method", "GET")
    if not isinstance(raw, str):
        return None
    method = raw.strip().upper()
    return method if _METHOD.match(method) else None


def _unknown(why: str, method: str = "") -> Classification:
    return Classification.unknown(
        why,
        host="",
        domain="",
        ip="",
        scheme="",
        port=0,
        method=method,
        path="",
        private=False,
        metadata_endpoint=False,
        userinfo=False,
    )


def validate_options(options: Mapping[str, Any]) -> None:
    """Reject policy options the classifier cannot use (checked at policy load)."""
    if "method" in options and "method_argument" in options:
        raise ValueError("give either 'method' or 'method_argument', not both")
    method = options.get("method")
    if method is not None and (not isinstance(method, str) or not _METHOD.match(method.upper())):
        raise ValueError(f"method must be an HTTP method name, not {method!r}")
    arg = options.get("method_argument")
    if arg is not None and (not isinstance(arg, str) or not arg):
        raise ValueError("method_argument must name an argument of the call")


register(
    Classifier(
        name="http",
        func=classify,
        facts=FACTS,
        options=frozenset({"method", "method_argument"}),
        description="URLs: method, host, scheme, port; private and metadata addresses.",
        validate_options=validate_options,
    )
)
