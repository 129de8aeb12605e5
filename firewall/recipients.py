"""Every recipient of a message: address lists split in every common form, with domains.

``to: "a@x.test, b@y.test"``, ``cc: ["Ann <a@x.test>"]``, ``bcc: "a@x.test; b@y.test\\n"``
and ``{"email": "a@x.test", "name": "Ann"}`` all name addresses; a message tool's
declaration (``recipients: [to, cc, bcc]``) says which arguments hold them, and each
address is then checked on its own. Domains compare case-insensitively on the registered
domain (``ops@Mail.Example.com`` is at ``example.com``), from the public suffix list that
ships with ``tldextract`` (never fetched at run time).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from firewall.flowkeys import canonical_email, canonical_host

_SPLIT = str.maketrans({c: " " for c in ",;\n\r\t<>()[]"})
#: Keys of an object that hold its address (``{"email": ..., "name": ...}``).
ADDRESS_FIELDS = ("email", "address", "mail", "to")


@dataclass(frozen=True)
class Recipient:
    """One address: as written, the argument it was in, its canonical form and domains."""

    written: str
    argument: str
    address: str
    domain: str
    registered_domain: str


@functools.lru_cache(maxsize=1)
def _extractor() -> Any:
    import tldextract

    # The bundled snapshot only: no download, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=4096)
def registered_domain(host: str) -> str:
    """``mail.example.co.uk`` -> ``example.co.uk`` (the host itself when there is no suffix)."""
    parts = _extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def split_addresses(value: Any) -> Iterator[str]:
    """The address-like words of an argument: strings split on , ; newlines and <>."""
    if isinstance(value, str):
        for word in value.translate(_SPLIT).split():
            if "@" in word:
                yield word.strip("\"'.:")
    elif isinstance(value, Mapping):
        for key in ADDRESS_FIELDS:
            if key in value:
                yield from split_addresses(value[key])
                return
        for item in value.values():
            yield from split_addresses(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from split_addresses(item)


def recipients(arguments: Mapping[str, Any], names: Sequence[str]) -> list[Recipient]:
    """Every address in the arguments ``names`` (missing arguments hold none)."""
    out: list[Recipient] = []
    for name in names:
        for written in split_addresses(arguments.get(name)):
            address = canonical_email(written)
            domain_part = written.rsplit("@", 1)[1].rstrip(".,;:!?>)]}'\"")
            host = canonical_host(domain_part) or domain_part.casefold()
            out.append(
                Recipient(
                    written=written,
                    argument=name,
                    address=address or written.casefold(),
                    domain=host,
                    registered_domain=registered_domain(host),
                )
            )
    return out


def message_facts(arguments: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """``facts.message``: ``recipients`` (addresses as written, lower-case), ``domains``
    (registered domains), ``count`` and ``invalid`` (words with an @ that are no address)."""
    found = recipients(arguments, names)
    return {
        "recipients": [r.written.casefold() for r in found],
        "domains": sorted({r.registered_domain for r in found}),
        "count": len(found),
        "invalid": [r.written for r in found if canonical_email(r.written) is None],
    }
