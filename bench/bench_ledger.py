"""The ledger: append throughput, proofs at a million entries, and a full verify.

Usage: ``python bench/bench_ledger.py [--quick]`` (``--quick``: fewer rounds, a 65,536-entry log).

1. Append, per entry, on SQLite and on PostgreSQL (``ZHIFA_BENCH_PG_URL``, else a ``zhifa_bench``
   database on the local test server; skipped with the reason when neither answers), at batch
   sizes 1 and 256. The zhifa case is the whole path: ``ledger.record`` (normalise, canonical
   JSON check) for each event, then the commit that sequences the batch (envelope, canonical
   bytes, SHA-256, chain heads, nodes, inserts), and a signed checkpoint every 256 entries.
   Beside it, measured in the same run: the floor of SHA-256 alone over the same bodies (the
   baseline), bare inserts of the same rows into a plain copy of the table (same transactions, no
   ledger logic), and ``pymerkle`` appending the same bodies in memory and in its SQLite tree
   (root taken every 256 entries, as a checkpoint would).
2. Proofs: a log of 1,048,576 entries is built once with the batched append (bench/out/, reused
   while it is intact), then inclusion and consistency proofs are timed against reading one entry.
3. Verify: ``zhifa.ledger.audit`` over that whole log (one timed run) against the floor of reading
   and hashing every body.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from harness import Result, measure, print_table
from sqlalchemy import Column, MetaData, Table, insert, select, text
from sqlalchemy.engine import make_url

from zhifa import ledger, migrate
from zhifa.db import Database
from zhifa.ledger import checkpoints, merkle, note, store
from zhifa.ledger.envelope import Pending, body_of
from zhifa.models.ledger import LedgerEvent

QUICK = "--quick" in sys.argv
OUT = Path(__file__).resolve().parent / "out"
ORIGIN = "bench.zhifa.local/ledger"
BIG_LOG = 65_536 if QUICK else 1_048_576
BUILD_BATCH = 8192
CHECKPOINT_EVERY = 256
LOCAL_PG = "postgresql+psycopg://zhifa:zhifa@127.0.0.1:5432/"
CREATED_AT = datetime(2026, 11, 28, tzinfo=UTC)
_EVENTS = cast(Table, LedgerEvent.__table__)


# --- The workload: case events, a quarter of them about a new case ---


def event(n: int) -> tuple[tuple[str, str], dict[str, Any]]:
    payload = {"n": n, "reason": "占道经营，责令改正后拒不改正", "amount_fen": 50_000 + n}
    return ("case", str(n // 4)), payload


def pending(n: int) -> Pending:
    (subject_type, subject_id), payload = event(n)
    return Pending(
        kind="case.updated",
        time_ms=1_764_300_000_000 + n,
        district_code="510184",
        actor_id=7,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
    )


def bodies(count: int) -> list[bytes]:
    return [body_of(pending(n), hashlib.sha256(b"%d" % n).digest()) for n in range(count)]


def per_entry(result: Result, batch: int) -> Result:
    return Result(result.name, result.seconds_per_op / batch)


def rounds(batch: int) -> dict[str, int]:
    """About 1,000 entries (quick: 256) per round, five rounds."""
    entries = 256 if QUICK else 1024
    return {"number": max(1, entries // batch), "repeat": 5}


# --- 1. Append ---


class Appender:
    """The ledger's own path on one database, with a counter that moves through the workload."""

    def __init__(self, db: Database, keys: checkpoints.LogKeys) -> None:
        self.db, self.keys, self.next = db, keys, 0

    def batch(self, size: int) -> None:
        with self.db.unit_of_work() as session:
            for n in range(self.next, self.next + size):
                subject, payload = event(n)
                ledger.record(
                    session, "case.updated", subject, payload, actor_id=7, district_code="510184"
                )
        self.next += size
        if self.next % CHECKPOINT_EVERY < size:
            with self.db.unit_of_work() as session:
                checkpoints.sign(session, self.keys)


