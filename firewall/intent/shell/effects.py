"""File, network, version-control, package and system commands and what they do."""

from __future__ import annotations

import re

from firewall.intent import path as paths
from firewall.intent.shell.commands import handles, passthrough, run_code
from firewall.intent.shell.options import getopt
from firewall.intent.shell.scan import (
    DOWNLOAD_STREAM,
    NO_INPUT,
    OPAQUE_STREAM,
    TEXT,
    Invocation,
    Scanner,
    Stream,
    Word,
)
from firewall.model import Intent

# -- reading ----------------------------------------------------------------------------

#: Readers: option letters that take a value, so the value is not taken for a file.
_READERS = {
    "head": "nc",
    "tail": "ncs",
    "less": "",
    "more": "",
    "wc": "",
    "stat": "c",
    "file": "m",
    "ls": "IwT",
    "ll": "",
    "dir": "",
    "tree": "LIP",
    "du": "dBt",
    "df": "Bt",
    "readlink": "",
    "realpath": "",
    "diff": "UCLFxXS",
    "cmp": "in",
    "comm": "",
    "md5sum": "",
    "sha1sum": "",
    "sha256sum": "",
    "sha512sum": "",
    "b2sum": "",
    "cksum": "",
    "od": "AjNStw",
    "xxd": "clsgo",
    "hexdump": "enCs",
    "strings": "nt",
    "nl": "bdfhilnsvw",
    "fold": "w",
    "fmt": "w",
    "column": "cstnoRHEW",
    "paste": "d",
    "join": "aejot12",
    "uniq": "fsw",
    "cut": "dfbc",
    "rev": "",
    "base64": "w",
    "zcat": "",
    "zless": "",
    "bzcat": "",
    "xzcat": "",
    "iconv": "ft",
    "lsof": "pucgd",
    "ps": "opuUgGCt",
    "pgrep": "uUgGPt",
    "pidof": "",
    "free": "s",
    "uptime": "",
    "lsblk": "o",
    "findmnt": "",
    "history": "",
    "man": "",
    "hostname": "",
    "ip": "",
    "ifconfig": "",
    "netstat": "",
    "ss": "",
    "top": "dnpu",
    "htop": "",
    "vmstat": "",
    "tr": "",
    "expand": "t",
    "unexpand": "t",
    "locate": "",
    "whereis": "",
}
#: Readers whose first operand is a pattern or program, not a file.
_PATTERN_FIRST = {
    "grep": (
        "ABCmdDef",
        {
            "--regexp",
            "--file",
            "--max-count",
            "--context",
            "--include",
            "--exclude",
            "--exclude-dir",
            "--label",
            "--color",
        },
    ),
    "egrep": ("ABCmdDef", set()),
    "fgrep": ("ABCmdDef", set()),
    "rg": (
        "ABCmegtTMjf",
        {
            "--regexp",
            "--glob",
            "--type",
            "--type-not",
            "--max-count",
            "--context",
            "--max-depth",
            "--threads",
            "--sort",
            "--color",
        },
    ),
    "ag": ("ABCmG", set()),
    "ack": ("ABCm", set()),
    "jq": ("", {"--arg", "--argjson", "--slurpfile", "--rawfile", "--indent", "-L"}),
    "yq": ("", set()),
}


def _read_operands(scan: Scanner, inv: Invocation, operands: list[Word]) -> Stream:
    for w in operands:
        if w.text != "-":
            scan.report.read(w.text)
    if any(w.download for w in operands):
        return DOWNLOAD_STREAM
    return passthrough(inv) if not operands else OPAQUE_STREAM


@handles(*_READERS)
def reader(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, _READERS.get(inv.argv[0].text.rsplit("/", 1)[-1], ""))
    return _read_operands(scan, inv, parsed.operands)


@handles(*_PATTERN_FIRST)
def pattern_reader(scan: Scanner, inv: Invocation) -> Stream:
    short, longs = _PATTERN_FIRST[inv.argv[0].text.rsplit("/", 1)[-1]]
    parsed = getopt(inv.args, short, longs)
    operands = parsed.operands
    if not parsed.has("-e", "-f", "--regexp", "--file") and operands:
        program = operands[0].text
        if inv.argv[0].text.rsplit("/", 1)[-1] in ("jq", "yq") and any(
            word in program for word in ("env", "$ENV", "input_filename", "$__prog")
        ):
            scan.report.reads_environment()  # jq's env / $ENV hold the environment
        operands = operands[1:]
    return _read_operands(scan, inv, operands)


@handles("sort")
def sort(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args,
        "ktoTS",
        {"--key", "--output", "--field-separator", "--temporary-directory", "--buffer-size"},
    )
    for out in parsed.values("-o", "--output"):
        scan.report.write(out)
    return _read_operands(scan, inv, parsed.operands)


