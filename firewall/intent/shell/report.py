"""What the shell classifier found in one command line, collected while walking it once."""

from __future__ import annotations

from typing import Any

from firewall.intent import http, path
from firewall.model import Classification, Intent

#: Facts the shell classifier produces (``facts.shell.<name>``).
FACTS = frozenset(
    {
        "commands",
        "destructive",
        "downloads_and_executes",
        "egress_hosts",
        "egress_domains",
        "egress_host_unknown",
        "metadata_endpoint",
        "uploads",
        "reads_paths",
        "writes_paths",
        "deletes_paths",
        "sensitive",
        "sudo",
        "package_installs",
        "inline_code",
        "not_understood",
        "reads_environment",
        "sql",
        "error",
    }
)


#: URL schemes whose requests the rules understand; others (gopher, dict, file, ...) speak
#: protocols that reach other services.
_WEB_SCHEMES = frozenset({"", "http", "https"})


class Report:
    """Ordered, de-duplicated findings; turned into a ``Classification`` at the end."""

    __slots__ = (
        "commands",
        "cwd",
        "deletes",
        "destructive",
        "downloads_and_executes",
        "egress_domains",
        "egress_host_unknown",
        "egress_hosts",
        "environment",
        "errors",
        "inline_code",
        "intents",
        "metadata_endpoint",
        "package_installs",
        "reads",
        "sql",
        "sudo",
        "unmodelled",
        "uploads",
        "writes",
    )

    def __init__(self) -> None:
        self.intents: set[str] = set()
        self.commands: dict[str, None] = {}
        self.destructive: dict[str, None] = {}
        self.egress_hosts: dict[str, None] = {}
        self.egress_domains: dict[str, None] = {}
        self.uploads: dict[str, None] = {}
        self.reads: dict[str, None] = {}
        self.writes: dict[str, None] = {}
        self.deletes: dict[str, None] = {}
        self.package_installs: dict[str, None] = {}
        self.inline_code: dict[str, None] = {}
        self.unmodelled: dict[str, None] = {}
        #: The directory relative paths resolve against after ``cd`` ("" = where it runs).
        self.cwd = ""
        self.environment = False
        self.errors: list[str] = []
        self.sql: dict[str, Any] = {}
        self.downloads_and_executes = False
        self.egress_host_unknown = False
        self.metadata_endpoint = False
        self.sudo = False

    # -- recording ----------------------------------------------------------------------

    def intent(self, *intents: Intent) -> None:
        for i in intents:
            self.intents.add(i.value)

    def finding(self, what: str) -> None:
        """A destructive action, named the way a person would say it (``rm -rf``)."""
        self.destructive[what] = None

    def inline(self, language: str) -> None:
        """Program text handed to an interpreter (``python -c``, ``node -e``, piped code):
        code the firewall runs no classifier on."""
        self.intents.add(Intent.CODE_EXECUTE.value)
        self.inline_code[language] = None

    def not_understood(self, part: str) -> None:
        """A part of the line the catalog does not model (a program, option or key)."""
        self.intents.add(Intent.UNKNOWN.value)
        self.unmodelled[part] = None

    def reads_environment(self) -> None:
        """The command prints the environment, where tokens and keys live."""
        self.intents.add(Intent.FILE_READ.value)
        self.environment = True

    def resolve(self, target: str) -> str:
        """``target`` as the shell would open it: relative paths after an earlier ``cd``."""
        if not self.cwd or not target or target.startswith(("/", "~", "$HOME", "${HOME}")):
            return target
        return self.cwd.rstrip("/") + "/" + target

    def unknown(self, why: str) -> None:
        self.intents.add(Intent.UNKNOWN.value)
        if why not in self.errors:
            self.errors.append(why)

    def read(self, target: str) -> None:
        self.intents.add(Intent.FILE_READ.value)
        self.reads[self.resolve(target)] = None

    def write(self, target: str) -> None:
        self.intents.add(Intent.FILE_WRITE.value)
        target = self.resolve(target)
        self.writes[target] = None
        if path.is_system_path(_normal(target)):
            self.finding(
                "write to system path" if not target.startswith("/dev/") else "write to device"
            )

    def delete(self, target: str) -> None:
        self.intents.add(Intent.FILE_DELETE.value)
        self.deletes[self.resolve(target)] = None

    def upload(self, target: str) -> None:
        """A local file (or stdin) sent over the network."""
        self.intents.add(Intent.DATA_EXPORT.value)
        self.uploads[target] = None
        if target not in ("-", "<stdin>"):
            self.read(target)

    def egress(self, host: str | None) -> None:
        """Traffic to ``host`` (normalised like the HTTP classifier does); ``None``: unknown."""
        self.intents.add(Intent.NETWORK_EGRESS.value)
        if not host:
            self.egress_host_unknown = True
            return
        try:
            facts = http.host_facts(host)
        except (ValueError, UnicodeError):
            self.egress_host_unknown = True
            return
        self.egress_hosts[facts["host"]] = None
        self.egress_domains[facts["domain"]] = None
        if facts["metadata_endpoint"]:
            self.metadata_endpoint = True

    def egress_url(self, url: str) -> None:
        try:
            facts = http.parse_url(url)
        except (ValueError, UnicodeError):
            self.egress(None)
            return
        if facts["scheme"] == "file":
            self.read(facts["path"])
        if facts["scheme"] not in _WEB_SCHEMES:
            self.not_understood(f"a {facts['scheme']}:// URL")
        if facts["scheme"] != "file":
            self.egress(facts["host"])

    # -- result -------------------------------------------------------------------------

    def _implied_intents(self) -> None:
        """Each fact brings its intent, so rules can pre-filter on intents before any
        condition runs (``uploads`` -> ``data.export``, egress -> ``network.egress``)."""
        intents = self.intents
        if self.egress_hosts or self.egress_host_unknown or self.metadata_endpoint:
            intents.add(Intent.NETWORK_EGRESS.value)
        if self.uploads:
            intents.add(Intent.DATA_EXPORT.value)
        if self.inline_code or self.downloads_and_executes or self.package_installs:
            intents.add(Intent.CODE_EXECUTE.value)
        if self.reads or self.environment:
            intents.add(Intent.FILE_READ.value)
        if self.writes:
            intents.add(Intent.FILE_WRITE.value)
        if self.deletes:
            intents.add(Intent.FILE_DELETE.value)
        if self.unmodelled:
            intents.add(Intent.UNKNOWN.value)

    def classification(self) -> Classification:
        self._implied_intents()
        sensitive = path.categories_of(_expanded(self.reads), "read")
        if self.environment:
            sensitive.append("environment")
        for category in path.categories_of(_expanded(self.writes), "write"):
            if category not in sensitive:
                sensitive.append(category)
        for category in path.categories_of(_expanded(self.deletes), "delete"):
            if category not in sensitive:
                sensitive.append(category)
        facts = {
            "commands": list(self.commands),
            "destructive": list(self.destructive),
            "downloads_and_executes": self.downloads_and_executes,
            "egress_hosts": list(self.egress_hosts),
            "egress_domains": list(self.egress_domains),
            "egress_host_unknown": self.egress_host_unknown,
            "metadata_endpoint": self.metadata_endpoint,
            "uploads": list(self.uploads),
            "reads_paths": list(self.reads),
            "writes_paths": list(self.writes),
            "deletes_paths": list(self.deletes),
            "sensitive": sensitive,
            "sudo": self.sudo,
            "package_installs": list(self.package_installs),
            "inline_code": list(self.inline_code),
            "not_understood": list(self.unmodelled),
            "reads_environment": self.environment,
            "sql": self.sql,
            "error": "; ".join(
                [*self.errors, *(f"not understood: {part}" for part in self.unmodelled)]
            ),
        }
        return Classification(intents=frozenset(self.intents), facts=facts)


def empty_facts(error: str) -> dict[str, Any]:
    """The facts of a command line that could not be read at all."""
    report = Report()
    report.errors.append(error)
    return report.classification().facts


def _normal(target: str) -> str:
    """A path as written in a command, made comparable: ``$HOME`` is ``~``, ``//`` is ``/``."""
    for home in ("${HOME}", "$HOME"):
        if target.startswith(home):
            target = "~" + target[len(home) :]
    normal, _ = path.normalise(target)
    return normal


def _expanded(targets: dict[str, None]) -> list[str]:
    """Normalised paths, with each glob replaced by the sensitive names it could match."""
    out: list[str] = []
    for target in targets:
        normal = _normal(target)
        out.append(normal)
        if "*" in normal or "?" in normal or "[" in normal:
            out.extend(path.glob_candidates(normal))
    return out