class BareInserts:
    """The same rows into a plain copy of ``ledger_event``: no triggers, no index, no logic."""

    def __init__(self, db: Database) -> None:
        self.db, self.next = db, 0
        columns = [Column(c.name, c.type, primary_key=c.primary_key) for c in _EVENTS.columns]
        self.table = Table("bench_plain_event", MetaData(), *columns)
        self.table.create(db.engine)
        self.rows = [self._row(n, body) for n, body in enumerate(bodies(4096))]

    def _row(self, n: int, body: bytes) -> dict[str, Any]:
        item = pending(n)
        return {
            "seq": n,
            "kind": item.kind,
            "district_code": item.district_code,
            "actor_id": item.actor_id,
            "subject_type": item.subject_type,
            "subject_id": item.subject_id,
            "payload": item.payload,
            "time_ms": item.time_ms,
            "body": body,
            "leaf_hash": merkle.leaf_hash(body),
            "prev_hash": None,
            "created_at": CREATED_AT,
        }

    def batch(self, size: int) -> None:
        start = self.next % (len(self.rows) - size)
        with self.db.unit_of_work() as session:
            session.execute(insert(self.table), self.rows[start : start + size])
        self.next += size


class PymerkleTree:
    """pymerkle appending the same bodies, its root taken every 256 entries."""

    def __init__(self, tree: Any) -> None:
        self.tree, self.data, self.next = tree, bodies(4096), 0

    def batch(self, size: int) -> None:
        start = self.next % (len(self.data) - size)
        if size == 1:
            self.tree.append_entry(self.data[start])
        else:
            self.tree.append_entries(self.data[start : start + size])
        self.next += size
        if self.next % CHECKPOINT_EVERY < size:
            self.tree.get_root()


def pymerkle_trees(folder: Path) -> list[tuple[str, PymerkleTree]]:
    try:
        import pymerkle  # type: ignore[import-untyped]
    except ImportError:
        print("pymerkle is not installed (it is in the test extra): its rows are left out")
        return []
    inmemory = pymerkle.InmemoryTree(algorithm="sha256")
    if not hasattr(inmemory, "append_entries"):
        inmemory.append_entries = lambda data: [inmemory.append_entry(d) for d in data]
    sqlite = pymerkle.SqliteTree(str(folder / "pymerkle.db"), algorithm="sha256")
    return [
        ("pymerkle, in memory", PymerkleTree(inmemory)),
        ("pymerkle, SQLite", PymerkleTree(sqlite)),
    ]


def fresh_keys(folder: Path) -> checkpoints.LogKeys:
    path = folder / "ledger.key"
    if not path.exists():
        checkpoints.keygen(path, ORIGIN)
    signer = note.parse_signer(path.read_text().strip())
    return checkpoints.LogKeys(signer, note.verifier_key_for(signer))


