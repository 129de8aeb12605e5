"""The program catalog: which programs and options the shell classifier understands.

The knowledge lives in ``catalog.yaml`` (one reviewable data file); this module reads it
once and checks each command against it. A command whose program, subcommand, option or
configuration key is not in the catalog is *not understood*: the report names the part
and the line becomes ``unknown``, whatever else was found. Options the catalog marks with
an effect are followed: a command string is classified like any other command line, code
is ``inline_code``, a host is egress, a path is read, written or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from firewall.model import Intent

if TYPE_CHECKING:
    from firewall.intent.shell.scan import Invocation, Scanner, Word

#: Effects an option or operand may have (the values of ``effects`` in the YAML).
EFFECTS = frozenset(
    {
        "command",  # the value is a shell command line: classified recursively
        "code",  # the value is program text: inline code
        "egress",  # the value is a host or URL contacted
        "upload",  # the value is a local file sent over the network
        "read",  # the value is a path read
        "write",  # the value is a path written
        "delete",  # the value is a path deleted
        "env",  # the command prints the environment (secrets)
        "download_exec",  # fetches and runs code (package tools)
        "privilege",  # changes privileges
        "rest",  # the remaining arguments belong to what the option names (python -m)
        "package",  # a package spec: URLs, archives and VCS specs run setup code
        "gopkg",  # a Go package: pkg@version is fetched, built and run
        "varname",  # a variable name (read NAME): a subscript would be evaluated
        "project",  # a path whose code runs (pytest DIR, make -f F): inside the project
    }
)


@dataclass(slots=True)
class Program:
    """One program (or subcommand) of the catalog, compiled for lookups."""

    name: str
    short: frozenset[str] = frozenset()
    short_values: frozenset[str] = frozenset()
    #: One-letter options whose value can only be attached (``sed -i.bak``).
    short_attached: frozenset[str] = frozenset()
    long: frozenset[str] = frozenset()
    long_values: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    word_values: frozenset[str] = frozenset()
    numeric: bool = False
    #: Stop checking at the first operand (``first``), or after this many operands.
    stop: int = -1
    #: The arguments go to the project's own script (``npm run X``): not checked.
    passthrough: bool = False
    #: Arguments built at run time (``"$f"``) are accepted: no option of the program
    #: has an effect beyond the output (``echo``, ``wc``).
    dynamic_args: bool = False
    subcommands: dict[str, Program] = field(default_factory=dict)
    #: Option -> allowed configuration keys (``git -c``, ``ssh -o``); ``*`` ends a prefix.
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    effects: dict[str, str] = field(default_factory=dict)
    #: Effect of the operands (``read``, ``egress``, ...), or "".
    operands: str = ""
    #: Effect of running the program at all (``env`` for ``printenv``).
    runs: str = ""
    #: Effect of running the program with no arguments (``env``, ``set``, ``export``).
    bare: str = ""
    #: ``find``-style expression: everything after ``-exec`` up to ``;``/``+`` is a command.
    exec_words: frozenset[str] = frozenset()


@dataclass(slots=True)
class Catalog:
    programs: dict[str, Program]
    environment: frozenset[str]
    #: Lower-case names that programs read (``http_proxy``); other lower-case names are
    #: shell variables.
    lowercase_except: frozenset[str]
    #: Words in a variable's name that say it holds a secret (TOKEN, SECRET, ...).
    secret_words: tuple[str, ...] = ()


def _program(name: str, raw: dict[str, Any], common_long: tuple[str, ...] = ()) -> Program:
    def listed(key: str) -> list[str]:
        value = raw.get(key, [])
        if isinstance(value, str):
            return value.split()
        return [str(v) for v in value]

    short = set(str(raw.get("short", "")).replace(" ", ""))
    short_values = set(str(raw.get("short_values", "")).replace(" ", ""))
    long: set[str] = set(common_long)
    long_values: set[str] = set()
    for opt in listed("long"):
        (long_values if opt.endswith("=") else long).add(opt.rstrip("="))
    words: set[str] = set()
    word_values: set[str] = set()
    for opt in listed("words"):
        (word_values if opt.endswith("=") else words).add(opt.rstrip("="))
    stop = raw.get("stop", -1)
    if stop == "first":
        stop = 0
    effects = {str(k): str(v) for k, v in (raw.get("effects") or {}).items()}
    for effect in [*effects.values(), *(raw.get(k, "") for k in ("operands", "runs", "bare"))]:
        if effect and effect not in EFFECTS:
            raise ValueError(f"catalog: {name}: unknown effect {effect!r}")
    subs = {}
    for sub, body in (raw.get("subcommands") or {}).items():
        for alias in str(sub).split("|"):
            subs[alias] = _program(f"{name} {alias}", body or {}, common_long)
    return Program(
        name=name,
        short=frozenset(short),
        short_values=frozenset(short_values),
        short_attached=frozenset(str(raw.get("short_attached", ""))),
        long=frozenset(long),
        long_values=frozenset(long_values),
        words=frozenset(words),
        word_values=frozenset(word_values),
        numeric=bool(raw.get("numeric", False)),
        stop=int(stop),
        passthrough=bool(raw.get("passthrough", False)),
        dynamic_args=bool(raw.get("dynamic_args", False)),
        subcommands=subs,
        keys={str(k): tuple(str(x).lower() for x in v) for k, v in (raw.get("keys") or {}).items()},
        effects=effects,
        operands=str(raw.get("operands", "")),
        runs=str(raw.get("runs", "")),
        bare=str(raw.get("bare", "")),
        exec_words=frozenset(listed("exec")),
    )


@cache
def catalog() -> Catalog:
    """The catalog shipped with the package, read once per process."""
    text = resources.files("firewall.intent.shell").joinpath("catalog.yaml").read_text("utf-8")
    # libyaml's loader when present: the catalog is read on the first shell call.
    return load(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def load(data: dict[str, Any]) -> Catalog:
    """Compile the catalog's YAML document (``programs``, ``environment``)."""
    programs: dict[str, Program] = {}
    common = tuple(data.get("common_long") or ())
    shared: dict[str, dict[str, Any]] = {}
    for names, body in (data.get("programs") or {}).items():
        body = body or {}
        if "like" in body:
            base = dict(shared[body["like"]])
            base.update({k: v for k, v in body.items() if k != "like"})
            body = base
        for name in str(names).split("|"):
            shared[name] = body
            programs[name] = _program(name, body, common)
    env = data.get("environment") or {}
    return Catalog(
        programs=programs,
        environment=frozenset(env.get("names", [])),
        lowercase_except=frozenset(env.get("lowercase_except", [])),
        secret_words=tuple(str(w).upper() for w in env.get("secret_words", [])),
    )


def environment_understood(name: str) -> bool:
    """A variable a command line may set without changing what programs run."""
    cat = catalog()
    if name in cat.environment:
        return True
    return name.islower() and name not in cat.lowercase_except


def secret_variable(name: str) -> bool:
    """A variable whose name says it holds a secret (``AWS_SECRET_ACCESS_KEY``)."""
    upper = name.upper()
    return bool(upper) and any(word in upper for word in catalog().secret_words)


def _key_allowed(key: str, allowed: tuple[str, ...]) -> bool:
    key = key.lower()
    return any(key.startswith(a[:-1]) if a.endswith("*") else key == a for a in allowed)


def check(scan: Scanner, inv: Invocation, name: str) -> Program | None:
    """Check one command against the catalog; record what is not understood and the
    effects of catalogued options. Returns the catalog entry (``None``: not catalogued)."""
    program = catalog().programs.get(name)
    if program is None:
        scan.report.not_understood(f"{name}: not in the program catalog")
        return None
    _check_args(scan, inv, program, inv.args)
    if program.runs:
        _apply(scan, program, program.runs, "", True, inv.depth)
    if program.bare and not inv.args:
        _apply(scan, program, program.bare, "", True, inv.depth)
    return program


#: How a word built at run time may begin when it can expand to an option ("$x", `cmd`,
#: "-$x"); "src/$f" or <(cmd) cannot.
_MAY_EXPAND_TO_OPTION = frozenset({"", "$", "`", "-"})


def _check_args(scan: Scanner, inv: Invocation, program: Program, args: list[Word]) -> None:
    if program.passthrough:
        return
    report = scan.report
    operands = 0
    i = 0
    n = len(args)
    first_operand = True
    while i < n:
        word = args[i]
        text = word.text
        if program.exec_words and text in program.exec_words:
            end = i + 1
            while end < n and args[end].text not in (";", "+"):
                end += 1
            i = end + 1
            continue  # the find handler follows the command
        if text == "--" and word.static and not program.words:
            _operands(scan, program, args[i + 1 :], inv.depth)
            return
        if (
            not word.static
            and text[:1] in _MAY_EXPAND_TO_OPTION
            and not program.dynamic_args
            and (program.stop < 0 or operands < program.stop)
        ):
            # "$x" may expand to "--to-command=sh": an option nobody checked.
            report.not_understood(f"{program.name}: an argument built at run time")
            i += 1
            continue
        is_option = word.static and text.startswith("-") and len(text) > 1
        if is_option and program.words:
            if text in program.word_values:
                value = args[i + 1].text if i + 1 < n else ""
                if _effect(scan, program, text, value, inv.depth, (inv, args[i + 1 :])):
                    return
                i += 2
                continue
            if text in program.words or text in program.long:
                _effect(scan, program, text, "", inv.depth)
                i += 1
                continue
            if program.numeric and text[1:].lstrip("+-").isdigit():
                i += 1
                continue
            report.not_understood(f"{program.name} {text}")
            i += 1
            continue
        if is_option and text.startswith("--"):
            opt, eq, value = text.partition("=")
            if opt in program.long and not eq:
                _effect(scan, program, opt, "", inv.depth)
            elif opt in program.long_values:
                if not eq:
                    if i + 1 >= n:
                        report.not_understood(f"{program.name} {opt}: missing value")
                        return
                    i += 1
                    value = args[i].text
                    if not args[i].static and (opt in program.keys or opt in program.effects):
                        report.not_understood(f"{program.name} {opt}: a value built at run time")
                if _effect(scan, program, opt, value, inv.depth, (inv, args[i + 1 :])):
                    return
            else:
                report.not_understood(f"{program.name} {opt}")
            i += 1
            continue
        if is_option:
            if program.numeric and text[1:].isdigit():
                i += 1
                continue
            j = 1
            while j < len(text):
                letter = text[j]
                opt = "-" + letter
                if letter in program.short_values:
                    value = text[j + 1 :]
                    if not value:
                        if i + 1 >= n:
                            report.not_understood(f"{program.name} {opt}: missing value")
                            return
                        i += 1
                        value = args[i].text
                        if not args[i].static and (opt in program.keys or opt in program.effects):
                            report.not_understood(
                                f"{program.name} {opt}: a value built at run time"
                            )
                    if _effect(scan, program, opt, value, inv.depth, (inv, args[i + 1 :])):
                        return
                    break
                if letter in program.short_attached:
                    _effect(scan, program, opt, text[j + 1 :], inv.depth)
                    break
                if letter in program.short:
                    _effect(scan, program, opt, "", inv.depth)
                    j += 1
                    continue
                report.not_understood(f"{program.name} {opt}")
                break
            i += 1
            continue
        # an operand
        if first_operand and program.subcommands:
            first_operand = False
            sub = program.subcommands.get(text) if word.static else None
            if sub is None:
                report.not_understood(f"{program.name} {text}: not a known subcommand")
                return
            _check_args(scan, inv, sub, args[i + 1 :])
            if sub.runs:
                _apply(scan, sub, sub.runs, "", True, inv.depth)
            return
        if first_operand and "" in program.keys:
            _effect(scan, program, "", text, inv.depth)
        first_operand = False
        if program.stop >= 0 and operands >= program.stop:
            return  # the rest belongs to the command or script being run
        _operands(scan, program, [word], inv.depth)
        operands += 1
        i += 1


def _operands(scan: Scanner, program: Program, words: list[Word], depth: int) -> None:
    if program.operands:
        for w in words:
            _apply(scan, program, program.operands, w.text, w.static, depth)


def _effect(
    scan: Scanner,
    program: Program,
    opt: str,
    value: str,
    depth: int,
    rest: tuple[Invocation, list[Word]] | None = None,
) -> bool:
    """Check and apply one option; True when the rest of the arguments are not its own
    (``python -m pytest -q``: the rest are checked as ``pytest``'s when it is catalogued)."""
    allowed = program.keys.get(opt)
    if allowed is not None:
        key = value.split("=", 1)[0].split(None, 1)[0] if value.strip() else ""
        if not key or not _key_allowed(key, allowed):
            scan.report.not_understood(f"{program.name} {opt} {key or value}")
    effect = program.effects.get(opt)
    if effect == "rest":
        module = catalog().programs.get(value)
        if module is not None and rest is not None and opt == "-m":
            _check_args(scan, rest[0], module, rest[1])
        return True
    if effect:
        _apply(scan, program, effect, value, True, depth)
    return False


def _apply(
    scan: Scanner, program: Program, effect: str, value: str, static: bool, depth: int
) -> None:
    report = scan.report
    if effect == "command":
        if not static:
            report.not_understood(f"{program.name}: a command built at run time")
            return
        from firewall.intent.shell.scan import NO_INPUT

        scan.script(value, NO_INPUT, depth + 1)
    elif effect == "code":
        report.inline(program.name)
    elif effect == "egress":
        if "://" in value:
            report.egress_url(value)
        else:
            report.egress(value.rsplit("@", 1)[-1].split(":", 1)[0] if value else None)
    elif effect == "upload":
        report.upload(value or "<stdin>")
    elif effect == "read":
        report.read(value)
    elif effect == "write":
        report.write(value)
    elif effect == "delete":
        report.delete(value)
    elif effect == "env":
        report.reads_environment()
    elif effect == "download_exec":
        report.downloads_and_executes = True
        report.intent(Intent.CODE_EXECUTE, Intent.NETWORK_EGRESS)
    elif effect == "privilege":
        report.intent(Intent.PRIVILEGE_GRANT)
    elif effect == "package":
        if (
            not static
            or "://" in value
            or value.startswith(("git+", "hg+", "svn+", "bzr+"))
            or (value.endswith((".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")))
        ):
            report.downloads_and_executes = True
            report.intent(Intent.CODE_EXECUTE, Intent.NETWORK_EGRESS)
    elif effect == "project":
        if value.startswith("-"):
            return
        resolved = report.resolve(value)
        if (
            not static
            or resolved.startswith(("/", "~", "$"))
            or ".." in resolved.split("/")
            or resolved in report.writes
        ):
            report.not_understood(
                f"{program.name}: runs code from {value[:60]} outside the project"
            )
    elif effect == "varname":
        if not (static and value.replace("_", "a").isalnum() and not value[:1].isdigit()):
            report.not_understood(f"{program.name}: {value[:40]} is not a variable name")
    elif effect == "gopkg" and ("@" in value or not static):
        report.downloads_and_executes = True
        report.intent(Intent.CODE_EXECUTE, Intent.NETWORK_EGRESS)
