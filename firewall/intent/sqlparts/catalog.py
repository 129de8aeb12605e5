"""What the SQL classifier knows by name, loaded from the data file ``server.yaml``.

Server functions and procedures by effect, system schemas, session settings by what
changing them does. Names are lower case; ``lookup`` finds an entry however the name was
spelt (quoted, schema-qualified, escaped) once the caller has decoded the identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from firewall.model import Intent

_EFFECTS: dict[str, tuple[str, ...]] = {
    "file_read": (Intent.FILE_READ.value,),
    "file_write": (Intent.FILE_WRITE.value, Intent.DATA_EXPORT.value),
    "file_delete": (Intent.FILE_DELETE.value,),
    "network": (Intent.NETWORK_EGRESS.value,),
    "code": (Intent.CODE_EXECUTE.value,),
    "session": (Intent.CODE_EXECUTE.value,),
    "data_write": (Intent.DATA_WRITE.value,),
    "data_delete": (Intent.DATA_DELETE.value,),
    "privilege": (Intent.PRIVILEGE_GRANT.value,),
    "export": (Intent.DATA_EXPORT.value,),
}
_ARGUMENTS = frozenset({"", "path_in", "path_out", "sql", "source", "setting"})


@dataclass(frozen=True)
class Dangerous:
    """A function or procedure whose call has effects beyond reading the database."""

    intents: frozenset[str]
    argument: str = ""  # "path_in" | "path_out" | "sql" | "source" | "setting" | ""
    effects: tuple[str, ...] = ()


def _entries(raw: dict[str, Any], where: str) -> dict[str, Dangerous]:
    found: dict[str, Dangerous] = {}
    for name, spec in raw.items():
        effects = tuple(spec.get("effects") or ())
        argument = spec.get("argument", "")
        unknown = [e for e in effects if e not in _EFFECTS]
        if not effects or unknown or argument not in _ARGUMENTS:
            raise ValueError(f"server.yaml {where}.{name}: bad effects {effects} or argument")
        intents = frozenset(i for e in effects for i in _EFFECTS[e])
        found[str(name).lower()] = Dangerous(intents, argument, effects)
    return found


def _load() -> dict[str, Any]:
    text = resources.files("firewall.intent.sqlparts").joinpath("server.yaml").read_text("utf-8")
    return yaml.safe_load(text)


_DATA = _load()

FUNCTIONS: dict[str, Dangerous] = _entries(_DATA["functions"], "functions")
PROCEDURES: dict[str, Dangerous] = _entries(_DATA["procedures"], "procedures")
PREFIXES: tuple[tuple[str, str], ...] = tuple(
    (str(k).lower(), str(v).lower()) for k, v in _DATA["prefixes"].items()
)
SYSTEM_SCHEMAS: frozenset[str] = frozenset(s.lower() for s in _DATA["system_schemas"])
SYSTEM_TABLE_PREFIXES: tuple[str, ...] = tuple(s.lower() for s in _DATA["system_table_prefixes"])
_SETTINGS: dict[str, list[str]] = _DATA["settings"]
IDENTITY_SETTINGS: frozenset[str] = frozenset(_SETTINGS["identity"])
READ_ONLY_SETTINGS: frozenset[str] = frozenset(_SETTINGS["read_only"])
LEXER_SETTINGS: frozenset[str] = frozenset(_SETTINGS["lexer"])
LEXER_SQL_MODES: frozenset[str] = frozenset(_SETTINGS["lexer_sql_modes"])
SAFE_CHARSETS: frozenset[str] = frozenset(_SETTINGS["safe_charsets"])
CONFIG_SETTINGS: frozenset[str] = frozenset(_SETTINGS["config"])

for _prefix, _target in PREFIXES:
    if _target not in FUNCTIONS:
        raise ValueError(f"server.yaml prefixes.{_prefix}: no function {_target}")


def lookup(name: str, table: dict[str, Dangerous] = FUNCTIONS) -> Dangerous | None:
    """The entry for a (decoded, lower-case) function name, by exact name or by prefix."""
    entry = table.get(name)
    if entry is None and table is FUNCTIONS:
        for prefix, target in PREFIXES:
            if name.startswith(prefix):
                return FUNCTIONS[target]
    return entry


def is_system_table(name: str) -> bool:
    """True for a table of the server's own catalog (``pg_catalog.pg_authid``, ``mysql.user``).

    ``name`` is ``[catalog.]schema.table`` or a bare table, lower case. A bare ``pg_*``
    name reaches ``pg_catalog`` first in PostgreSQL's search path.
    """
    parts = name.split(".")
    if len(parts) > 1 and parts[-2] in SYSTEM_SCHEMAS:
        return True
    return parts[-1].startswith(SYSTEM_TABLE_PREFIXES)


#: URL schemes whose reads or writes leave the machine.
REMOTE_SCHEMES = (
    "http://",
    "https://",
    "s3://",
    "s3a://",
    "s3n://",
    "gs://",
    "gcs://",
    "az://",
    "azure://",
    "abfss://",
    "r2://",
    "hf://",
    "ftp://",
    "sftp://",
    "postgres:",
    "postgresql://",
    "mysql:",
    "md:",
    "motherduck:",
)

#: File name endings DuckDB scans when a quoted name is used as a table.
FILE_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".parquet",
    ".json",
    ".jsonl",
    ".ndjson",
    ".gz",
    ".zst",
    ".xlsx",
    ".arrow",
    ".db",
    ".duckdb",
    ".sqlite",
)


def is_remote(location: str) -> bool:
    """True when ``location`` names something on another machine."""
    return location.lower().startswith(REMOTE_SCHEMES) or location.startswith("\\\\")


def looks_like_file(name: str) -> bool:
    """True for a quoted DuckDB table name that is really a path or URL."""
    lowered = name.lower()
    return "/" in name or "\\" in name or lowered.endswith(FILE_SUFFIXES) or is_remote(name)
