"""Cloud, cluster, database and service command-line tools: the subcommands that destroy.

``aws s3 rm --recursive``, ``gh repo delete``, ``helm uninstall``, ``dropdb``,
``redis-cli FLUSHALL``: one word each away from an everyday command, so the subcommand is
what decides. Cloud CLIs also reach hosts the command line does not name: their egress
is recorded with an unknown host.
"""

from __future__ import annotations

from firewall.intent.shell.commands import handles
from firewall.intent.shell.options import getopt
from firewall.intent.shell.scan import NO_INPUT, OPAQUE_STREAM, Invocation, Scanner, Stream
from firewall.model import Intent

#: Operation words of cloud CLIs that remove, end or wipe something.
_DESTRUCTIVE_PREFIXES = ("delete", "remove", "terminate", "deregister", "destroy", "purge")


def _operands(inv: Invocation) -> list[str]:
    return [w.text for w in inv.args if not w.text.startswith("-")]


def _destroys(word: str) -> bool:
    return word.lower().startswith(_DESTRUCTIVE_PREFIXES)


@handles("aws")
def aws(scan: Scanner, inv: Invocation) -> Stream:
    # Option values (``--region us-east-1``) stand among the words: look at the first few.
    words = _operands(inv)[:4]
    s3_removal = "s3" in words and ("rm" in words or "rb" in words)
    removal = "s3 rm" if "rm" in words else "s3 rb"
    operation = next((w for w in words if _destroys(w)), removal if s3_removal else "")
    if operation:
        scan.report.finding(f"aws {operation}")
    scan.report.intent(Intent.CODE_EXECUTE)
    scan.report.egress(None)
    return OPAQUE_STREAM


@handles("gcloud", "az", "doctl", "flyctl", "heroku")
def cloud(scan: Scanner, inv: Invocation) -> Stream:
    destroying = [w for w in _operands(inv) if _destroys(w) or w in ("rm", "destroy")]
    if destroying:
        scan.report.finding(f"{inv.argv[0].text} {destroying[0]}")
    scan.report.intent(Intent.CODE_EXECUTE)
    scan.report.egress(None)
    return OPAQUE_STREAM


@handles("gh")
def github(scan: Scanner, inv: Invocation) -> Stream:
    words = _operands(inv)
    if "delete" in words[:3]:
        scan.report.finding("gh " + " ".join(words[: words.index("delete") + 1]))
    scan.report.intent(Intent.CODE_EXECUTE)
    scan.report.egress("api.github.com")
    return OPAQUE_STREAM


@handles("helm")
def helm(scan: Scanner, inv: Invocation) -> Stream:
    if _operands(inv)[:1] in (["uninstall"], ["delete"], ["del"], ["un"]):
        scan.report.finding("helm uninstall")
    scan.report.intent(Intent.CODE_EXECUTE)
    scan.report.egress(None)
    return OPAQUE_STREAM


@handles("dropdb", "dropuser", "mysqladmin")
def drop_database(scan: Scanner, inv: Invocation) -> Stream:
    name = inv.argv[0].text
    if name != "mysqladmin" or {"drop", "shutdown"} & {w.lower() for w in _operands(inv)}:
        scan.report.finding(name if name != "mysqladmin" else "mysqladmin drop")
        scan.report.intent(Intent.SCHEMA_DROP)
    scan.report.intent(Intent.CODE_EXECUTE)
    return NO_INPUT


@handles("redis-cli", "valkey-cli")
def redis(scan: Scanner, inv: Invocation) -> Stream:
    first = getopt(inv.args, "hpansu").operands[:1]
    command = first[0].text.lower() if first else ""
    if command in ("flushall", "flushdb", "shutdown", "del", "unlink"):
        scan.report.finding(f"redis {command.upper()}")
        scan.report.intent(Intent.DATA_DELETE)
    scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM


@handles("mongo", "mongosh")
def mongo(scan: Scanner, inv: Invocation) -> Stream:
    if any(w.text == "--eval" or w.text.startswith("--eval=") for w in inv.args):
        scan.report.inline("mongo")
    scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM


@handles("service")
def service(scan: Scanner, inv: Invocation) -> Stream:
    if any(w.text in ("stop", "restart") for w in inv.args[1:2]):
        scan.report.finding("service stop")
    scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM
