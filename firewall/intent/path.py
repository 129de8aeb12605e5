"""File-path classifier: what a file tool would touch, and whether that place is sensitive.

A tool declaration names the argument holding the path and the operation the tool does::

    read_file:   {classifier: path, argument: path, operation: read, base: /srv/work}
    file_tool:   {classifier: path, argument: path, operation_argument: mode}

Options:

- ``operation``: ``read``, ``write`` or ``delete`` (fixed for the tool), or
- ``operation_argument``: the name of another argument of the call holding the operation
  (``read``/``write``/``delete``, or ``r``/``w``/``a``-style open modes); a missing or
  unrecognised value is ``unknown``.
- ``base``: the absolute working directory relative paths resolve against. Without it,
  relative paths stay relative and ``outside_base`` is never set.
- ``home``: the home directory ``~`` stands for (kept as ``~`` when not given).

The value may be one path or a list of paths. Classification is pure: no file system
access, so a symlink inside ``base`` pointing elsewhere is not seen (the tool itself must
refuse to follow links out of its sandbox). A backslash is read as a separator, so
``..\\..\\etc`` cannot slip past on a tool that runs on Windows.

Facts (``facts.path.<name>``):

- ``paths``: the normalised paths (absolute when ``base`` or ``home`` make them so).
- ``operation``: ``read``, ``write`` or ``delete``.
- ``traversal``: a ``..`` component climbs out of ``base`` (or, without a base, out of the
  directory a relative path starts in).
- ``outside_base``: a path lies outside ``base`` (always false without a base).
- ``sensitive``: categories of sensitive places touched, see ``SENSITIVE_CATEGORIES``.
- ``error``: why the value could not be read (empty when it could).

Intents: ``file.read``, ``file.write`` or ``file.delete``; ``unknown`` for anything that is
not a usable path.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from firewall.intent import Classifier, register
from firewall.model import Classification, Intent

OPERATIONS = ("read", "write", "delete")
_INTENT_OF = {
    "read": Intent.FILE_READ.value,
    "write": Intent.FILE_WRITE.value,
    "delete": Intent.FILE_DELETE.value,
}
#: Open-mode spellings an ``operation_argument`` may hold, mapped to operations.
_OPERATION_ALIASES = {
    "read": "read",
    "r": "read",
    "rb": "read",
    "rt": "read",
    "get": "read",
    "write": "write",
    "w": "write",
    "wb": "write",
    "a": "write",
    "ab": "write",
    "append": "write",
    "x": "write",
    "create": "write",
    "r+": "write",
    "w+": "write",
    "a+": "write",
    "edit": "write",
    "put": "write",
    "delete": "delete",
    "remove": "delete",
    "rm": "delete",
    "unlink": "delete",
}
_MAX_PATH = 4096
_MAX_PATHS = 1000

#: Every category ``sensitive`` may list, with what it covers.
SENSITIVE_CATEGORIES: dict[str, str] = {
    "ssh": "SSH keys and configuration (~/.ssh, id_rsa, authorized_keys, /etc/ssh)",
    "dotenv": ".env files (not .env.example / .sample / .template)",
    "cloud_credentials": "AWS, Google Cloud, Azure, OCI, DigitalOcean credentials",
    "kube_config": "Kubernetes client configuration (~/.kube/config)",
    "credentials_file": (
        ".netrc, .pgpass, .my.cnf, .npmrc, .pypirc, .git-credentials, docker and gh tokens"
    ),
    "private_key": "key stores and private keys (.pem, .key, .p12, .pfx, .jks, .ppk)",
    "password_database": "/etc/shadow, /etc/gshadow, /etc/sudoers and friends",
    "system_accounts": "/etc/passwd and /etc/group (writes and deletes only)",
    "shell_startup": "shell rc and profile files (.bashrc, .zshrc, .profile, /etc/profile.d)",
    "git_config": ".git/config (remote URLs may hold tokens) and .gitconfig",
    "git_hooks": ".git/hooks (writes and deletes only: they run on the next git command)",
    "shell_history": "shell and REPL history files",
    "browser_profile": "browser profiles: saved passwords, cookies, sessions",
    "persistence": "cron, systemd units, autostart and launch agents (writes and deletes only)",
    "process_memory": "/proc/*/environ, /proc/*/mem and /dev/mem",
    "environment": "the process environment (env, printenv, export -p, set): tokens and keys",
    "system_files": (
        "/etc, /boot, /usr, /bin, /sbin, /lib*, /sys, /proc, /dev (writes and deletes only)"
    ),
}

_BROWSER_DIRS = {".mozilla", "google-chrome", "chromium", "bravesoftware", "firefox", "chrome"}
_CLOUD_DIRS = {".aws", ".azure", ".oci"}
_CLOUD_CONFIG_DIRS = {"gcloud", "doctl"}
_CREDENTIAL_NAMES = {
    ".netrc",
    "_netrc",
    ".pgpass",
    ".my.cnf",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".terraformrc",
    "credentials.tfrc.json",
    ".vault-token",
}
_PRIVATE_KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".gpg")
_SSH_KEY_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}
_DOTENV_SAFE = (".example", ".sample", ".template", ".dist", ".defaults")
_SHELL_STARTUP = {
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".zlogin",
    ".cshrc",
    ".tcshrc",
    ".kshrc",
    "config.fish",
    "bash.bashrc",
    "profile",
    "environment",
    "zshrc",
}
_HISTORY = {
    ".bash_history",
    ".zsh_history",
    ".history",
    ".python_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".node_repl_history",
    ".lesshst",
    ".viminfo",
}
_PASSWORD_DB = {"shadow", "gshadow", "shadow-", "gshadow-", "master.passwd", "sudoers", "security"}
_SYSTEM_ROOTS = {"etc", "boot", "usr", "bin", "sbin", "lib", "lib32", "lib64", "sys", "proc", "dev"}
_HARMLESS_DEVICES = {"null", "zero", "stdout", "stderr", "stdin", "tty", "random", "urandom", "fd"}


def split(path: str) -> list[str]:
    """The components of a normalised path, without the empty root component."""
    return [p for p in path.split("/") if p]


#: Suffixes editors and people add to copies: ``.env.bak`` holds what ``.env`` holds.
_COPY_SUFFIXES = (
    "~",
    ".bak",
    ".backup",
    ".bk",
    ".old",
    ".orig",
    ".save",
    ".sav",
    ".swp",
    ".swo",
    ".swn",
    ".tmp",
    ".copy",
    ".prev",
    ".rej",
    ".dpkg-old",
    ".dpkg-dist",
    ".rpmsave",
    ".rpmnew",
    ".1",
)


def original_names(name: str) -> list[str]:
    """``name`` and the names it may be a copy of: ``.env~``, ``#.env#``, ``.id_rsa.swp``,
    ``.env.bak.1``, and the Windows spellings ``.env.``, ``.env::$DATA``, ``.env:x``."""
    dot = name.rfind(".")
    if not (
        name[-1:] in ("~", "#", ".", " ")
        or ":" in name
        or (dot > 0 and name[dot:] in _COPY_SUFFIX_SET)
    ):
        return [name]  # the common case: no copy suffix at all
    names = [name]
    base = name
    if ":" in base:  # NTFS alternate data stream
        base = base.split(":", 1)[0] or base
    base = base.rstrip(". ") or base  # Windows drops trailing dots and spaces
    for _ in range(4):
        stripped = base
        if len(stripped) > 2 and stripped.startswith("#") and stripped.endswith("#"):
            stripped = stripped[1:-1]
        for suffix in _COPY_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                stripped = stripped[: -len(suffix)]
                if (
                    suffix in (".swp", ".swo", ".swn")
                    and stripped.startswith(".")
                    and len(stripped) > 1
                ):
                    names.append(stripped[1:])  # vim: .id_rsa.swp is a copy of id_rsa
                break
        if stripped == base:
            break
        base = stripped
        names.append(base)
    if base not in names:
        names.append(base)
    return names


_COPY_SUFFIX_SET = frozenset(_COPY_SUFFIXES)
_WINDOWS_SYSTEM = frozenset({"windows", "program files", "program files (x86)", "programdata"})

#: Names a glob may match that make a path sensitive (``cat ~/.ssh/id_*``, ``cat .e?v``).
SENSITIVE_NAMES: tuple[str, ...] = (
    ".env",
    ".env.local",
    ".env.production",
    ".ssh",
    "authorized_keys",
    "known_hosts",
    "config",
    "credentials",
    "config.json",
    "hosts.yml",
    ".aws",
    ".azure",
    ".oci",
    ".kube",
    ".docker",
    ".gnupg",
    ".config",
    "gcloud",
    "application_default_credentials.json",
    "kubeconfig",
    ".gitconfig",
    "shadow",
    "gshadow",
    "sudoers",
    "sudoers.d",
    "passwd",
    "group",
    "environ",
    "mem",
    "server.pem",
    "server.key",
    "cert.p12",
    "cert.pfx",
    "store.jks",
    "key.ppk",
    *sorted(_SSH_KEY_NAMES),
    *sorted(_CREDENTIAL_NAMES),
    *sorted(_HISTORY),
    *sorted(n for n in _SHELL_STARTUP if n.startswith(".")),
)

_MAX_GLOB = 256


def glob_match(pattern: str, name: str) -> bool:
    """Whether bash's ``pattern`` (``*``, ``?``, ``[...]``) matches ``name``, in time
    proportional to len(pattern) x len(name): no backtracking on attacker text."""
    tokens: list[tuple[str, object]] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not tokens or tokens[-1][0] != "*":
                tokens.append(("*", None))
        elif c == "?":
            tokens.append(("?", None))
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                tokens.append(("c", c))
            else:
                body = pattern[i + 1 : end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                chars: set[str] = set()
                j = 0
                while j < len(body):
                    if j + 2 < len(body) and body[j + 1] == "-":
                        lo, hi = ord(body[j]), ord(body[j + 2])
                        if hi - lo > 256:
                            return True  # a huge range: assume it matches
                        chars.update(chr(k) for k in range(lo, hi + 1))
                        j += 3
                    else:
                        chars.add(body[j])
                        j += 1
                tokens.append(("!" if negate else "[", frozenset(chars)))
                i = end
        else:
            tokens.append(("c", c))
        i += 1
    # reachable[j]: the first j characters of name are matched by the tokens so far
    reachable = [True] + [False] * len(name)
    for kind, arg in tokens:
        nxt = [False] * (len(name) + 1)
        if kind == "*":
            seen = False
            for j in range(len(name) + 1):
                seen = seen or reachable[j]
                nxt[j] = seen
        else:
            for j in range(len(name)):
                if not reachable[j]:
                    continue
                ch = name[j]
                ok = (
                    kind == "?"
                    or (kind == "c" and ch == arg)
                    or (kind == "[" and ch in arg)  # type: ignore[operator]
                    or (kind == "!" and ch not in arg)  # type: ignore[operator]
                )
                nxt[j + 1] = ok
        reachable = nxt
        if not any(reachable):
            return False
    return reachable[-1]


def glob_candidates(path: str, limit: int = 64) -> list[str]:
    """Paths a glob could name that sensitive-path rules know: each glob component
    replaced by the sensitive names it matches (case-insensitively)."""
    results = [""]
    for part in path.split("/"):
        if any(c in part for c in "*?["):
            if len(part) > _MAX_GLOB:
                options = list(SENSITIVE_NAMES)
            else:
                lowered = part.lower()
                options = [n for n in SENSITIVE_NAMES if glob_match(lowered, n)]
            if not options:
                return []
        else:
            options = [part]
        results = [f"{r}/{o}" if r or o == "" else o for r in results for o in options][:limit]
    return [r if not path.startswith("/") else "/" + r.lstrip("/") for r in results]


def sensitive_categories(path: str, operation: str = "read") -> list[str]:
    """Categories of sensitive places ``path`` (normalised) falls in, for ``operation``.

    Matching is on components and case-insensitive, so ``/home/u/.ssh/id_rsa``,
    ``~/.ssh/id_rsa`` and ``/root/.SSH/id_rsa`` all match, wherever the home is. Copies
    (``.env.bak``, ``id_rsa~``, ``.id_rsa.swp``) count as the file they copy.
    """
    parts = [p.lower() for p in split(path)]
    if not parts:
        return []
    if len(parts[0]) == 2 and parts[0][1] == ":" and parts[0][0].isalpha():
        parts = parts[1:] or parts  # a Windows drive letter
        hive = len(parts) >= 4 and parts[:3] == ["windows", "system32", "config"]
        if hive and parts[3] in {"sam", "system", "security"}:
            return ["password_database"]
        if operation != "read" and parts[0] in _WINDOWS_SYSTEM:
            return ["system_files"]
    if parts[-1] == "ntds.dit":
        return ["password_database"]
    found: list[str] = []
    for name in original_names(parts[-1]):
        for category in _categories([*parts[:-1], name], path, operation):
            if category not in found:
                found.append(category)
    return found


def _categories(parts: list[str], path: str, operation: str) -> list[str]:
    changes = operation != "read"
    name = parts[-1]
    parents = parts[:-1]
    found: list[str] = []

    def add(category: str) -> None:
        if category not in found:
            found.append(category)

    if ".ssh" in parents or name == ".ssh" or name.removesuffix(".pub") in _SSH_KEY_NAMES:
        add("ssh")
    if parts[0] == "etc" and len(parts) > 1 and parts[1] == "ssh":
        add("ssh")
    if (name == ".env" or name.startswith(".env.")) and not name.endswith(_DOTENV_SAFE):
        add("dotenv")
    if any(p in _CLOUD_DIRS for p in parts) or (
        ".config" in parents and any(p in _CLOUD_CONFIG_DIRS for p in parts)
    ):
        add("cloud_credentials")
    if name == "application_default_credentials.json":
        add("cloud_credentials")
    if ".kube" in parents and (name == "config" or name.endswith(".kubeconfig")):
        add("kube_config")
    if name == "kubeconfig" or name.endswith(".kubeconfig"):
        add("kube_config")
    if name in _CREDENTIAL_NAMES or (".docker" in parents and name == "config.json"):
        add("credentials_file")
    if len(parents) >= 2 and parents[-2:] == [".config", "gh"] and name == "hosts.yml":
        add("credentials_file")
    if name.endswith(_PRIVATE_KEY_SUFFIXES) or (name in _SSH_KEY_NAMES):
        add("private_key")
    if parts[0] == "etc" and len(parts) >= 2:
        if parts[1] in _PASSWORD_DB or (parts[1] == "sudoers.d"):
            add("password_database")
        if changes and parts[1] in {"passwd", "group", "passwd-", "group-"} and len(parts) == 2:
            add("system_accounts")
        if parts[1] == "profile.d" or (len(parts) == 2 and name in _SHELL_STARTUP):
            add("shell_startup")
    if name in _SHELL_STARTUP and name.startswith("."):
        add("shell_startup")
    if name == "config.fish" and "fish" in parents:
        add("shell_startup")
    if ".git" in parents and name == "config":
        add("git_config")
    if name == ".gitconfig":
        add("git_config")
    if changes and ".git" in parents and "hooks" in parents:
        add("git_hooks")
    if name in _HISTORY:
        add("shell_history")
    if any(p in _BROWSER_DIRS for p in parents):
        add("browser_profile")
    if changes and _is_persistence(parts):
        add("persistence")
    if parts[0] == "proc" and name in {"environ", "mem", "kcore"}:
        add("process_memory")
    if parts[0] == "dev" and name in {"mem", "kmem", "port"}:
        add("process_memory")
    if changes and is_system_path(path):
        add("system_files")
    return found


def is_system_path(path: str) -> bool:
    """True for an absolute path in the operating system's own directories.

    ``/dev/null``, ``/dev/stdout`` and the like are not: writing to them changes nothing.
    """
    if not path.startswith("/"):
        return False
    parts = split(path)
    if not parts:
        return True  # the root directory itself
    if parts[0] not in _SYSTEM_ROOTS:
        return False
    if parts[0] == "usr" and len(parts) > 1 and parts[1] == "local" and len(parts) > 2:
        return parts[2] in {"bin", "sbin", "lib", "etc"}
    return not (parts[0] == "dev" and len(parts) >= 2 and parts[1] in _HARMLESS_DEVICES)


def _is_persistence(parts: list[str]) -> bool:
    if parts[0] == "etc" and len(parts) > 1:
        second = parts[1]
        if second.startswith("cron") or second in {"anacrontab", "rc.local", "init.d", "systemd"}:
            return True
        if second in {"ld.so.preload", "ld.so.conf", "ld.so.conf.d"}:
            return True
    if parts[:3] == ["var", "spool", "cron"]:
        return True
    if "autostart" in parts or "launchagents" in parts or "launchdaemons" in parts:
        return True
    return any(parts[i : i + 2] == ["systemd", "user"] for i in range(len(parts) - 1))


def normalise(path: str, base: str | None = None, home: str | None = None) -> tuple[str, bool]:
    """``path`` made absolute against ``base`` and normalised; and whether ``..`` escaped.

    The second value is true when a ``..`` component climbed above ``base`` (or above the
    start of a relative path when there is no base), whatever the path ends up naming.
    """
    text = path.replace("\\", "/")
    if text[:5].lower() == "file:":
        text = text[5:]
        if text.startswith("//"):  # file://host/path: the host is not part of the path
            text = text[2:]
            text = "/" + text.split("/", 1)[-1] if "/" in text else "/"
    if len(text) >= 3 and text[1] == ":" and text[2] == "/" and text[0].isalpha():
        return posixpath.normpath(text), False  # a Windows drive: absolute, never under base
    if text == "~" or text.startswith("~/"):
        if home:
            text = home.rstrip("/") + text[1:]
    elif text.startswith("~"):
        pass  # ~user: another user's home, kept as written
    if text.startswith("/"):
        escaped = _climbs_out(text, base) if base else False
        return posixpath.normpath(text).replace("//", "/"), escaped
    if text.startswith("~"):
        return posixpath.normpath(text), False
    if base:
        joined = posixpath.normpath(posixpath.join(base, text))
        return joined, _climbs_out(posixpath.join(base, text), base)
    normal = posixpath.normpath(text)
    return normal, normal == ".." or normal.startswith("../")


def _climbs_out(path: str, base: str) -> bool:
    """Whether walking ``path`` component by component ever leaves ``base`` via ``..``."""
    if ".." not in path:
        return False
    base_parts = split(posixpath.normpath(base))
    depth: list[str] = []
    for part in split(path):
        if part == ".":
            continue
        if part == "..":
            was_inside = depth[: len(base_parts)] == base_parts
            if depth:
                depth.pop()
            if was_inside and depth[: len(base_parts)] != base_parts:
                return True
            continue
        depth.append(part)
    return False


def inside(path: str, base: str) -> bool:
    """True when normalised absolute ``path`` is ``base`` or below it."""
    base = posixpath.normpath(base)
    return path == base or path.startswith(base.rstrip("/") + "/")


def classify(value: Any, options: Mapping[str, Any]) -> Classification:
    """Classify one path (or a list of paths) for the operation the tool performs."""
    try:
        return _classify(value, options)
    except Exception as exc:  # never raise: what cannot be read is unknown
        return _unknown(f"cannot classify the path: {type(exc).__name__}")


def _classify(value: Any, options: Mapping[str, Any]) -> Classification:
    operation = _operation(options)
    if operation is None:
        return _unknown("the operation is missing or not one of read, write, delete")
    values = _as_paths(value)
    if values is None:
        return _unknown("the value is not a path or a list of paths", operation=operation)
    base = options.get("base")
    base = posixpath.normpath(base) if isinstance(base, str) and base.startswith("/") else None
    home = options.get("home") if isinstance(options.get("home"), str) else None
    paths: list[str] = []
    sensitive: list[str] = []
    traversal = outside = False
    for raw in values:
        problem = _problem(raw)
        if problem:
            return _unknown(problem, operation=operation)
        normal, escaped = normalise(raw, base, home)
        paths.append(normal)
        traversal = traversal or escaped
        if base is not None and not inside(normal, base):
            outside = True
        for category in sensitive_categories(normal, operation):
            if category not in sensitive:
                sensitive.append(category)
    facts = {
        "paths": paths,
        "operation": operation,
        "traversal": traversal,
        "outside_base": outside,
        "sensitive": sensitive,
        "error": "",
    }
    return Classification(intents=frozenset({_INTENT_OF[operation]}), facts=facts)


def _operation(options: Mapping[str, Any]) -> str | None:
    name = options.get("operation_argument")
    if isinstance(name, str):
        arguments = options.get("_arguments")
        raw = arguments.get(name) if isinstance(arguments, Mapping) else None
    else:
        raw = options.get("operation", "read")
    if not isinstance(raw, str):
        return None
    return _OPERATION_ALIASES.get(raw.strip().lower())


def _as_paths(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if (
        isinstance(value, list | tuple)
        and 0 < len(value) <= _MAX_PATHS
        and all(isinstance(v, str) for v in value)
    ):
        return list(value)
    return None


def _problem(raw: str) -> str:
    if not raw.strip():
        return "the path is empty"
    if len(raw) > _MAX_PATH:
        return f"the path is longer than {_MAX_PATH} characters"
    if "\x00" in raw:
        return "the path contains a NUL character"
    if any(ord(c) < 32 for c in raw):
        return "the path contains control characters"
    return ""


def _unknown(why: str, operation: str = "") -> Classification:
    return Classification.unknown(
        why,
        paths=[],
        operation=operation,
        traversal=False,
        outside_base=False,
        sensitive=[],
    )


def validate_options(options: Mapping[str, Any]) -> None:
    """Reject policy options the classifier cannot use (checked at policy load)."""
    if "operation" in options and "operation_argument" in options:
        raise ValueError("give either 'operation' or 'operation_argument', not both")
    op = options.get("operation")
    if op is not None and op not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}, not {op!r}")
    arg = options.get("operation_argument")
    if arg is not None and (not isinstance(arg, str) or not arg):
        raise ValueError("operation_argument must name an argument of the call")
    for key in ("base", "home"):
        value = options.get(key)
        if value is not None and (not isinstance(value, str) or not value.startswith("/")):
            raise ValueError(f"{key} must be an absolute path")


FACTS = frozenset({"paths", "operation", "traversal", "outside_base", "sensitive", "error"})


def categories_of(paths: Iterable[str], operation: str) -> list[str]:
    """Sensitive categories of several paths, each listed once (used by the shell classifier)."""
    found: list[str] = []
    for path in paths:
        for category in sensitive_categories(path, operation):
            if category not in found:
                found.append(category)
    return found


register(
    Classifier(
        name="path",
        func=classify,
        facts=FACTS,
        options=frozenset({"operation", "operation_argument", "base", "home"}),
        description="File paths: read/write/delete, traversal, sensitive locations.",
        validate_options=validate_options,
    )
)
