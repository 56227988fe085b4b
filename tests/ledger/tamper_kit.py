"""Shared by the auditor, tamper, witness and CLI tests: a realistic signed log, the CLI, and the
raw-SQL moves of an administrator who edits the database behind the application's back.

The log is the demo district (63 entries, one per row) signed as checkpoint A, then a second batch
(an officer's phone and a grid's name changed, each with its ``org.*.updated`` event) signed as
checkpoint B. The log key lives where ``settings`` says, so the CLI finds it through the env.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select, text
from typer.testing import CliRunner

from zhifa import ledger
from zhifa.cli import app as cli_app
from zhifa.config import Settings, get_settings
from zhifa.db import Database
from zhifa.demo.loader import load_demo
from zhifa.ledger import checkpoints, merkle
from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import ledger_state
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Grid, Officer

APPEND_ONLY = ("ledger_event", "ledger_node", "ledger_checkpoint", "ledger_cosignature")


@dataclass(frozen=True)
class Log:
    """What ``build_log`` made: checkpoint sizes, the log's verifier key, the edited rows."""

    size_a: int
    size_b: int
    verifier_key: str
    officer_id: int
    officer_created: int  # index of the officer's first entry (in batch A)
    officer_updated: int  # index of its second entry (in batch B)
    grid_id: int


def cli_runner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, settings: Settings
) -> Iterator[CliRunner]:
    """A CLI runner whose ``zhifa`` sees the test database and ``settings``' data dir."""
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ZHIFA_LEDGER_WITNESSES", json.dumps(settings.ledger_witnesses))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def zhifa(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(cli_app, list(args))


def build_log(db: Database, settings: Settings) -> Log:
    verifier_key = checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)
    keys = checkpoints.load_keys(settings)
    assert keys is not None
    with db.unit_of_work() as session:
        load_demo(session)
    with db.unit_of_work() as session:
        size_a = _sign(session, keys)
        officer = session.scalars(select(Officer).order_by(Officer.id).limit(1)).one()
        grid = session.scalars(select(Grid).order_by(Grid.id).limit(1)).one()
        officer_created = _latest_index(session, "officer", officer.id)
        _update(session, officer, "org.officer.updated", phone="028-8222-0000")
        _update(session, grid, "org.grid.updated", name="街子古镇网格（调整）")
    with db.unit_of_work() as session:
        size_b = _sign(session, keys)
        updated = _latest_index(session, "officer", officer.id)
    return Log(size_a, size_b, verifier_key, officer.id, officer_created, updated, grid.id)


def _sign(session: Any, keys: checkpoints.LogKeys) -> int:
    row = checkpoints.sign(session, keys)
    assert row is not None
    return row.size


def _latest_index(session: Any, table: str, row_id: int) -> int:
    return int(store_chain(session, table, str(row_id))[-1].seq)


def store_chain(session: Any, table: str, row_id: str) -> list[LedgerEvent]:
    stmt = select(LedgerEvent).where(
        LedgerEvent.subject_type == table, LedgerEvent.subject_id == row_id
    )
    return list(session.scalars(stmt.order_by(LedgerEvent.seq)))


def _update(session: Any, row: Any, kind: str, **values: Any) -> None:
    before = {name: getattr(row, name) for name in values}
    for name, value in values.items():
        setattr(row, name, value)
    changes = {name: {"before": before[name], "after": value} for name, value in values.items()}
    ledger.record(
        session, kind, row, {"changes": changes}, actor_id=None, district_code=row.district_code
    )


def record_events(db: Database, count: int, subject: tuple[str, str] = ("case", "1")) -> None:
    """Entries about a subject that is no ledgered row (a later domain's events)."""
    with db.unit_of_work() as session:
        for n in range(count):
            ledger.record(
                session, "test.event", subject, {"n": n}, actor_id=None, district_code=None
            )


def sign(db: Database, settings: Settings) -> int:
    keys = checkpoints.load_keys(settings)
    assert keys is not None
    with db.unit_of_work() as session:
        return _sign(session, keys)


# --- The administrator's moves (raw SQL, triggers dropped) ---


def drop_triggers(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                on = f" ON {table}" if conn.dialect.name == "postgresql" else ""
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}{on}"))


