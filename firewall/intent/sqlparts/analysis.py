"""The accumulator one classification fills: intents and facts, built statement by statement.

Kept apart from the tree walk so that nested SQL (dynamic SQL, ``EXPLAIN ANALYZE``,
``PREPARE ... AS``) can be analysed into a child and merged into its parent.
"""

from __future__ import annotations

from typing import Any

from firewall.intent.sqlparts.catalog import Dangerous, is_remote
from firewall.model import Intent

READ = Intent.DATA_READ.value
WRITE = Intent.DATA_WRITE.value
DELETE = Intent.DATA_DELETE.value
TRUNCATE = Intent.DATA_TRUNCATE.value
EXPORT = Intent.DATA_EXPORT.value
CREATE = Intent.SCHEMA_CREATE.value
ALTER = Intent.SCHEMA_ALTER.value
DROP = Intent.SCHEMA_DROP.value
GRANT = Intent.PRIVILEGE_GRANT.value
REVOKE = Intent.PRIVILEGE_REVOKE.value
EXECUTE = Intent.CODE_EXECUTE.value
FILE_READ = Intent.FILE_READ.value
FILE_WRITE = Intent.FILE_WRITE.value
FILE_DELETE = Intent.FILE_DELETE.value
EGRESS = Intent.NETWORK_EGRESS.value
UNKNOWN = Intent.UNKNOWN.value


