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
        "limit_all",
        "read",
        "remote",
        "statement_count",
        "targets",
        "trivial",
        "unbounded",
        "where_all",
        "writes",
        "written",
    )

    def __init__(self, dialect: str, depth: int = 0) -> None:
        self.dialect = dialect
        self.depth = depth
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

    def bounded_write(self, has_where: bool, trivial: bool, limited: bool) -> None:
        """Book-keeping for one UPDATE or DELETE."""
        self.writes += 1
        if not has_where:
            self.where_all = False
        if trivial:
            self.trivial = True
        if not limited:
            self.limit_all = False
            if not has_where or trivial:
                self.unbounded = True

    def unknown_write(self) -> None:
        """An UPDATE or DELETE whose WHERE could not be read: assume it has none."""
        self.bounded_write(has_where=False, trivial=False, limited=False)

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
            "write_count": self.writes,
            "exports": list(self.exports),
            "functions": list(self.functions),
            "files_read": list(self.files_read),
            "files_written": list(self.files_written),
            "remote": list(self.remote),
            "drops": list(self.drops),
            "dynamic_sql": self.dynamic,
        }