def bench_append(label: str, db: Database, folder: Path) -> None:
    appender = Appender(db, fresh_keys(folder))
    bare = BareInserts(db)
    others = pymerkle_trees(folder) if db.is_sqlite else []
    for size in (1, 256):
        data = bodies(size)
        baseline = measure(
            "SHA-256 of the bodies (baseline)",
            lambda data=data: [merkle.leaf_hash(b) for b in data],
            number=max(1, 4096 // size),
        )
        cases = [
            measure("bare inserts, same rows", lambda s=size: bare.batch(s), **rounds(size)),
            measure(
                "zhifa ledger.record + commit", lambda s=size: appender.batch(s), **rounds(size)
            ),
        ]
        cases += [
            measure(name, lambda t=t, s=size: t.batch(s), **rounds(size)) for name, t in others
        ]
        title = f"append, {label}, batch {size} (per entry; ops/s = entries/s)"
        print_table(title, per_entry(baseline, size), [per_entry(c, size) for c in cases])
    with db.sessionmaker() as session:
        print(f"(log size at the end: {store.size(session):,} entries)")


def postgres_url() -> tuple[str | None, str]:
    """A PostgreSQL database this benchmark may empty, or None and the reason."""
    url = os.environ.get("ZHIFA_BENCH_PG_URL") or LOCAL_PG + "zhifa_bench"
    try:
        if "ZHIFA_BENCH_PG_URL" not in os.environ:
            create_bench_database()
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    except Exception as error:  # any failure means: no PostgreSQL for this run
        return None, f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return url, ""


def create_bench_database() -> None:
    admin = Database(LOCAL_PG + "postgres")
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'zhifa_bench'")):
            conn.execute(text("CREATE DATABASE zhifa_bench"))
    admin.dispose()


def append_section(tmp: Path) -> None:
    db = Database(f"sqlite:///{tmp / 'append.db'}")
    migrate.upgrade(db.engine)
    bench_append("SQLite", db, tmp)
    db.dispose()
    url, reason = postgres_url()
    if url is None:
        print(f"\nappend, PostgreSQL: skipped ({reason})")
        return
    db = Database(url)
    migrate.upgrade(db.engine)
    bench_append(f"PostgreSQL ({make_url(url).database})", db, tmp)
    db.dispose()


# --- 2. Proofs at a million entries ---


def big_log() -> tuple[Database, checkpoints.LogKeys]:
    """The cached log of BIG_LOG entries with a signed checkpoint at its size (built if needed)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"ledger-{BIG_LOG}.db"
    keys = fresh_keys(OUT)
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    with db.sessionmaker() as session:
        have = store.size(session)
        signed = checkpoints.at_size(session, BIG_LOG) is not None
    if have != BIG_LOG or not signed:
        db.dispose()
        path.unlink()
        db = build_log(path, keys)
    return db, keys


def build_log(path: Path, keys: checkpoints.LogKeys) -> Database:
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    started = time.perf_counter()
    for first in range(0, BIG_LOG, BUILD_BATCH):
        with db.unit_of_work() as session:
            store.append(session, [pending(n) for n in range(first, first + BUILD_BATCH)])
        if first % (BUILD_BATCH * 16) == 0:
            print(f"  building {path.name}: {first:,} / {BIG_LOG:,}", flush=True)
    with db.unit_of_work() as session:
        checkpoints.sign(session, keys)
    seconds = time.perf_counter() - started
    print(f"built {BIG_LOG:,} entries in {seconds:.1f} s ({BIG_LOG / seconds:,.0f} entries/s)")
    return db


def proofs_section(db: Database) -> None:
    picks = random.Random(6962)
    with db.sessionmaker() as session:
        root = store.root(session, BIG_LOG)

        def one_entry() -> None:
            store.entry(session, picks.randrange(BIG_LOG))

        def inclusion() -> None:
            index = picks.randrange(BIG_LOG)
            proof = store.inclusion_proof(session, index, BIG_LOG)
            leaf = session.scalar(select(LedgerEvent.leaf_hash).where(LedgerEvent.seq == index))
            merkle.verify_inclusion(bytes(leaf or b""), index, BIG_LOG, proof, root)

        def consistency() -> None:
            first = picks.randrange(1, BIG_LOG)
            store.consistency_proof(session, first, BIG_LOG)

        baseline = measure("read one entry by index (baseline)", one_entry)
        cases = [
            measure("inclusion proof + leaf + verify", inclusion),
            measure(
                "inclusion proof alone",
                lambda: store.inclusion_proof(session, picks.randrange(BIG_LOG), BIG_LOG),
            ),
            measure("consistency proof", consistency),
            measure("root at the full size", lambda: store.root(session, BIG_LOG)),
        ]
    print_table(f"proofs, SQLite, log of {BIG_LOG:,} entries", baseline, cases)


# --- 3. Verify ---


def timed_once(name: str, operation: Callable[[], object]) -> Result:
    started = time.perf_counter()
    operation()
    return Result(name, time.perf_counter() - started)


def hash_every_body(db: Database) -> None:
    with db.sessionmaker() as session:
        stmt = select(LedgerEvent.body).order_by(LedgerEvent.seq)
        for (body,) in session.execute(stmt.execution_options(yield_per=4096)):
            merkle.leaf_hash(body)


def run_audit(db: Database, keys: checkpoints.LogKeys) -> Iterator[str]:
    from zhifa.ledger import audit, audit_sources

    with db.sessionmaker() as session:
        source = audit_sources.DatabaseSource(session, "bench")
        report = audit.audit(source, audit.AuditKeys.parse(keys.verifier_key, []))
    yield f"audit verdict: {'ok' if report.ok else 'FAILED'}, {report.entries:,} entries"


def verify_section(db: Database, keys: checkpoints.LogKeys) -> None:
    try:
        from zhifa.ledger import audit  # noqa: F401
    except ImportError:
        print(f"\nverify, {BIG_LOG:,} entries: zhifa.ledger.audit does not exist yet, no figure")
        return
    baseline = timed_once("read + SHA-256 every body (baseline)", lambda: hash_every_body(db))
    lines: list[str] = []
    case = timed_once("zhifa.ledger.audit, whole log", lambda: lines.extend(run_audit(db, keys)))
    print_table(
        f"verify, SQLite, log of {BIG_LOG:,} entries (one run; per op = whole log)",
        baseline,
        [case],
    )
    print("\n".join(lines))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        append_section(Path(tmp))
    db, keys = big_log()
    proofs_section(db)
    verify_section(db, keys)
    db.dispose()


if __name__ == "__main__":
    main()