class Analysis:
    """What one SQL input does. Ordered dicts serve as ordered sets."""

    __slots__ = (
        "bounds",
        "ctes",
        "depth",
        "dialect",
        "drops",
        "dynamic",
        "errors",
        "exports",
        "files_read",
        "files_written",
        "functions",
        "intents",
        "kinds",
        "largest_limit",
        "lexer",
        "limit_all",
        "max_limit",
        "read",
        "remote",
        "settings",
        "statement_count",
        "system_tables",
        "targets",
        "trivial",
        "unbounded",
        "where_all",
        "writes",
        "written",
    )

    def __init__(self, dialect: str, depth: int = 0, max_limit: int = 100) -> None:
        self.dialect = dialect
        self.depth = depth
        self.max_limit = max_limit
        self.largest_limit: int | None = None
        self.bounds: list[str] = []
        self.settings: dict[str, None] = {}
        self.lexer: dict[str, None] = {}
        self.system_tables: dict[str, None] = {}
        self.intents: set[str] = set()
        self.kinds: dict[str, None] = {}
        self.read: dict[str, None] = {}
        self.written: dict[str, None] = {}
        self.ctes: set[str] = set()
        self.targets: set[int] = set()
        self.writes = 0
        self.where_all = True
        self.limit_all = True
        self.trivial = False
        self.unbounded = False
        self.exports: dict[str, None] = {}
        self.functions: dict[str, None] = {}
        self.files_read: dict[str, None] = {}
        self.files_written: dict[str, None] = {}
        self.remote: dict[str, None] = {}
        self.drops: dict[str, None] = {}
        self.dynamic = False
        self.errors: list[str] = []
        self.statement_count = 0

    # -- recording ----------------------------------------------------------------------

    def kind(self, name: str) -> None:
        self.kinds[name] = None

    def fail(self, why: str) -> None:
        """Something here cannot be read: the result carries ``unknown``."""
        self.intents.add(UNKNOWN)
        self.errors.append(why)

    def write(
        self,
        what: str,
        bound: str | None,
        *,
        has_where: bool = False,
        trivial: bool = False,
        limit: int | None = None,
        why: str = "",
    ) -> None:
        """Book-keeping for one UPDATE / DELETE / MERGE / upsert.

        ``bound`` is the condition proven to restrict the target's rows (or ``None``);
        ``limit`` a plain ``LIMIT n``, which bounds only up to ``max_limit`` rows.
        """
        self.writes += 1
        if not has_where:
            self.where_all = False
        if trivial:
            self.trivial = True
        if limit is None:
            self.limit_all = False
        if bound is not None:
            self.bounds.append(f"{what}: bounded by {bound}")
            return
        if limit is not None:
            if self.largest_limit is None or limit > self.largest_limit:
                self.largest_limit = limit
            if limit <= self.max_limit:
                self.bounds.append(f"{what}: bounded by LIMIT {limit}")
                return
            why = f"LIMIT {limit} is above {self.max_limit} rows"
        self.unbounded = True
        self.bounds.append(f"{what}: unbounded ({why or 'no condition restricts its rows'})")

    def unknown_write(self, what: str = "write") -> None:
        """An UPDATE or DELETE whose WHERE could not be read: assume it has none."""
        self.write(what, None, why="its WHERE could not be read")

    def setting(self, name: str, lexer: bool = False) -> None:
        """A session or server setting the statement changes."""
        self.settings[name] = None
        if lexer:
            self.lexer[name] = None

    def source(self, location: str) -> None:
        """A file or URL the statement reads."""
        if is_remote(location):
            self.intents.add(EGRESS)
            self.remote[location] = None
        else:
            self.intents.add(FILE_READ)
            self.files_read[location] = None

    def sink(self, location: str) -> None:
        """A file, URL, program or client stream the statement writes data to."""
        self.intents.add(EXPORT)
        self.exports[location] = None
        if location == "STDOUT":
            return
        if is_remote(location) or location.startswith("@"):
            self.intents.add(EGRESS)
            self.remote[location] = None
        elif not location.startswith("PROGRAM"):
            self.intents.add(FILE_WRITE)
            self.files_written[location] = None

    def dangerous(self, name: str, entry: Dangerous) -> None:
        self.functions[name] = None
        self.intents.update(entry.intents)
        if "data_write" in entry.effects or "data_delete" in entry.effects:
            self.write(f"{name}()", None, why="a server function changes data no WHERE bounds")

    def merge(self, child: Analysis) -> None:
        """Fold a nested analysis (dynamic SQL, an explained statement) into this one."""
        self.intents |= child.intents
        self.kinds.update(child.kinds)
        self.read.update(child.read)
        self.written.update(child.written)
        self.writes += child.writes
        self.where_all &= child.where_all
        self.limit_all &= child.limit_all
        self.trivial |= child.trivial
        self.unbounded |= child.unbounded
        for mine, theirs in (
            (self.exports, child.exports),
            (self.functions, child.functions),
            (self.files_read, child.files_read),
            (self.files_written, child.files_written),
            (self.remote, child.remote),
            (self.drops, child.drops),
        ):
            mine.update(theirs)
        self.dynamic |= child.dynamic
        self.errors.extend(child.errors)
        self.bounds.extend(child.bounds)
        if child.largest_limit is not None and (
            self.largest_limit is None or child.largest_limit > self.largest_limit
        ):
            self.largest_limit = child.largest_limit
        self.settings.update(child.settings)
        self.lexer.update(child.lexer)
        self.system_tables.update(child.system_tables)

    # -- output -------------------------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        """The facts rules read as ``facts.sql.<name>``: plain, JSON-serialisable values."""
        ctes = self.ctes
        read = [t for t in self.read if t not in ctes] if ctes else list(self.read)
        return {
            "dialect": self.dialect,
            "statements": list(self.kinds),
            "statement_count": self.statement_count,
            "tables_read": sorted(read),
            "tables_written": sorted(self.written),
            "has_where": self.where_all,
            "has_limit": self.limit_all,
            "trivial_where": self.trivial,
            "unbounded_write": self.unbounded,
            "write_bound": list(self.bounds),
            "write_limit": self.largest_limit if self.largest_limit is not None else 0,
            "write_count": self.writes,
            "exports": list(self.exports),
            "functions": list(self.functions),
            "files_read": list(self.files_read),
            "files_written": list(self.files_written),
            "remote": list(self.remote),
            "drops": list(self.drops),
            "dynamic_sql": self.dynamic,
            "settings": list(self.settings),
            "lexer_settings": list(self.lexer),
            "system_tables": list(self.system_tables),
        }
