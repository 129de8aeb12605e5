"""What the SQL classifier knows by name: dangerous functions, procedures and URL schemes.

Names are lower case. Each entry lists the intents a call has and how its first literal
argument is to be read (``path_in``: a file it reads, ``path_out``: a file it writes,
``sql``: SQL text it runs, ``source``: a file or URL a table function scans).
"""

from __future__ import annotations

from dataclasses import dataclass

from firewall.model import Intent

_READ = Intent.FILE_READ.value
_WRITE = Intent.FILE_WRITE.value
_EXEC = Intent.CODE_EXECUTE.value
_EGRESS = Intent.NETWORK_EGRESS.value
_EXPORT = Intent.DATA_EXPORT.value
_DATA_WRITE = Intent.DATA_WRITE.value
_GRANT = Intent.PRIVILEGE_GRANT.value


@dataclass(frozen=True)
class Dangerous:
    """A function or procedure whose call has effects beyond reading the database."""

    intents: frozenset[str]
    argument: str = ""  # "path_in" | "path_out" | "sql" | "source" | ""


def _d(*intents: str, argument: str = "") -> Dangerous:
    return Dangerous(frozenset(intents), argument)


FUNCTIONS: dict[str, Dangerous] = {
    # PostgreSQL: server files, large objects, remote databases, other sessions.
    "pg_read_file": _d(_READ, argument="path_in"),
    "pg_read_binary_file": _d(_READ, argument="path_in"),
    "pg_ls_dir": _d(_READ, argument="path_in"),
    "pg_stat_file": _d(_READ, argument="path_in"),
    "pg_file_write": _d(_WRITE, argument="path_out"),
    "pg_file_rename": _d(_WRITE),
    "pg_file_unlink": _d(Intent.FILE_DELETE.value),
    "lo_import": _d(_READ, _DATA_WRITE, argument="path_in"),
    "lo_export": _d(_WRITE, _EXPORT, argument="path_out"),
    "lo_from_bytea": _d(_DATA_WRITE),
    "lo_put": _d(_DATA_WRITE),
    "lo_unlink": _d(Intent.DATA_DELETE.value),
    "dblink": _d(_EGRESS, _EXEC),
    "dblink_exec": _d(_EGRESS, _EXEC),
    "dblink_connect": _d(_EGRESS),
    "dblink_send_query": _d(_EGRESS, _EXEC),
    "pg_terminate_backend": _d(_EXEC),
    "pg_cancel_backend": _d(_EXEC),
    "pg_reload_conf": _d(_EXEC),
    "pg_rotate_logfile": _d(_EXEC),
    "pg_promote": _d(_EXEC),
    "set_config": _d(_EXEC),
    "query_to_xml": _d(_EXEC, argument="sql"),
    "query_to_xml_and_xmlschema": _d(_EXEC, argument="sql"),
    "query_to_xmlschema": _d(_EXEC, argument="sql"),
    "cursor_to_xml": _d(_EXEC),
    # MySQL / MariaDB.
    "load_file": _d(_READ, argument="path_in"),
    "sys_exec": _d(_EXEC),
    "sys_eval": _d(_EXEC),
    # SQLite (loadable extensions and the CLI's file functions).
    "load_extension": _d(_EXEC, argument="path_in"),
    "readfile": _d(_READ, argument="path_in"),
    "writefile": _d(_WRITE, argument="path_out"),
    "edit": _d(_EXEC),
    "fts3_tokenizer": _d(_EXEC),
    # DuckDB table functions that scan files or URLs.
    "read_csv": _d(_READ, argument="source"),
    "read_csv_auto": _d(_READ, argument="source"),
    "read_parquet": _d(_READ, argument="source"),
    "parquet_scan": _d(_READ, argument="source"),
    "read_json": _d(_READ, argument="source"),
    "read_json_auto": _d(_READ, argument="source"),
    "read_ndjson": _d(_READ, argument="source"),
    "read_ndjson_auto": _d(_READ, argument="source"),
    "read_text": _d(_READ, argument="source"),
    "read_blob": _d(_READ, argument="source"),
    "read_xlsx": _d(_READ, argument="source"),
    "sniff_csv": _d(_READ, argument="source"),
    "iceberg_scan": _d(_READ, argument="source"),
    "delta_scan": _d(_READ, argument="source"),
    "st_read": _d(_READ, argument="source"),
    "glob": _d(_READ, argument="source"),
    "getenv": _d(_READ),
    "sqlite_scan": _d(_READ, argument="source"),
    "postgres_scan": _d(_EGRESS),
    "mysql_scan": _d(_EGRESS),
    "postgres_query": _d(_EGRESS, _EXEC),
    "postgres_execute": _d(_EGRESS, _EXEC),
    "mysql_query": _d(_EGRESS, _EXEC),
    "mysql_execute": _d(_EGRESS, _EXEC),
    # SQL Server.
    "openrowset": _d(_READ, _EGRESS),
    "opendatasource": _d(_EGRESS),
    "openquery": _d(_EGRESS, _EXEC),
    # BigQuery.
    "external_query": _d(_EGRESS, _EXEC),
}

#: Stored procedures (SQL Server ``EXEC``, ``CALL``) known to reach outside the database.
PROCEDURES: dict[str, Dangerous] = {
    "xp_cmdshell": _d(_EXEC),
    "sp_oacreate": _d(_EXEC),
    "sp_oamethod": _d(_EXEC),
    "sp_execute_external_script": _d(_EXEC),
    "sp_configure": _d(_EXEC),
    "sp_addextendedproc": _d(_EXEC),
    "xp_regwrite": _d(_EXEC),
    "xp_regread": _d(_READ),
    "xp_dirtree": _d(_READ, _EGRESS),
    "xp_subdirs": _d(_READ),
    "xp_fileexist": _d(_READ),
    "xp_availablemedia": _d(_READ),
    "sp_addsrvrolemember": _d(_GRANT),
    "sp_addrolemember": _d(_GRANT),
    "sp_addlogin": _d(_GRANT),
    "sp_grantdbaccess": _d(_GRANT),
    "sp_addlinkedserver": _d(_EGRESS),
    "sp_send_dbmail": _d(_EGRESS, _EXPORT),
    "sp_executesql": _d(_EXEC, argument="sql"),
    "sp_makewebtask": _d(_WRITE, _EXPORT),
}

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