@handles("awk", "gawk", "mawk", "nawk")
def awk(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "Fvf", {"--field-separator", "--assign", "--file"})
    operands = parsed.operands
    program = operands[0].text if operands and not parsed.has("-f", "--file") else ""
    if "system" in program or "|" in program or not (operands[0].static if operands else True):
        scan.report.intent(Intent.CODE_EXECUTE)
    if any(word in program for word in _AWK_UNMODELLED) or (operands and not operands[0].static):
        scan.report.not_understood("an awk program that runs commands, reads or writes files")
    if re.search(r"print[^;}]*>", program):
        scan.report.intent(Intent.FILE_WRITE)
    return _read_operands(scan, inv, operands[1:] if program else operands)


#: awk words that reach outside the text: commands, files, the environment.
_AWK_UNMODELLED = ("system", "|", "getline", ">", "ENVIRON", "PROCINFO", "@load", "close(")

_SED_EXEC = re.compile(r"(^|[;\n{}])\s*[0-9$,!~+]*\s*e(\s|$)|s(.).*\3.*\3[gpIiMm0-9]*e")
#: sed commands that read or write other files (r, R, w, W, and the s///w flag).
_SED_FILES = re.compile(r"(^|[;\n{}])\s*[0-9$,/]*\s*[rRwW]\s|s(.).*\2.*\2[gpIiMme0-9]*w")


@handles("sed", "gsed")
def sed(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args, "efl", {"--expression", "--file", "--line-length"}, short_attached="i"
    )
    operands = parsed.operands
    scripts = parsed.values("-e", "--expression")
    if not scripts and not parsed.has("-f", "--file") and operands:
        scripts = [operands[0].text]
        operands = operands[1:]
    if any(_SED_EXEC.search(s) for s in scripts):
        scan.report.intent(Intent.CODE_EXECUTE)
        scan.report.not_understood("a sed script that runs commands")
    if any(_SED_FILES.search(s) for s in scripts):
        scan.report.not_understood("a sed script that reads or writes other files")
    if parsed.has("-i", "--in-place"):
        for w in operands:
            scan.report.write(w.text)
        return OPAQUE_STREAM
    return _read_operands(scan, inv, operands)


# -- writing ----------------------------------------------------------------------------


@handles("tee")
def tee(scan: Scanner, inv: Invocation) -> Stream:
    for w in getopt(inv.args).operands:
        scan.report.write(w.text)
    return inv.stdin if inv.stdin.kind in (TEXT, "download") else OPAQUE_STREAM


@handles("touch", "mkdir", "truncate", "mkfifo", "mknod")
def writer(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "mrtdsZ", {"--mode", "--reference", "--size", "--date"})
    for w in parsed.operands:
        scan.report.write(w.text)
    return NO_INPUT