def restore_triggers(db: Database) -> None:
    """Put the triggers back (PostgreSQL keeps one schema for the whole run)."""
    drop_triggers(db)
    with db.engine.begin() as conn:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                conn.execute(text(_trigger_sql(conn.dialect.name, table, verb)))


def _trigger_sql(dialect: str, table: str, verb: str) -> str:
    name = f"{table}_no_{verb.lower()}"
    if dialect == "postgresql":
        return (
            f"CREATE TRIGGER {name} BEFORE {verb} ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION zhifa_append_only()"
        )
    return (
        f"CREATE TRIGGER {name} BEFORE {verb} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
    )


@contextmanager
def triggers_dropped(db: Database) -> Iterator[None]:
    drop_triggers(db)
    try:
        yield
    finally:
        restore_triggers(db)


def sql(db: Database, statement: str, **params: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def entry_body(db: Database, index: int) -> dict[str, Any]:
    with db.sessionmaker() as session:
        row = session.scalars(select(LedgerEvent).where(LedgerEvent.seq == index)).one()
        return dict(json.loads(row.body))


def set_entry(db: Database, index: int, envelope: dict[str, Any], *, leaf_too: bool) -> None:
    """Overwrite entry ``index``'s body (and, with ``leaf_too``, its leaf hash and payload)."""
    body = canonical_bytes(envelope)
    extra = ", leaf_hash = :leaf, payload = :payload" if leaf_too else ""
    with db.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE ledger_event SET body = :body{extra} WHERE seq = :seq"),
            {
                "body": body,
                "leaf": merkle.leaf_hash(body),
                "payload": json.dumps(envelope["payload"], ensure_ascii=False),
                "seq": index,
            },
        )


def rebuild_everything(db: Database) -> None:
    """What a thorough forger does after editing bodies: re-chain every entry, recompute every
    leaf hash and node, and throw the old checkpoints and cosignatures away."""
    tree, chains = merkle.MemoryTree(), {}
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, body FROM ledger_event ORDER BY seq")).all()
        for seq, body in rows:
            envelope = json.loads(bytes(body))
            key = (envelope["subject"]["type"], envelope["subject"]["id"])
            prev = chains.get(key)
            envelope["prev"] = base64.b64encode(prev).decode() if prev else None
            new_body = canonical_bytes(envelope)
            leaf = merkle.leaf_hash(new_body)
            conn.execute(
                text("UPDATE ledger_event SET body=:b, leaf_hash=:l, prev_hash=:p WHERE seq=:s"),
                {"b": new_body, "l": leaf, "p": prev, "s": seq},
            )
            chains[key] = leaf
            tree.append_hash(leaf)
        conn.execute(text("DELETE FROM ledger_node"))
        for (level, idx), value in tree.nodes.items():
            if level > 0:
                conn.execute(
                    text("INSERT INTO ledger_node (level, idx, hash) VALUES (:lv, :i, :h)"),
                    {"lv": level, "i": idx, "h": value},
                )
        conn.execute(text("DELETE FROM ledger_cosignature"))
        conn.execute(text("DELETE FROM ledger_checkpoint"))


def truncate(db: Database, size: int) -> None:
    """Cut the log back to ``size`` entries, with its nodes, checkpoints and head."""
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_event WHERE seq >= :n"), {"n": size})
        for level in range(1, 32):
            conn.execute(
                text("DELETE FROM ledger_node WHERE level = :lv AND (idx + 1) * :w > :n"),
                {"lv": level, "w": 1 << level, "n": size},
            )
        conn.execute(text("DELETE FROM ledger_cosignature WHERE size > :n"), {"n": size})
        conn.execute(text("DELETE FROM ledger_checkpoint WHERE size > :n"), {"n": size})
        conn.execute(text("UPDATE ledger_head SET size = :n"), {"n": size})


def current_state(db: Database, model: type, row_id: Any) -> dict[str, Any]:
    with db.sessionmaker() as session:
        row = session.get(model, row_id)
        assert row is not None
        state = ledger_state(row)
        assert state is not None
        return state


def write_note(path: Path, note_text: str) -> Path:
    path.write_text(note_text, encoding="utf-8")
    return path
