"""What each command does: dispatch, wrappers, interpreters and SQL clients.

``run`` is called for every simple command the walk meets. Wrappers (``sudo``, ``env``,
``xargs``, ...) peel their own options and run the command they wrap; interpreters
(``sh -c``, ``eval``, ``bash <<EOF``) walk the code they are given; SQL clients hand
their statements to the SQL classifier. File, network and system commands live in
``effects``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from firewall import intent as classifiers
from firewall.intent.shell import catalog
from firewall.intent.shell.options import getopt
from firewall.intent.shell.report import Report
from firewall.intent.shell.scan import (
    DOWNLOAD,
    DOWNLOAD_STREAM,
    NO_INPUT,
    NONE,
    OPAQUE,
    OPAQUE_STREAM,
    TEXT,
    Invocation,
    Scanner,
    Stream,
    Word,
)
from firewall.model import Intent

Handler = Callable[[Scanner, Invocation], Stream]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = func
        return func

    return register


_VERSIONED = re.compile(r"^(python|pip|perl|ruby|node|php|lua)[0-9.]*$")


def command_name(word: Word) -> str:
    """The program a command word names: ``/usr/bin/rm`` -> ``rm``, ``python3.12`` kept."""
    return word.text.rsplit("/", 1)[-1]


def run(scan: Scanner, inv: Invocation) -> Stream:
    """Classify one simple command; return what it writes to stdout."""
    report = scan.report
    head = inv.argv[0]
    if not head.static:
        report.unknown("a variable or substitution in command position")
        if head.download:
            report.downloads_and_executes = True
            report.intent(Intent.CODE_EXECUTE)
        return OPAQUE_STREAM
    if head.glob or head.brace or not head.text:
        report.unknown("the command name is a pattern bash would expand")
        return OPAQUE_STREAM
    name = command_name(head)
    report.commands[name] = None
    if name in scan.active_functions:
        scan.functions[name] += 2 if inv.in_pipeline else 1
        return OPAQUE_STREAM
    if name in scan.functions and "/" not in head.text:
        return OPAQUE_STREAM  # a function defined on this line: its body was walked
    if "/" in head.text and not head.text.startswith(_SYSTEM_BIN):
        return _run_path(scan, inv, head.text)
    if name in catalog.catalog().programs:
        catalog.check(scan, inv, name)
    else:
        match = _VERSIONED.match(name)
        catalog.check(scan, inv, match.group(1) if match else name)
    handler = HANDLERS.get(name)
    if handler is None:
        match = _VERSIONED.match(name)
        if match:
            handler = HANDLERS.get(match.group(1))
        elif name.startswith(("mkfs.", "mkfs")):
            handler = HANDLERS.get("mkfs")
    if handler is None:
        return run_program(scan, inv)
    return handler(scan, inv)


_SYSTEM_BIN = ("/bin/", "/usr/bin/", "/usr/local/bin/", "/sbin/", "/usr/sbin/")


def _run_path(scan: Scanner, inv: Invocation, path: str) -> Stream:
    """A program named by a path: a project script is code the project owns; anything
    outside the project, or written by this very line, is not understood."""
    report = scan.report
    resolved = report.resolve(path)
    parts = resolved.split("/")
    if (
        path.startswith(("/", "~", "$"))
        or ".." in parts
        or report.cwd.startswith(("/", "~"))
        or _written(report, path)
    ):
        report.not_understood(f"{path}: a program outside the project or written by this line")
    return run_program(scan, inv)


def _written(report: Report, path: str) -> bool:
    """Whether this line wrote ``path`` before running it (``echo ... > x.sh; ./x.sh``)."""
    target = posixpath.normpath(report.resolve(path))
    return any(posixpath.normpath(w) == target for w in report.writes)


def run_program(scan: Scanner, inv: Invocation) -> Stream:
    """A program the classifier does not model: it executes code of its own."""
    report = scan.report
    report.intent(Intent.CODE_EXECUTE)
    head = inv.argv[0].text
    if head in scan.downloaded_files or _basename(head) in scan.downloaded_files:
        report.downloads_and_executes = True
    return passthrough(inv)


def passthrough(inv: Invocation) -> Stream:
    """stdout of a filter: downloaded content stays downloaded content."""
    return DOWNLOAD_STREAM if inv.stdin.kind == DOWNLOAD else OPAQUE_STREAM


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


# -- commands with no effect, and readers -----------------------------------------------

_NO_EFFECT = [
    "true",
    "false",
    ":",
    "test",
    "[",
    "[[",
    "pwd",
    "popd",
    "dirs",
    "export",
    "unset",
    "set",
    "shopt",
    "read",
    "exit",
    "return",
    "shift",
    "sleep",
    "wait",
    "date",
    "whoami",
    "id",
    "uname",
    "seq",
    "expr",
    "basename",
    "dirname",
    "which",
    "type",
    "hash",
    "help",
    "cal",
    "bc",
    "dc",
    "nproc",
    "getconf",
    "tty",
    "logname",
    "groups",
    "printenv",
    "locale",
    "arch",
    "ulimit",
    "umask",
    "trap",
    "jobs",
    "fg",
    "bg",
    "disown",
    "let",
    "local",
    "declare",
    "typeset",
    "readonly",
    "clear",
]


@handles(*_NO_EFFECT)
def no_effect(scan: Scanner, inv: Invocation) -> Stream:
    return OPAQUE_STREAM if inv.argv[0].text not in ("true", "false", ":") else NO_INPUT


@handles("cd", "pushd")
def cd(scan: Scanner, inv: Invocation) -> Stream:
    """Relative paths of later commands resolve against the new directory."""
    report = scan.report
    targets = [w for w in inv.args if not (w.static and w.text.startswith("-") and w.text != "-")]
    if not targets:
        report.cwd = "~"
    elif not targets[0].static or targets[0].text == "-":
        report.not_understood("cd to a directory the line does not name")
    else:
        report.cwd = report.resolve(targets[0].text).rstrip("/") or "/"
    return NO_INPUT


@handles("echo", "printf")
def echo(scan: Scanner, inv: Invocation) -> Stream:
    args = inv.args
    if inv.argv[0].text == "echo":
        while args and args[0].static and re.fullmatch(r"-[neE]+", args[0].text):
            args = args[1:]
        if all(a.static for a in args):
            return Stream(TEXT, " ".join(a.text for a in args) + "\n")
    elif args and all(a.static for a in args) and "%" not in args[0].text:
        return Stream(TEXT, args[0].text.replace("\\n", "\n"))
    if any(a.download for a in args):
        return DOWNLOAD_STREAM
    return OPAQUE_STREAM


@handles("cat", "tac")
def cat(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args)
    files = [w for w in parsed.operands if w.text != "-"]
    for w in files:
        scan.report.read(w.text)
    if any(w.download for w in files):
        return DOWNLOAD_STREAM
    if not files and inv.stdin.kind in (TEXT, DOWNLOAD):
        return inv.stdin
    return OPAQUE_STREAM


# -- wrappers -------------------------------------------------------------------------


def wrapped(scan: Scanner, inv: Invocation, start: int, **changes: Any) -> Stream:
    """Run the command that starts at argument ``start`` (index into ``inv.argv``)."""
    if start <= 0 or start >= len(inv.argv):
        return OPAQUE_STREAM
    return run(scan, inv.shifted(start, **changes))


@handles("sudo", "doas", "run0")
def sudo(scan: Scanner, inv: Invocation) -> Stream:
    scan.report.sudo = True
    parsed = getopt(
        inv.args,
        "ugCDhprtUTa",
        {
            "--user",
            "--group",
            "--host",
            "--prompt",
            "--chdir",
            "--close-from",
            "--role",
            "--type",
            "--other-user",
            "--command-timeout",
        },
        stop_at_operand=True,
    )
    if parsed.has("-e", "--edit"):
        for w in parsed.operands:
            scan.report.write(w.text)
        return NO_INPUT
    if parsed.rest < 0:
        if parsed.has("-i", "-s", "--login", "--shell"):
            scan.report.intent(Intent.CODE_EXECUTE)  # an interactive root shell
        return NO_INPUT
    return wrapped(scan, inv, parsed.rest + 1)


@handles("su", "runuser")
def su(scan: Scanner, inv: Invocation) -> Stream:
    scan.report.sudo = True
    texts = [w.text for w in inv.args]
    if inv.argv[0].text.endswith("runuser") and "--" in texts:
        return wrapped(scan, inv, texts.index("--") + 2)
    parsed = getopt(
        inv.args,
        "cgGsuwC",
        {
            "--command",
            "--group",
            "--shell",
            "--user",
            "--session-command",
            "--whitelist-environment",
        },
    )
    code = parsed.values("-c", "--command", "--session-command", "-C")
    if code:
        return run_code(scan, inv, code[-1], inv.stdin)
    scan.report.intent(Intent.CODE_EXECUTE)  # a shell as another user
    return run_stdin_code(scan, inv, shell=True) if inv.stdin.kind != NONE else OPAQUE_STREAM


@handles("env")
def env(scan: Scanner, inv: Invocation) -> Stream:
    args = inv.args
    i = 0
    while i < len(args):
        text = args[i].text
        if text in ("-u", "--unset", "-C", "--chdir"):
            i += 2
            continue
        if text in ("-S", "--split-string") and i + 1 < len(args):
            return run_code(
                scan,
                inv,
                " ".join(w.text for w in args[i + 1 :]),
                inv.stdin,
                static=all(w.static for w in args[i + 1 :]),
            )
        if text.startswith("--split-string=") or (text.startswith("-S") and len(text) > 2):
            body = text.split("=", 1)[1] if text.startswith("--") else text[2:]
            rest = " ".join([body, *(w.text for w in args[i + 1 :])])
            return run_code(scan, inv, rest, inv.stdin)
        if text.startswith("-") and args[i].static and text != "-":
            i += 1
            continue
        if "=" in text and not text.startswith("="):
            i += 1
            continue
        return wrapped(scan, inv, i + 1)
    return OPAQUE_STREAM  # env alone prints the environment


def _skip_then_run(options: str, longs: set[str], operands_before: int = 0) -> Handler:
    """A wrapper with options, then ``operands_before`` operands of its own, then a command."""

    def handler(scan: Scanner, inv: Invocation) -> Stream:
        parsed = getopt(inv.args, options, longs, stop_at_operand=True)
        if parsed.rest < 0:
            return OPAQUE_STREAM
        return wrapped(scan, inv, parsed.rest + 1 + operands_before)

    return handler


for _names, _short, _long, _before in (
    (("nohup", "setsid", "builtin", "unbuffer", "caffeinate", "dbus-run-session"), "", set(), 0),
    (("time",), "fo", {"--format", "--output"}, 0),
    (("nice",), "n", {"--adjustment"}, 0),
    (("ionice",), "cnpP", {"--class", "--classdata", "--pid", "--pgid"}, 0),
    (("timeout",), "sk", {"--signal", "--kill-after"}, 1),
    (("stdbuf",), "ioe", {"--input", "--output", "--error"}, 0),
    (("taskset",), "", set(), 1),
    (("chroot",), "", {"--userspec", "--groups"}, 1),
    (("strace", "ltrace"), "oepsuEIbP", set(), 0),
    (("torsocks", "proxychains", "proxychains4", "tsocks"), "f", set(), 0),
    (("systemd-run",), "pEuM", {"--unit", "--property", "--uid", "--gid", "--setenv"}, 0),
):
    handles(*_names)(_skip_then_run(_short, _long, _before))


@handles("command")
def command(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, stop_at_operand=True)
    if parsed.has("-v", "-V") or parsed.rest < 0:
        return OPAQUE_STREAM
    return wrapped(scan, inv, parsed.rest + 1)


@handles("exec")
def exec_(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "a", stop_at_operand=True)
    if parsed.rest < 0:
        return NO_INPUT  # exec with only redirects: they were recorded
    return wrapped(scan, inv, parsed.rest + 1)


@handles("xargs")
def xargs(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args,
        "ILnPsdEa",
        {
            "--replace",
            "--max-lines",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--delimiter",
            "--eof",
            "--arg-file",
            "--process-slot-var",
        },
        stop_at_operand=True,
    )
    if parsed.rest < 0:
        return OPAQUE_STREAM  # xargs alone runs echo
    return wrapped(scan, inv, parsed.rest + 1, more_args_unknown=True)


@handles("flock")
def flock(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args, "wEc", {"--timeout", "--conflict-exit-code", "--command"}, stop_at_operand=True
    )
    code = parsed.values("-c", "--command")
    if code:
        return run_code(scan, inv, code[-1], inv.stdin)
    if parsed.rest < 0:
        return OPAQUE_STREAM
    return wrapped(scan, inv, parsed.rest + 2)


@handles("watch")
def watch(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(inv.args, "nq", {"--interval", "--equexit"}, stop_at_operand=True)
    if parsed.rest < 0:
        return OPAQUE_STREAM
    words = inv.args[parsed.rest :]
    return run_code(
        scan, inv, " ".join(w.text for w in words), NO_INPUT, static=all(w.static for w in words)
    )


@handles("find")
def find(scan: Scanner, inv: Invocation) -> Stream:
    """``find``: roots are read; ``-delete`` deletes; ``-exec`` runs a command per file."""
    report = scan.report
    args = inv.args
    i = 0
    while i < len(args) and args[i].text in ("-H", "-L", "-P", "-O", "-D"):
        i += 1
    roots = []
    while i < len(args) and not args[i].text.startswith(("-", "(", "!", ")")):
        roots.append(args[i])
        i += 1
    root = roots[0].text if len(roots) == 1 else "."
    for r in roots:
        report.read(r.text)
    while i < len(args):
        text = args[i].text
        if text == "-delete":
            report.finding("find -delete")
            for r in roots or [Word(".")]:
                report.delete(r.text)
        elif text in ("-exec", "-execdir", "-ok", "-okdir"):
            end = i + 1
            while end < len(args) and args[end].text not in (";", "+"):
                end += 1
            command_words = [Word(root) if w.text == "{}" else w for w in args[i + 1 : end]]
            if command_words:
                sub = Invocation(command_words, inv.redirects, NO_INPUT, inv.depth)
                run(scan, sub)
            i = end
        elif text in ("-fprint", "-fprint0", "-fprintf", "-fls") and i + 1 < len(args):
            report.write(args[i + 1].text)
            i += 1
        i += 1
    return OPAQUE_STREAM


# -- interpreters ---------------------------------------------------------------------

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish", "busybox"})


def run_code(
    scan: Scanner,
    inv: Invocation,
    code: str,
    stdin: Stream,
    *,
    static: bool = True,
    download: bool = False,
) -> Stream:
    """Walk shell ``code`` handed to an interpreter (``sh -c``, ``eval``, ``su -c``)."""
    if download:
        scan.report.downloads_and_executes = True
        scan.report.intent(Intent.CODE_EXECUTE)
        return OPAQUE_STREAM
    if not static:
        scan.report.unknown("shell code built at run time (a variable or substitution)")
        scan.report.intent(Intent.CODE_EXECUTE)
        return OPAQUE_STREAM
    return scan.script(code, stdin, inv.depth + 1)


def run_stdin_code(scan: Scanner, inv: Invocation, shell: bool) -> Stream:
    """An interpreter reading its program from stdin."""
    stdin = inv.stdin
    if stdin.kind == DOWNLOAD:
        scan.report.downloads_and_executes = True
        scan.report.intent(Intent.CODE_EXECUTE)
        return OPAQUE_STREAM
    if stdin.kind == TEXT and shell:
        return scan.script(stdin.text, NO_INPUT, inv.depth + 1)
    scan.report.intent(Intent.CODE_EXECUTE)
    if stdin.kind == OPAQUE and shell:
        scan.report.unknown("a shell runs a script piped from a source the firewall cannot see")
    return OPAQUE_STREAM


def run_script_file(scan: Scanner, word: Word) -> None:
    """An interpreter running a script file (or ``<(...)``)."""
    scan.report.intent(Intent.CODE_EXECUTE)
    if word.download or word.text in scan.downloaded_files:
        scan.report.downloads_and_executes = True
    elif word.static:
        scan.report.read(word.text)
    text = word.text
    if (
        not word.static
        or text.startswith(("/dev/", "/proc/", "/tmp/", "/var/tmp/", "~", "$"))
        or text in ("-", "")
        or _written(scan.report, text)
    ):
        scan.report.not_understood(f"runs a script the line cannot show: {text[:60]}")


def _remote_shell(scan: Scanner, inv: Invocation) -> None:
    """An interpreter whose input or output is a network socket (``bash -i >& /dev/tcp/..``)."""
    for r in inv.redirects:
        if r.target is not None and r.target.text.startswith(("/dev/tcp/", "/dev/udp/")):
            scan.report.finding("remote shell")
            scan.report.intent(Intent.CODE_EXECUTE)


@handles(*SHELLS)
def shell(scan: Scanner, inv: Invocation) -> Stream:
    args = inv.args
    _remote_shell(scan, inv)
    if inv.argv[0].text.endswith("busybox"):
        if args and args[0].text in ("sh", "ash", "bash"):
            return shell(scan, inv.shifted(1))
        return wrapped(scan, inv, 1)
    i = 0
    code: Word | None = None
    while i < len(args):
        text = args[i].text
        if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if text == "--":
            i += 1
            break
        if text.startswith(("-", "+")) and len(text) > 1 and args[i].static:
            if "c" in text[1:] and not text.startswith("--"):
                code = args[i + 1] if i + 1 < len(args) else Word("")
                break
            i += 1
            continue
        break
    if code is not None:
        return run_code(scan, inv, code.text, inv.stdin, static=code.static, download=code.download)
    if i < len(args) and not args[i].text.startswith("-"):
        run_script_file(scan, args[i])
        return OPAQUE_STREAM
    return run_stdin_code(scan, inv, shell=True)


@handles("eval")
def eval_(scan: Scanner, inv: Invocation) -> Stream:
    words = inv.args
    return run_code(
        scan,
        inv,
        " ".join(w.text for w in words),
        inv.stdin,
        static=all(w.static for w in words),
        download=any(w.download for w in words),
    )


@handles("source", ".")
def source(scan: Scanner, inv: Invocation) -> Stream:
    if inv.args:
        run_script_file(scan, inv.args[0])
    return OPAQUE_STREAM


@handles("alias")
def alias(scan: Scanner, inv: Invocation) -> Stream:
    for word in inv.args:
        _, eq, value = word.text.partition("=")
        if eq and value:
            run_code(scan, inv, value, NO_INPUT, static=word.static)
    return NO_INPUT


#: Inline-code switch of each language interpreter.
_INLINE = {
    "python": "c",
    "perl": "eE",
    "ruby": "e",
    "node": "ep",
    "nodejs": "ep",
    "php": "r",
    "lua": "e",
    "deno": "",
    "Rscript": "e",
    "osascript": "e",
    "tclsh": "",
    "pwsh": "c",
    "powershell": "c",
}


@handles(*_INLINE)
def interpreter(scan: Scanner, inv: Invocation) -> Stream:
    report = scan.report
    name = inv.argv[0].text.rsplit("/", 1)[-1]
    base = _VERSIONED.match(name)
    lang = base.group(1) if base else name
    args = inv.args
    if lang == "python" and len(args) >= 2 and args[0].text == "-m" and args[1].text == "pip":
        from firewall.intent.shell.effects import pip

        return pip(scan, inv.shifted(2))
    report.intent(Intent.CODE_EXECUTE)
    _remote_shell(scan, inv)
    inline = _INLINE.get(lang, "")
    for i, word in enumerate(args):
        text = word.text
        if text == "-m" or text.startswith("-m"):
            return passthrough(inv)  # a module: code we do not see
        if text.startswith("-") and len(text) > 1:
            letters = text.lstrip("-")
            if (inline and letters[:1] in inline) or text in ("--eval", "--print", "-Command"):
                report.inline(lang)
                code = args[i + 1] if i + 1 < len(args) else Word("")
                if code.download or any(a.download for a in args):
                    report.downloads_and_executes = True
                return passthrough(inv)
            continue
        if text == "-":
            return _stdin_program(scan, inv, lang)
        run_script_file(scan, word)
        return passthrough(inv)
    return _stdin_program(scan, inv, lang)


def _stdin_program(scan: Scanner, inv: Invocation, lang: str) -> Stream:
    """A language interpreter reading its program from a pipe or here-doc."""
    if inv.stdin.kind in (TEXT, OPAQUE):
        scan.report.inline(lang)
    return run_stdin_code(scan, inv, shell=False)


# -- SQL clients ----------------------------------------------------------------------


def classify_sql(scan: Scanner, text: str, dialect: str) -> None:
    """Hand SQL to the SQL classifier; its intents join, its facts go under ``sql``."""
    report = scan.report
    try:
        sql = classifiers.get_classifier("sql")
    except (KeyError, ImportError) as exc:
        report.unknown(f"the SQL classifier is not available ({type(exc).__name__})")
        return
    try:
        result = sql.func(text, {"dialect": dialect})
    except Exception as exc:
        report.unknown(f"the SQL classifier failed: {type(exc).__name__}")
        return
    report.intents.update(result.intents)
    classifiers.merge_facts(report.sql, result.facts)


def sql_from_stdin(scan: Scanner, inv: Invocation, dialect: str) -> None:
    stdin = inv.stdin
    if stdin.kind == TEXT:
        classify_sql(scan, stdin.text, dialect)
    elif stdin.kind == DOWNLOAD:
        scan.report.downloads_and_executes = True
        scan.report.unknown("SQL downloaded from the network")
    elif stdin.kind == NONE:
        scan.report.unknown("an interactive SQL session")
    else:
        scan.report.unknown("SQL read from a file or another program")


@handles("psql")
def psql(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args,
        "cdfhpUvoLPFRTS",
        {
            "--command",
            "--dbname",
            "--file",
            "--host",
            "--port",
            "--username",
            "--set",
            "--variable",
            "--output",
            "--log-file",
            "--pset",
            "--field-separator",
            "--record-separator",
            "--table-attr",
        },
    )
    if parsed.has("--version", "-V", "--help", "-?"):
        return OPAQUE_STREAM
    _database_host(scan, parsed.values("-h", "--host"))
    for out in parsed.values("-o", "--output", "-L", "--log-file"):
        scan.report.write(out)
    commands = parsed.values("-c", "--command")
    files = parsed.values("-f", "--file")
    for text in commands:
        classify_sql(scan, text, "postgres")
    for name in files:
        if name == "-":
            sql_from_stdin(scan, inv, "postgres")
        else:
            scan.report.read(name)
            scan.report.unknown("SQL read from a file")
    if not commands and not files:
        if parsed.has("-l", "--list"):
            scan.report.intent(Intent.DATA_READ)
        else:
            sql_from_stdin(scan, inv, "postgres")
    return OPAQUE_STREAM


@handles("mysql", "mariadb")
def mysql(scan: Scanner, inv: Invocation) -> Stream:
    parsed = getopt(
        inv.args,
        "eDhPuSO",
        {
            "--execute",
            "--database",
            "--host",
            "--port",
            "--user",
            "--socket",
            "--default-character-set",
            "--init-command",
        },
        short_attached="p",
    )
    if parsed.has("--version", "-V", "--help", "-?"):
        return OPAQUE_STREAM
    _database_host(scan, parsed.values("-h", "--host"))
    commands = parsed.values("-e", "--execute", "--init-command")
    for text in commands:
        classify_sql(scan, text, "mysql")
    if not commands:
        sql_from_stdin(scan, inv, "mysql")
    return OPAQUE_STREAM


def _database_host(scan: Scanner, hosts: list[str]) -> None:
    """A database client connecting over the network: egress to that host.

    A host starting with ``/`` is a Unix socket directory, not the network.
    """
    for host in hosts:
        if not host.startswith("/"):
            scan.report.egress(host)


_SQLITE_VALUES = {
    "-cmd",
    "-init",
    "-separator",
    "-newline",
    "-nullvalue",
    "-vfs",
    "-maxsize",
    "-mmap",
    "-pagecache",
    "-lookaside",
    "-heap",
}


@handles("sqlite3", "sqlite", "duckdb")
def sqlite(scan: Scanner, inv: Invocation) -> Stream:
    dialect = "duckdb" if inv.argv[0].text.endswith("duckdb") else "sqlite"
    report = scan.report
    operands: list[Word] = []
    texts: list[str] = []
    args = inv.args
    i = 0
    while i < len(args):
        text = args[i].text
        if text in ("-c", "-s") and dialect == "duckdb" and i + 1 < len(args):
            texts.append(args[i + 1].text)
            i += 2
            continue
        if text in _SQLITE_VALUES and i + 1 < len(args):
            if text == "-cmd":
                texts.append(args[i + 1].text)
            elif text == "-init":
                report.read(args[i + 1].text)
                report.unknown("SQL read from a file")
            i += 2
            continue
        if text in ("-version", "--version", "-help", "--help"):
            return OPAQUE_STREAM
        if not text.startswith("-"):
            operands.append(args[i])
        i += 1
    texts.extend(w.text for w in operands[1:])
    if operands and operands[0].text not in (":memory:", ""):
        report.read(operands[0].text)
    if not texts:
        sql_from_stdin(scan, inv, dialect)
        return OPAQUE_STREAM
    for text in texts:
        if text.lstrip().startswith("."):
            dot_command(scan, inv, text.strip())
        else:
            classify_sql(scan, text, dialect)
    return OPAQUE_STREAM


def dot_command(scan: Scanner, inv: Invocation, text: str) -> None:
    """sqlite3's own commands (``.tables``, ``.shell``, ``.output``): not SQL."""
    report = scan.report
    name, _, rest = text.partition(" ")
    rest = rest.strip()
    if name in (".shell", ".system"):
        scan.script(rest, NO_INPUT, inv.depth + 1)
    elif name in (".output", ".once", ".save", ".backup", ".dump", ".excel"):
        if rest:
            report.write(rest.split()[-1])
        report.intent(Intent.DATA_READ)
    elif name in (".read", ".load", ".restore", ".open"):
        report.unknown(f"sqlite3 {name} runs or opens something the firewall cannot see")
    elif name == ".import":
        report.intent(Intent.DATA_WRITE)
        if rest:
            report.read(rest.split()[0])
    else:
        report.intent(Intent.DATA_READ)


# The file, network and system commands register themselves.
from firewall.intent.shell import effects as _effects  # noqa: E402, F401
from firewall.intent.shell import services as _services  # noqa: E402, F401