@handles("cp", "mv", "ln", "install", "rsync_local")
def copy(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    parsed = getopt(
        inv.args,
        "tSmogZ",
        {"--target-directory", "--suffix", "--mode", "--owner", "--group", "--backup"},
    )
    operands = parsed.operands
    target = parsed.values("-t", "--target-directory")
    if target:
        sources, dest = operands, target[-1]
    elif len(operands) >= 2:
        sources, dest = operands[:-1], operands[-1].text
    else:
        sources, dest = operands, "."
    for w in sources:
        (report.write if name == "mv" else report.read)(w.text)
    report.write(dest)
    if name in ("mv", "cp") and dest in ("/dev/null",):
        report.finding(f"{name} to /dev/null")
        for w in sources:
            report.delete(w.text)
    return NO_INPUT


@handles("tar", "bsdtar")
def tar(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    args = inv.args
    first = args[0].text if args else ""
    if first and not first.startswith("-"):
        args = [Word("-" + first, static=args[0].static), *args[1:]]
    parsed = getopt(
        args,
        "fCbTXIH",
        {
            "--file",
            "--directory",
            "--use-compress-program",
            "--to-command",
            "--checkpoint-action",
            "--exclude",
            "--files-from",
            "--transform",
            "--owner",
            "--group",
            "--mode",
            "--format",
        },
    )
    joined = " ".join(w.text for w in inv.args)
    if parsed.has("-I", "--use-compress-program", "--to-command", "--checkpoint-action") or (
        "exec=" in joined
    ):
        report.intent(Intent.CODE_EXECUTE)
    archives = parsed.values("-f", "--file")
    if parsed.has("-x", "--extract", "--get"):
        for a in archives:
            if a != "-":
                report.read(a)
        for d in parsed.values("-C", "--directory") or ["."]:
            report.write(d)
    elif parsed.has("-c", "--create", "-r", "--append", "-u", "--update"):
        for a in archives:
            if a != "-":
                report.write(a)
        for w in parsed.operands:
            report.read(w.text)
    else:
        for a in archives:
            report.read(a)
    return passthrough(inv) if "-" in archives or not archives else OPAQUE_STREAM


@handles("unzip", "gunzip", "gzip", "bzip2", "bunzip2", "xz", "unxz", "zip", "7z", "zstd")
def archiver(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "dS", {"--suffix"})
    for w in parsed.operands:
        scan.report.write(w.text)
    return passthrough(inv)


@handles("vi", "vim", "nvim", "nano", "emacs", "code", "ed", "patch")
def editor(scan: Scanner, inv: Invocation) -> Stream:
    for w in getopt(inv.args, "pdiorBDFVz").operands:
        scan.report.write(w.text)
    if not inv.args:
        scan.report.intent(Intent.FILE_WRITE)
    return NO_INPUT


# -- deleting ---------------------------------------------------------------------------


def _risky_target(text: str) -> bool:
    normal = text.replace("${HOME}", "~").replace("$HOME", "~")
    if normal.startswith("/tmp/") or normal.startswith("/var/tmp/"):
        return False
    return normal.startswith(("/", "~")) or ".." in normal.split("/")


def _top_level(text: str) -> bool:
    """``/``, ``/etc``, ``~``, ``/*``, ``~/*``: a whole system or home tree."""
    normal = text.replace("${HOME}", "~").replace("$HOME", "~").rstrip("/") or "/"
    if normal in ("~", "/", "/*", "~/*", ".", "./*", "..", "*", ".*"):
        return normal not in (".", "./*", "*", ".*") or False
    if normal.startswith("/") and len(paths.split(normal)) == 1:
        return True
    return normal.startswith("~") and "/" not in normal  # ~user


@handles("rm")
def rm(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(inv.args, "", {"--interactive"})
    recursive = parsed.has("-r", "-R", "--recursive")
    force = parsed.has("-f", "--force")
    targets = [w.text for w in parsed.operands]
    if inv.more_args_unknown:
        targets.append("<stdin>")
    for t in targets:
        report.delete(t)
    if recursive and force:
        report.finding("rm -rf")
    elif recursive:
        report.finding("rm -r")
    elif force and any(_risky_target(t) for t in targets):
        report.finding("rm -f")
    if parsed.has("--no-preserve-root"):
        report.finding("rm --no-preserve-root")
    if any(_top_level(t) for t in targets):
        report.finding("rm of a top-level directory")
    return NO_INPUT


@handles("rmdir", "unlink")
def unlink(scan: Scanner, inv: Invocation) -> Stream:
    for w in getopt(inv.args).operands:
        scan.report.delete(w.text)
    return NO_INPUT


@handles("shred", "wipe", "srm")
def shred(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(inv.args, "nsx", {"--iterations", "--size", "--random-source"})
    report.finding("shred")
    for w in parsed.operands:
        report.write(w.text)
        report.delete(w.text)
    return NO_INPUT


# -- disks and the system ---------------------------------------------------------------


@handles("dd")
def dd(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    wrote = False
    for w in inv.args:
        key, eq, value = w.text.partition("=")
        if not eq:
            continue
        if key == "if":
            report.read(value)
        elif key == "of":
            wrote = True
            report.write(value)
            if value.startswith("/dev/") and paths.is_system_path(value):
                report.finding("dd to a device")
    return NO_INPUT if wrote else passthrough(inv)


@handles(
    "mkfs",
    "mke2fs",
    "mkswap",
    "wipefs",
    "fdisk",
    "sfdisk",
    "cfdisk",
    "parted",
    "sgdisk",
    "gdisk",
    "blkdiscard",
    "hdparm",
    "badblocks",
)
def disk(scan: Scanner, inv: Invocation) -> Stream:
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    label = "mkfs" if name.startswith(("mkfs", "mke2fs")) else name
    if name in ("fdisk", "sfdisk", "cfdisk", "parted", "sgdisk", "gdisk"):
        listing = any(w.text in ("-l", "--list", "print") for w in inv.args)
        if listing:
            return OPAQUE_STREAM
        label = "partition table"
    scan.report.finding(label)
    for w in inv.args:
        if w.text.startswith("/dev/"):
            scan.report.write(w.text)
    scan.report.intent(Intent.FILE_WRITE)
    return NO_INPUT


_WORLD_WRITABLE = re.compile(r"^[0-7]*[2367]$")
_SETID = re.compile(r"^[2-7][0-7]{3}$")


@handles("chmod")
def chmod(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(inv.args, "", {"--reference"})
    operands = parsed.operands
    if not operands:
        return NO_INPUT
    mode = operands[0].text if not parsed.has("--reference") else ""
    targets = operands[1:] if mode else operands
    recursive = parsed.has("-R", "--recursive")
    world = bool(_WORLD_WRITABLE.match(mode)) or bool(
        re.search(r"(^|,)[ao]*\+[rwxXst]*w|(^|,)\+[rwxXst]*w|=.*w.*$", mode)
        and re.search(r"(^|,)(a|o|)[+=]", mode)
    )
    setid = (
        bool(_SETID.match(mode))
        or "s" in mode
        or (mode.isdigit() and len(mode) >= 4 and mode[-4] in "2367" + "4" + "5")
    )
    if setid:
        report.not_understood(f"chmod {mode}: a set-user-id or set-group-id mode")
    for w in targets:
        report.write(w.text)
    if world or setid:
        report.intent(Intent.PRIVILEGE_GRANT)
    if recursive and world:
        report.finding("chmod -R 777")
    elif recursive and any(_top_level(w.text) for w in targets):
        report.finding("chmod -R on a top-level directory")
    elif world and any(paths.is_system_path(w.text) for w in targets):
        report.finding("chmod 777 on a system path")
    return NO_INPUT


@handles("chown", "chgrp")
def chown(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    parsed = getopt(inv.args, "", {"--reference", "--from"})
    operands = parsed.operands[0 if parsed.has("--reference") else 1 :]
    for w in operands:
        report.write(w.text)
    report.intent(Intent.PRIVILEGE_GRANT)
    if parsed.has("-R", "--recursive"):
        report.finding(f"{name} -R")
    return NO_INPUT


@handles("kill", "pkill", "killall", "killall5")
def kill(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    if name == "killall5":
        report.finding("kill all processes")
        return NO_INPUT
    if name != "kill":
        report.intent(Intent.CODE_EXECUTE)
        return NO_INPUT
    args = [w.text for w in inv.args]
    if args and args[0] in ("-s", "-n"):
        args = args[2:]
    elif (args and args[0].startswith("-") and args[0] not in ("--", "-1")) or (
        args and args[0] == "-1" and len(args) > 1
    ):
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if "1" in args:
        report.finding("kill init (pid 1)")
    if "-1" in args:
        report.finding("kill all processes")
    report.intent(Intent.CODE_EXECUTE)
    return NO_INPUT


@handles("shutdown", "reboot", "halt", "poweroff")
def shutdown(scan: Scanner, inv: Invocation) -> Stream:
    if not any(w.text in ("--help", "-c") for w in inv.args):
        scan.report.finding("shutdown")
    return NO_INPUT


@handles("init", "telinit")
def init(scan: Scanner, inv: Invocation) -> Stream:
    if any(w.text in ("0", "6") for w in inv.args):
        scan.report.finding("shutdown")
    scan.report.intent(Intent.CODE_EXECUTE)
    return NO_INPUT


@handles("systemctl")
def systemctl(scan: Scanner, inv: Invocation) -> Stream:
    words = {w.text for w in getopt(inv.args, "tpHMn").operands[:1]}
    if words & {"poweroff", "reboot", "halt", "kexec", "emergency", "rescue", "suspend"}:
        scan.report.finding("shutdown")
    if words & {"stop", "disable", "mask", "kill"}:
        scan.report.finding(f"systemctl {sorted(words & {'stop', 'disable', 'mask', 'kill'})[0]}")
    if not words & {
        "status",
        "show",
        "list-units",
        "list-unit-files",
        "is-active",
        "is-enabled",
        "cat",
    }:
        scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM


@handles("crontab")
def crontab(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "u")
    if parsed.has("-r"):
        scan.report.finding("crontab -r")
        scan.report.delete("/var/spool/cron/crontabs")
    elif not parsed.has("-l"):
        scan.report.write("/var/spool/cron/crontabs")
    return OPAQUE_STREAM


@handles("iptables", "ip6tables", "nft", "ufw")
def firewall(scan: Scanner, inv: Invocation) -> Stream:
    texts = [w.text for w in inv.args]
    if (
        any(t in ("-F", "--flush", "flush") for t in texts)
        or texts[:1] == ["disable"]
        or (len(texts) >= 3 and texts[0] in ("-P", "--policy") and texts[2] == "ACCEPT")
    ):
        scan.report.finding("firewall disabled")
    scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM


@handles(
    "useradd",
    "usermod",
    "passwd",
    "chpasswd",
    "visudo",
    "gpasswd",
    "adduser",
    "groupadd",
    "setfacl",
    "setcap",
)
def accounts(scan: Scanner, inv: Invocation) -> Stream:
    scan.report.intent(Intent.PRIVILEGE_GRANT)
    return NO_INPUT


@handles("userdel", "deluser", "groupdel")
def userdel(scan: Scanner, inv: Invocation) -> Stream:
    scan.report.finding("userdel")
    scan.report.intent(Intent.PRIVILEGE_REVOKE)
    return NO_INPUT


@handles("kubectl", "oc")
def kubectl(scan: Scanner, inv: Invocation) -> Stream:
    operands = [
        w.text
        for w in getopt(
            inv.args, "nlcos", {"--namespace", "--context", "--selector", "--output"}
        ).operands
    ]
    if operands[:1] == ["delete"]:
        scan.report.finding("kubectl delete")
    scan.report.intent(Intent.CODE_EXECUTE)
    scan.report.egress(None)
    return OPAQUE_STREAM


@handles("terraform", "tofu")
def terraform(scan: Scanner, inv: Invocation) -> Stream:
    texts = [w.text for w in inv.args]
    if "destroy" in texts or "-destroy" in texts:
        scan.report.finding("terraform destroy")
    scan.report.intent(Intent.CODE_EXECUTE)
    return OPAQUE_STREAM


@handles("docker", "podman")
def docker(scan: Scanner, inv: Invocation) -> Stream:
    texts = [w.text for w in inv.args]
    if "prune" in texts or texts[:2] in (["volume", "rm"], ["volume", "remove"]):
        scan.report.finding("docker prune")
    if "--privileged" in texts or any(re.match(r"^/(:|$)", t) for t in texts):
        scan.report.intent(Intent.PRIVILEGE_GRANT)
    scan.report.intent(Intent.CODE_EXECUTE)
    return passthrough(inv)


# -- network ----------------------------------------------------------------------------

_CURL_SHORT = "AbcCdDeEFHKmoPQrtTuUwxXyYz"
_CURL_LONG = frozenset(
    [
        "--data",
        "--data-raw",
        "--data-binary",
        "--data-urlencode",
        "--data-ascii",
        "--json",
        "--form",
        "--form-string",
        "--upload-file",
        "--output",
        "--header",
        "--request",
        "--user",
        "--user-agent",
        "--referer",
        "--cookie",
        "--cookie-jar",
        "--url",
        "--proxy",
        "--config",
        "--max-time",
        "--connect-timeout",
        "--retry",
        "--resolve",
        "--connect-to",
        "--cacert",
        "--cert",
        "--key",
        "--output-dir",
        "--write-out",
        "--dump-header",
        "--range",
        "--continue-at",
        "--proxy-user",
        "--oauth2-bearer",
        "--interface",
        "--dns-servers",
        "--local-port",
        "--limit-rate",
        "--max-filesize",
        "--retry-delay",
        "--retry-max-time",
        "--variable",
        "--expand-url",
        "--expand-data",
        "--trace",
        "--trace-ascii",
        "--stderr",
    ]
)
_DATA = (
    "-d",
    "--data",
    "--data-binary",
    "--data-ascii",
    "--data-urlencode",
    "--json",
    "--data-raw",
)


@handles("curl")
def curl(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(inv.args, _CURL_SHORT, _CURL_LONG)
    urls = [w.text for w in parsed.operands] + parsed.values("--url")
    if parsed.has("-K", "--config"):
        report.egress(None)
    for url in urls:
        report.egress_url(url)
    if not urls:
        report.egress(None)
    sends = False
    for option in _DATA:
        for value in parsed.values(option):
            sends = True
            if value.startswith("@") and option != "--data-raw":
                report.upload(value[1:] or "-")
    for value in parsed.values("-F", "--form"):
        sends = True
        _, _, content = value.partition("=")
        if content.startswith(("@", "<")):
            report.upload(content[1:].split(";", 1)[0] or "-")
    for value in parsed.values("-T", "--upload-file"):
        sends = True
        report.upload(value)
    method = (parsed.values("-X", "--request") or [""])[-1].upper()
    if sends or method not in ("", "GET", "HEAD", "OPTIONS"):
        report.intent(Intent.DATA_WRITE)
    else:
        report.intent(Intent.DATA_READ)
    outputs = parsed.values("-o", "--output")
    if parsed.has("-O", "--remote-name", "--remote-name-all"):
        outputs += [u.rstrip("/").rsplit("/", 1)[-1] for u in urls]
    for out in outputs:
        if out != "-":
            report.write(out)
            scan.downloaded_files.add(out)
            scan.downloaded_files.add(out.rsplit("/", 1)[-1])
    if outputs and "-" not in outputs:
        return NO_INPUT
    return DOWNLOAD_STREAM


@handles("wget", "wget2")
def wget(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(
        inv.args,
        "OoaPeUtTwQiBlA",
        {
            "--output-document",
            "--output-file",
            "--append-output",
            "--directory-prefix",
            "--execute",
            "--user-agent",
            "--tries",
            "--timeout",
            "--wait",
            "--quota",
            "--input-file",
            "--base",
            "--level",
            "--accept",
            "--reject",
            "--header",
            "--post-data",
            "--post-file",
            "--body-data",
            "--body-file",
            "--method",
            "--user",
            "--password",
            "--http-user",
            "--http-password",
            "--referer",
            "--save-cookies",
            "--load-cookies",
            "--bind-address",
            "--limit-rate",
        },
    )
    urls = [w.text for w in parsed.operands]
    for url in urls:
        report.egress_url(url)
    if parsed.has("-i", "--input-file") or not urls:
        report.egress(None)
    for value in parsed.values("--post-file", "--body-file"):
        report.upload(value)
    method = (parsed.values("--method") or [""])[-1].upper()
    if parsed.has("--post-data", "--body-data", "--post-file", "--body-file") or method not in (
        "",
        "GET",
        "HEAD",
    ):
        report.intent(Intent.DATA_WRITE)
    else:
        report.intent(Intent.DATA_READ)
    outputs = parsed.values("-O", "--output-document")
    if not outputs:
        outputs = [u.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "index.html" for u in urls]
    for out in outputs:
        if out != "-":
            report.write(out)
            scan.downloaded_files.add(out)
            scan.downloaded_files.add(out.rsplit("/", 1)[-1])
    return DOWNLOAD_STREAM if "-" in outputs else NO_INPUT


@handles("http", "https", "xh", "xhs")
def httpie(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    operands = [
        w.text for w in getopt(inv.args, "aAo", {"--auth", "--output", "--session"}).operands
    ]
    if operands and re.fullmatch(r"[A-Z]+", operands[0]):
        method, operands = operands[0], operands[1:]
    else:
        method = ""
    if operands:
        report.egress_url(operands[0])
    items = operands[1:]
    for item in items:
        if re.search(r"[^=:]@[^@]", item) or "=@" in item or ":=@" in item:
            report.upload(item.split("@", 1)[1])
    if items or method not in ("", "GET", "HEAD", "OPTIONS"):
        report.intent(Intent.DATA_WRITE)
    else:
        report.intent(Intent.DATA_READ)
    return DOWNLOAD_STREAM


@handles("nc", "ncat", "netcat", "telnet")
def netcat(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(
        inv.args, "eciIOpqswxXTPbsgGm", {"--exec", "--sh-exec", "--lua-exec", "--source", "--proxy"}
    )
    if parsed.has("-e", "-c", "--exec", "--sh-exec", "--lua-exec"):
        report.finding("remote shell")
        report.intent(Intent.CODE_EXECUTE)
    operands = [w.text for w in parsed.operands]
    if parsed.has("-l", "--listen"):
        report.intent(Intent.NETWORK_EGRESS)
        report.egress_host_unknown = True
    else:
        report.egress(operands[0] if operands else None)
    if inv.stdin.kind != "none" or any(r.op == "<" for r in inv.redirects):
        report.upload("<stdin>")
    return DOWNLOAD_STREAM


@handles("socat")
def socat(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    addresses = [w.text for w in inv.args if not w.text.startswith("-")]
    network = False
    for address in addresses:
        kind, _, rest = address.partition(":")
        kind = kind.upper()
        if kind.startswith(("TCP", "UDP", "OPENSSL", "SSL", "SCTP")):
            network = True
            if "LISTEN" in kind:
                report.intent(Intent.NETWORK_EGRESS)
                report.egress_host_unknown = True
            else:
                report.egress(rest.split(":", 1)[0] or None)
        if kind in ("EXEC", "SYSTEM"):
            report.intent(Intent.CODE_EXECUTE)
    if network and any(a.upper().startswith(("EXEC", "SYSTEM")) for a in addresses):
        report.finding("remote shell")
    if network and any(
        a.upper().startswith(("FILE:", "OPEN:", "GOPEN:", "-", "STDIN")) or a == "-"
        for a in addresses
    ):
        report.upload("<stdin>")
    return DOWNLOAD_STREAM


def _remote(spec: str) -> str | None:
    """The host of an scp/rsync operand ``[user@]host:path`` or URL, else ``None``."""
    if "://" in spec:
        rest = spec.split("://", 1)[1]
        return rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    if spec.startswith(("/", "./", "../", "~")):
        return None
    head, colon, _ = spec.partition(":")
    if not colon or "/" in head:
        return None
    host = head.rsplit("@", 1)[-1]
    return host.strip("[]") or None


@handles("scp", "rsync", "sftp")
def copy_remote(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    if name == "rsync":
        parsed = getopt(
            inv.args,
            "efBTM",
            {
                "--rsh",
                "--exclude",
                "--include",
                "--filter",
                "--port",
                "--password-file",
                "--temp-dir",
                "--log-file",
                "--partial-dir",
                "--backup-dir",
                "--chmod",
                "--chown",
                "--exclude-from",
                "--include-from",
                "--files-from",
                "--rsync-path",
            },
        )
    else:
        parsed = getopt(inv.args, "cFiJloPSDX")
    for jump in parsed.values("-J"):
        report.egress(jump.rsplit("@", 1)[-1].split(":", 1)[0])
    operands = [w.text for w in parsed.operands]
    if name == "sftp":
        if operands:
            report.egress(_remote(operands[0] + ":") or operands[0].rsplit("@", 1)[-1])
        return OPAQUE_STREAM
    if len(operands) < 2:
        report.egress(None)
        return OPAQUE_STREAM
    *sources, dest = operands
    dest_host = _remote(dest)
    for source in sources:
        host = _remote(source)
        if host:
            report.egress(host)
        elif dest_host:
            report.upload(source)
        else:
            report.read(source)
    if dest_host:
        report.egress(dest_host)
    else:
        report.write(dest)
        if parsed.has("--delete", "--delete-before", "--delete-after", "--delete-during"):
            report.delete(dest)
    return OPAQUE_STREAM


@handles("ssh")
def ssh(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(inv.args, "BbcDEeFIiJLlmOopQRSWw", stop_at_operand=True)
    for jump in parsed.values("-J"):
        report.egress(jump.rsplit("@", 1)[-1].split(":", 1)[0])
    operands = parsed.operands
    if not operands:
        report.egress(None)
        return OPAQUE_STREAM
    target = operands[0].text
    if target.startswith("ssh://"):
        target = target[6:]
    report.egress(target.rsplit("@", 1)[-1].split(":", 1)[0].strip("[]") or None)
    remote = operands[1:]
    if remote:
        run_code(
            scan,
            inv,
            " ".join(w.text for w in remote),
            inv.stdin,
            static=all(w.static for w in remote),
            download=any(w.download for w in remote),
        )
    else:
        report.intent(Intent.CODE_EXECUTE)
    if inv.stdin.kind != "none":
        report.upload("<stdin>")
    return DOWNLOAD_STREAM


@handles("ftp", "lftp", "tftp")
def ftp(scan: Scanner, inv: Invocation) -> Stream:
    hosts = [w.text for w in getopt(inv.args, "pPuecs").operands if not w.text.startswith("-")]
    if hosts:
        scan.report.egress_url(hosts[0] if "://" in hosts[0] else "ftp://" + hosts[0])
    else:
        scan.report.egress(None)
    return DOWNLOAD_STREAM


# -- git --------------------------------------------------------------------------------

_GIT_READ = frozenset(
    [
        "status",
        "log",
        "diff",
        "show",
        "blame",
        "grep",
        "shortlog",
        "describe",
        "rev-parse",
        "rev-list",
        "ls-files",
        "ls-tree",
        "cat-file",
        "reflog",
        "whatchanged",
        "help",
        "version",
        "show-ref",
        "for-each-ref",
        "name-rev",
        "cherry",
        "merge-base",
        "count-objects",
        "fsck",
        "verify-commit",
        "check-ignore",
    ]
)
_GIT_NETWORK = frozenset({"clone", "fetch", "pull", "push", "ls-remote", "submodule", "remote"})


@handles("git")
def git(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    parsed = getopt(
        inv.args,
        "Cc",
        {"--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env"},
        stop_at_operand=True,
    )
    if parsed.has("-c", "--config-env", "--exec-path"):
        report.intent(Intent.CODE_EXECUTE)  # configuration can name programs to run
    if parsed.rest < 0:
        return OPAQUE_STREAM
    sub = inv.args[parsed.rest].text
    rest = inv.args[parsed.rest + 1 :]
    sub_opts = getopt(rest, "" if sub != "commit" else "mCcF")
    flags = sub_opts.options
    operands = [w.text for w in sub_opts.operands]
    if (
        sub in _GIT_READ
        or (sub in ("branch", "tag", "stash", "config", "remote") and not operands and not flags)
        or (sub == "stash" and operands[:1] in (["list"], ["show"]))
    ):
        report.intent(Intent.FILE_READ)
        return OPAQUE_STREAM
    if (sub in _GIT_NETWORK and sub != "remote") or (
        sub == "remote" and operands[:1] in (["update"], ["prune"])
    ):
        urls = [o for o in operands if "://" in o or _remote(o)]
        for url in urls:
            report.egress(_remote(url))
        if not urls:
            report.egress(None)
    if sub == "push":
        if {"--force", "-f", "--force-with-lease", "--force-if-includes", "--mirror"} & set(
            flags
        ) or any(o.startswith("+") for o in operands):
            report.finding("git push --force")
        if {"--delete", "-d", "--prune"} & set(flags) or any(
            o.startswith(":") and len(o) > 1 for o in operands
        ):
            report.finding("git push --delete")
        return OPAQUE_STREAM
    if sub == "reset" and "--hard" in flags:
        report.finding("git reset --hard")
    if (
        sub == "clean"
        and ({"-f", "--force"} & set(flags))
        and not ({"-n", "--dry-run"} & set(flags))
    ):
        report.finding("git clean -f")
        report.delete(".")
    if sub == "branch" and (
        "-D" in flags or ({"-d", "--delete"} & set(flags) and {"-f", "--force"} & set(flags))
    ):
        report.finding("git branch -D")
    if sub == "stash" and operands[:1] in (["clear"], ["drop"]):
        report.finding(f"git stash {operands[0]}")
    if sub in ("filter-branch", "filter-repo"):
        report.finding("git filter-branch")
    if sub in ("checkout", "restore") and ("." in operands or {"-f", "--force"} & set(flags)):
        report.finding(f"git {sub} discarding changes")
    if sub == "rm":
        for o in operands:
            report.delete(o)
        return OPAQUE_STREAM
    if sub not in _GIT_NETWORK and sub not in _GIT_KNOWN_WRITES:
        report.intent(Intent.CODE_EXECUTE)  # an alias or extension may run anything
    report.intent(Intent.FILE_WRITE)
    return OPAQUE_STREAM


_GIT_KNOWN_WRITES = frozenset(
    [
        "add",
        "commit",
        "checkout",
        "switch",
        "restore",
        "reset",
        "clean",
        "merge",
        "rebase",
        "cherry-pick",
        "revert",
        "tag",
        "branch",
        "stash",
        "init",
        "apply",
        "am",
        "mv",
        "worktree",
        "config",
        "notes",
        "bisect",
        "gc",
        "prune",
        "filter-branch",
        "filter-repo",
        "sparse-checkout",
        "lfs",
        "maintenance",
    ]
)


# -- packages ---------------------------------------------------------------------------


def _install(scan: Scanner, manager: str, packages: list[str]) -> Stream:
    report = scan.report
    for p in packages or ["<lockfile>"]:
        report.package_installs[f"{manager}:{p}"] = None
    report.intent(Intent.CODE_EXECUTE, Intent.FILE_WRITE, Intent.NETWORK_EGRESS)
    return OPAQUE_STREAM


@handles("pip", "pip3", "pipx")
def pip(scan: Scanner, inv: Invocation) -> Stream:
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    manager = "pipx" if name == "pipx" else "pip"
    parsed = getopt(
        inv.args,
        "rceti",
        {
            "--requirement",
            "--constraint",
            "--editable",
            "--target",
            "--index-url",
            "--extra-index-url",
            "--python",
            "--find-links",
            "--platform",
        },
    )
    operands = [w.text for w in parsed.operands]
    if operands[:1] in (["install"], ["run"]) or operands[:2] == ["download", ""]:
        packages = operands[1:]
        packages += [f"-r {r}" for r in parsed.values("-r", "--requirement")]
        packages += [f"-e {e}" for e in parsed.values("-e", "--editable")]
        for url in parsed.values("-i", "--index-url", "--extra-index-url"):
            scan.report.egress_url(url)
        return _install(scan, manager, packages)
    if operands[:1] == ["uninstall"]:
        scan.report.intent(Intent.FILE_DELETE)
        return OPAQUE_STREAM
    scan.report.intent(Intent.FILE_READ)
    return OPAQUE_STREAM


_INSTALL_VERBS = {
    "npm": ({"install", "i", "add", "ci", "install-test", "it", "update", "upgrade"}, "npm"),
    "pnpm": ({"install", "i", "add", "update", "up", "dlx"}, "npm"),
    "yarn": ({"add", "install", "upgrade", "dlx"}, "npm"),
    "bun": ({"add", "install", "i", "x"}, "npm"),
    "apt": ({"install", "reinstall", "upgrade", "full-upgrade", "dist-upgrade"}, "apt"),
    "apt-get": ({"install", "reinstall", "upgrade", "dist-upgrade"}, "apt"),
    "yum": ({"install", "reinstall", "update", "upgrade", "localinstall"}, "rpm"),
    "dnf": ({"install", "reinstall", "update", "upgrade"}, "rpm"),
    "zypper": ({"install", "in", "update", "up"}, "rpm"),
    "apk": ({"add", "upgrade"}, "apk"),
    "brew": ({"install", "reinstall", "upgrade", "tap"}, "brew"),
    "port": ({"install", "upgrade"}, "port"),
    "snap": ({"install", "refresh"}, "snap"),
    "flatpak": ({"install", "update"}, "flatpak"),
    "gem": ({"install", "update"}, "gem"),
    "cargo": ({"install", "add"}, "cargo"),
    "go": ({"install", "get"}, "go"),
    "conda": ({"install", "create", "update"}, "conda"),
    "mamba": ({"install", "create", "update"}, "conda"),
    "composer": ({"require", "install", "update", "global"}, "composer"),
    "poetry": ({"add", "install", "update"}, "pip"),
    "uv": ({"add", "sync", "tool", "pip", "run"}, "pip"),
    "pacman": (set(), "pacman"),
    "choco": ({"install", "upgrade"}, "choco"),
    "winget": ({"install", "upgrade"}, "winget"),
    "nix-env": (set(), "nix"),
    "cpanm": (set(), "cpan"),
    "dotnet": ({"add", "tool"}, "nuget"),
    "helm": ({"install", "upgrade"}, "helm"),
}


@handles(*_INSTALL_VERBS)
def package_manager(scan: Scanner, inv: Invocation) -> Stream:
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    verbs, manager = _INSTALL_VERBS[name]
    parsed = getopt(inv.args, "C" if name == "go" else "")
    operands = [w.text for w in parsed.operands]
    if name == "pacman" and any(o in parsed.options for o in ("-S", "-U")):
        return _install(scan, manager, operands)
    if name == "nix-env" and parsed.has("-i", "--install"):
        return _install(scan, manager, operands)
    if name == "cpanm":
        return _install(scan, manager, operands)
    if name == "uv" and operands[:2] in (["pip", "install"], ["tool", "install"]):
        return _install(scan, manager, operands[2:])
    if (name == "uv" and operands[:1] == ["pip"]) or (name == "uv" and operands[:1] == ["tool"]):
        scan.report.intent(Intent.CODE_EXECUTE)
        return OPAQUE_STREAM
    if name == "go" and operands[:1] == ["install"] and not any("@" in o for o in operands):
        scan.report.intent(Intent.CODE_EXECUTE, Intent.FILE_WRITE)  # builds local code
        return OPAQUE_STREAM
    if operands and operands[0] in verbs and not (name == "uv" and operands[0] == "run"):
        return _install(scan, manager, operands[1:])
    scan.report.intent(Intent.CODE_EXECUTE)
    return passthrough(inv)


@handles("npx", "pnpx", "bunx", "uvx")
def npx(scan: Scanner, inv: Invocation) -> Stream:
    """These fetch a package and run it."""
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    parsed = getopt(inv.args, "p", {"--package", "--from", "--with"}, stop_at_operand=True)
    packages = parsed.values("-p", "--package", "--from", "--with")
    if parsed.rest >= 0:
        packages.append(inv.args[parsed.rest].text)
    return _install(scan, "pip" if name == "uvx" else "npm", packages)
