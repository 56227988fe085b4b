"""What the auditor reads, and reading it from the database. 审计数据源.

The auditor (``zhifa.ledger.audit``) checks one shape of data whatever it comes from: the entries
in index order (the exact body bytes and what the log states beside them), the signed checkpoints
with their cosignature lines, the perfect-subtree nodes the log serves proofs from, and the ledger
state of every current row of every ledgered model. ``DatabaseSource`` reads them from the
database; ``zhifa.ledger.export.ExportSource`` reads them from an export directory.

Invariants: a database source reads everything in one snapshot (REPEATABLE READ on PostgreSQL, one
read transaction on SQLite), so entries, checkpoints and rows agree with each other while the app
keeps appending; entries, nodes and rows are streamed, never loaded all at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import Table, Text, func, inspect, select, type_coerce
from sqlalchemy.orm import Session

from zhifa.ledger import store
from zhifa.ledger.canonical import loads_json
from zhifa.ledger.envelope import ledger_state
from zhifa.models import Base
from zhifa.models.ledger import LedgerCheckpoint, LedgerCosignature, LedgerEvent, LedgerNode

BATCH = 2000

# Columns of ``ledger_event`` that copy a field of the body: the body is the truth, and the
# auditor checks that each copy still agrees with it.
CLAIMED_COLUMNS = (
    "leaf_hash",
    "prev_hash",
    "kind",
    "subject_type",
    "subject_id",
    "payload",
    "time_ms",
    "actor_id",
    "district_code",
)
_EVENTS = cast(Table, LedgerEvent.__table__)
_NODES = cast(Table, LedgerNode.__table__)


@dataclass(frozen=True)
class SourceEntry:
    """One entry: its index, the exact bytes that were hashed, and what the log says beside them."""

    index: int
    body: bytes
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceCosignature:
    line: str
    witness: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class SourceCheckpoint:
    """A signed checkpoint note as kept by the log; ``root`` is the database column beside it."""

    size: int
    note: str
    root: bytes | None = None
    cosignatures: tuple[SourceCosignature, ...] = ()


@dataclass(frozen=True)
class SourceRow:
    """A current row of a ledgered model: (table, primary key) and its ledger state."""

    table: str
    id: str
    state: dict[str, Any]


class AuditSource(Protocol):
    description: str

    def entry_count(self) -> int: ...

    def head_size(self) -> int | None: ...

    def entries(self) -> Iterator[SourceEntry]: ...

    def checkpoints(self) -> list[SourceCheckpoint]: ...

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None: ...

    def ledgered_tables(self) -> frozenset[str]: ...

    def rows(self) -> Iterator[SourceRow]: ...


def ledgered_models() -> list[type[Any]]:
    """Every model that declares ``__ledger_fields__``, by table name."""
    found = [m.class_ for m in Base.registry.mappers if hasattr(m.class_, "__ledger_fields__")]
    return sorted(found, key=lambda model: str(model.__tablename__))


def begin_snapshot(session: Session) -> None:
    """Make every later read of ``session`` see one snapshot (call before anything else)."""
    if session.in_transaction():
        raise RuntimeError("a snapshot must be the session's first transaction")
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        # pysqlite starts no transaction for a SELECT: without BEGIN each read sees a new state.
        session.connection().exec_driver_sql("BEGIN")


def row_key(row: object) -> str:
    """A row's primary key as the ledger spells a subject id (parts joined by "/")."""
    return "/".join(str(part) for part in inspect(row).identity or ())


class DatabaseSource:
    """The log, its checkpoints and the ledgered rows, read from one database snapshot."""

    def __init__(self, session: Session, description: str) -> None:
        self.session = session
        self.description = description
        begin_snapshot(session)
        self._head = store.size(session)

    def entry_count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(LedgerEvent)) or 0)

    def head_size(self) -> int | None:
        return self._head

    def entries(self) -> Iterator[SourceEntry]:
        # Core rows, not ORM ones: a plain tuple per entry. The payload column is selected as the
        # driver gives it (SQLite: the JSON text) and decoded with ``loads_json``, which gives
        # exactly what the column's JSON type would (PostgreSQL's driver decodes it already).
        columns = [
            type_coerce(_EVENTS.c.payload, Text) if name == "payload" else _EVENTS.c[name]
            for name in CLAIMED_COLUMNS
        ]
        stmt = select(_EVENTS.c.seq, _EVENTS.c.body, *columns).order_by(_EVENTS.c.seq)
        for row in self._stream_core(stmt):
            seq, body, leaf, prev, kind, s_type, s_id, payload, time_ms, actor, district = row
            if isinstance(payload, str | bytes | bytearray):
                payload = loads_json(payload)
            claims = {  # in CLAIMED_COLUMNS order
                "leaf_hash": None if leaf is None else bytes(leaf),
                "prev_hash": None if prev is None else bytes(prev),
                "kind": kind,
                "subject_type": s_type,
                "subject_id": s_id,
                "payload": payload,
                "time_ms": time_ms,
                "actor_id": actor,
                "district_code": district,
            }
            yield SourceEntry(int(seq), bytes(body), claims)

    def checkpoints(self) -> list[SourceCheckpoint]:
        lines: dict[int, list[SourceCosignature]] = defaultdict(list)
        stmt = select(LedgerCosignature).order_by(LedgerCosignature.size, LedgerCosignature.id)
        for c in self.session.scalars(stmt):
            lines[c.size].append(SourceCosignature(c.line + "\n", c.witness, c.timestamp))
        stmt_cp = select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)
        return [
            SourceCheckpoint(cp.size, cp.note, bytes(cp.root), tuple(lines.get(cp.size, ())))
            for cp in self.session.scalars(stmt_cp)
        ]

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None:
        stmt = select(_NODES.c.level, _NODES.c.idx, _NODES.c.hash).order_by(
            _NODES.c.level, _NODES.c.idx
        )
        return ((int(lv), int(i), bytes(h)) for lv, i, h in self._stream_core(stmt))

    def ledgered_tables(self) -> frozenset[str]:
        return frozenset(model.__tablename__ for model in ledgered_models())

    def rows(self) -> Iterator[SourceRow]:
        for model in ledgered_models():
            primary_key = inspect(model).primary_key
            stmt = select(model).order_by(*primary_key).execution_options(yield_per=BATCH)
            for row in self.session.scalars(stmt):
                state = ledger_state(row) or {}
                yield SourceRow(model.__tablename__, row_key(row), state)
            self.session.expunge_all()

    def _stream_core(self, stmt: Any) -> Iterator[Any]:
        """``stmt`` on the session's connection (same snapshot), without the ORM's row layer,
        fetched ``BATCH`` rows at a time."""
        result = self.session.connection().execute(stmt.execution_options(yield_per=BATCH))
        for rows in result.partitions():
            yield from rows
