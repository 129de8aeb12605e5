"""The audit log on the real PostgreSQL: one chain under concurrent writers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from firewall import Firewall, ToolCall, policy_from_yaml
from firewall.audit import AuditSink, open_store, verify_records

from .conftest import POSTGRES_URL, ROOT

POLICY = policy_from_yaml("name: pg\ndefault: allow\n")


@pytest.fixture
def table(postgres_conn):
    name = f"audit_{uuid.uuid4().hex[:12]}"
    yield name
    postgres_conn.execute(f"DROP TABLE IF EXISTS {name}")
    postgres_conn.commit()


def test_decisions_chain_and_verify(table: str) -> None:
    sink = AuditSink(open_store(POSTGRES_URL, table=table))
    fw = Firewall(POLICY, sinks=[sink])
    for i in range(20):
        assert fw.check(ToolCall(name="t", arguments={"i": i}), session="pg").allowed
    sink.close()
    with open_store(POSTGRES_URL, table=table) as store:
        report = verify_records(store.records())
        assert report.ok and report.records == 20
        assert store.head() == (20, report.head_hash)


def test_threads_and_processes_keep_one_chain(table: str, postgres_conn) -> None:
    store = open_store(POSTGRES_URL, table=table)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from firewall.audit import open_store
        store = open_store({POSTGRES_URL!r}, table={table!r})
        for i in range(150):
            store.append([{{"kind": "test", "writer": sys.argv[1], "i": i}}])
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"proc{n}"]) for n in range(3)]

    def work(n: int) -> None:
        for i in range(150):
            store.append([{"kind": "test", "writer": f"thread{n}", "i": i}])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]

    report = verify_records(store.records())
    assert report.ok, report.problems[:3]
    assert report.records == 900
    writers = {(r.data()["writer"], r.data()["i"]) for r in store.records()}
    assert len(writers) == 900
    store.close()


def test_tampering_in_postgres_is_found(table: str, postgres_conn) -> None:
    with open_store(POSTGRES_URL, table=table) as store:
        for i in range(5):
            store.append([{"kind": "test", "i": i}])
    postgres_conn.execute(f"DELETE FROM {table} WHERE seq = 2")
    postgres_conn.execute(
        f"UPDATE {table} SET body = replace(body, '\"i\":3', '\"i\":7') WHERE seq = 4"
    )
    postgres_conn.commit()

    with open_store(POSTGRES_URL, table=table) as store:
        report = verify_records(store.records())
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 2), ("changed", 4)]
