"""Shell classifier: what a bash command line would do, read with tree-sitter-bash.

A tool declaration names the argument holding the command line::

    run_shell: {classifier: shell, argument: command}

The value is a command line (text) or an argument vector (a list of strings, run
without a shell). The line is parsed once and walked once. The walk covers pipelines,
lists, subshells, command and process substitution, redirects, here-docs and
here-strings, and follows code into ``sh -c``/``bash -c``, ``eval``, ``sudo``, ``su -c``,
``env``, ``xargs``, ``nohup``, ``time``, ``timeout``, ``nice``, ``find -exec``, ``ssh host
cmd``, ``watch``, ``alias`` and shells fed by a here-doc or ``echo ... |``. SQL given to
``psql -c``, ``mysql -e``, ``sqlite3 DB "..."``, ``duckdb -c`` or piped into them goes to
the SQL classifier. Words are read as bash reads them: quotes removed and escapes decoded
(``r''m``, ``\\rm`` and ``$'\\x72m'`` are all ``rm``).

Only what the program catalog (``catalog.yaml``, see ``catalog``) models is understood:
a program, subcommand, option, configuration key, variable assignment or bash feature that
runs text as code and that the catalog does not model makes the line ``unknown``, with
the part named in ``not_understood``. Relative paths are resolved after an earlier ``cd``
on the line, and a glob counts for every sensitive name it can match.

What cannot be known is ``unknown``, never harmless: a variable or substitution in
command position, a command name bash would expand (``{rm,-rf,/}``), a line that does
not parse (tree-sitter ERROR or MISSING nodes), shell code built at run time
(``sh -c "$X"``), a shell reading a script from a pipe it cannot see, SQL read from a
file, or nesting deeper than 12 levels. What was found next to it is still reported.

Facts (``facts.shell.<name>``):

- ``commands``: every program name run, after unwrapping (``sudo rm`` -> ``sudo``, ``rm``).
- ``not_understood``: each part outside the catalog (``gdb: not in the program catalog``,
  ``git -c core.pager``, ``sets LD_PRELOAD``, ``tar: an argument built at run time``).
- ``reads_environment``: the line prints the environment (``env``, ``printenv``, ``export
  -p``, ``set``, ``declare -p``); ``sensitive`` then lists ``environment``.
- ``egress_domains``: the registered domains of ``egress_hosts`` (``api.github.com`` ->
  ``github.com``), what allowlists compare.
- ``destructive``: findings, each named the way a person would say it: ``rm -rf``,
  ``rm -r``, ``rm -f`` (forced delete of an absolute or home path), ``rm of a top-level
  directory``, ``rm --no-preserve-root``, ``find -delete``, ``shred``, ``dd to a device``,
  ``write to device``, ``write to system path``, ``mkfs``, ``wipefs``, ``partition
  table``, ``chmod -R 777``, ``chmod -R on a top-level directory``, ``chmod 777 on a
  system path``, ``chown -R``, ``chgrp -R``, ``git push --force``, ``git push --delete``,
  ``git reset --hard``, ``git clean -f``, ``git branch -D``, ``git stash clear``,
  ``git filter-branch``, ``git checkout discarding changes``, ``kill init (pid 1)``,
  ``kill all processes``, ``shutdown``, ``fork bomb``, ``crontab -r``, ``firewall
  disabled``, ``userdel``, ``remote shell`` (``nc -e``, ``socat EXEC``), ``kubectl
  delete``, ``terraform destroy``, ``docker prune``, ``mv to /dev/null``.
- ``downloads_and_executes``: downloaded content is run (``curl ... | sh``, ``bash <(curl
  ...)``, ``sh -c "$(wget -O- ...)"``, ``curl -o x.sh ... && sh x.sh``, ``sh < /dev/tcp/``).
- ``egress_hosts``: hosts contacted (normalised like ``facts.http.host``).
- ``egress_host_unknown``: something contacts a host the line does not name (``git push
  origin``, ``nc -l``, ``curl -K file``).
- ``metadata_endpoint``: a contacted host is a cloud metadata service.
- ``uploads``: local files (or ``<stdin>``) sent over the network (``curl -d @f``,
  ``curl -T``, ``scp f host:``, ``rsync f host:``, ``nc host < f``).
- ``reads_paths``, ``writes_paths``, ``deletes_paths``: paths as written (``~`` and
  ``$HOME`` kept), including redirect targets.
- ``sensitive``: categories (see ``firewall.intent.path.SENSITIVE_CATEGORIES``) of the
  paths read, written or deleted.
- ``sudo``: something runs as another user (``sudo``, ``doas``, ``su``, ``runuser``).
- ``package_installs``: ``manager:package`` for each install (``pip:requests``,
  ``npm:<lockfile>`` for an install from the lock file); ``npx`` and friends count.
- ``sql``: the SQL classifier's facts for SQL the line hands to a database client
  (merged: lists joined, flags or-ed); empty when there is none.
- ``error``: why part of the line could not be read (empty when all of it could).

Intents: ``file.read``, ``file.write``, ``file.delete``, ``network.egress``,
``data.read``/``data.write`` (HTTP clients, by method), ``data.export`` (uploads),
``code.execute`` (a catalogued program runs code whose effects are modelled: project
scripts, interpreters, package installs), ``privilege.grant`` (world-writable modes,
``chown``, account and capability changes, ``docker --privileged``),
``privilege.revoke`` (``userdel``), the SQL classifier's ``data.*``/``schema.*``
intents, and ``unknown``. Running as root is the ``sudo`` fact, not an intent.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from firewall.intent import Classifier, register
from firewall.intent.shell.commands import run
from firewall.intent.shell.report import FACTS, Report, empty_facts
from firewall.intent.shell.scan import MAX_SOURCE, NO_INPUT, Invocation, Scanner, Word
from firewall.model import Classification, Intent

_MAX_ARGV = 10_000
#: Command lines up to this length are cached (512 of them at most: ~2 MB at worst).
_CACHED_TEXT_CHARS = 4096


def classify(value: Any, options: Mapping[str, Any]) -> Classification:
    """Classify a command line (text) or an argument vector (list of strings).

    Agents run the same commands again and again (``git status``, ``ls``), so results for
    command lines are cached on their exact text. The result is shared: treat it as
    read-only.
    """
    if isinstance(value, str) and len(value) <= _CACHED_TEXT_CHARS:
        return _classify_text(value)
    return _classify_safely(value)


@lru_cache(maxsize=512)
def _classify_text(text: str) -> Classification:
    return _classify_safely(text)


def _classify_safely(value: Any) -> Classification:
    try:
        return _classify(value)
    except RecursionError:
        return _unknown("the command is nested too deeply to read")
    except Exception as exc:  # never raise: what cannot be read is unknown
        return _unknown(f"cannot classify the command: {type(exc).__name__}")


def _classify(value: Any) -> Classification:
    report = Report()
    scanner = Scanner(report=report, run=run)
    if isinstance(value, str):
        if not value.strip():
            return _unknown("the command is empty")
        scanner.script(value, NO_INPUT, 0)
    elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        if len(value) > _MAX_ARGV or sum(map(len, value)) > MAX_SOURCE:
            return _unknown("the argument vector is too long")
        if any("\x00" in v for v in value):
            return _unknown("the argument vector contains a NUL character")
        run(scanner, Invocation([Word(v) for v in value], [], NO_INPUT, 0))
    else:
        return _unknown("the command is neither text nor a list of strings")
    return report.classification()


def _unknown(why: str) -> Classification:
    return Classification(intents=frozenset({Intent.UNKNOWN.value}), facts=empty_facts(why))


register(
    Classifier(
        name="shell",
        func=classify,
        facts=FACTS,
        options=frozenset(),
        description="bash command lines: commands, destructive actions, egress, downloads.",
    )
)
