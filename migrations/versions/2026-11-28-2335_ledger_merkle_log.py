"""ledger merkle log: leaves with canonical bodies, perfect-subtree nodes, the sequencer head,
signed checkpoints, witness cosignatures, and triggers that refuse UPDATE and DELETE on them.

Events recorded before this revision are turned into leaves in their original order (their body
is built from the stored fields; their time from ``created_at``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 23:35:06.330119
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import zhifa.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", zhifa.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoint")),
        sa.UniqueConstraint("size", name=op.f("uq_ledger_checkpoint_size")),
    )
    op.create_table(
        "ledger_cosignature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", zhifa.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_cosignature")),
        sa.UniqueConstraint("size", "witness", name=op.f("uq_ledger_cosignature_size_witness")),
    )
    with op.batch_alter_table("ledger_cosignature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_cosignature_size"), ["size"], unique=False)

    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_node")),
    )
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("time_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
    size = _backfill(op.get_bind())
    op.execute(
        sa.text("INSERT INTO ledger_head (id, size) VALUES (1, :size)").bindparams(size=size)
    )
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        for name in ("seq", "time_ms", "body", "leaf_hash"):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_ledger_event_seq"), ["seq"])
    _create_triggers(op.get_bind().dialect.name)


APPEND_ONLY = ("ledger_event", "ledger_node", "ledger_checkpoint", "ledger_cosignature")


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION zhifa_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$"
        )
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            name = f"{table}_no_{verb.lower()}"
            if dialect == "postgresql":
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {verb} ON {table} FOR EACH ROW "
                    "EXECUTE FUNCTION zhifa_append_only()"
                )
            else:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {verb} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
                )


def _drop_triggers(dialect: str) -> None:
    for table in APPEND_ONLY:
        for verb in ("update", "delete"):
            suffix = f" ON {table}" if dialect == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}{suffix}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS zhifa_append_only()")


def _backfill(bind: sa.Connection) -> int:
    """Turn the events recorded before this revision into leaves, in their original order."""
    from zhifa.kit.clock import as_utc
    from zhifa.ledger import merkle
    from zhifa.ledger.envelope import Pending, body_of, normalise

    table = sa.table(
        "ledger_event",
        *(
            sa.column(c, sa.JSON) if c == "payload" else sa.column(c)
            for c in (
                "id",
                "kind",
                "district_code",
                "actor_id",
                "subject_type",
                "subject_id",
                "payload",
                "created_at",
                "seq",
                "time_ms",
                "body",
                "leaf_hash",
                "prev_hash",
            )
        ),
    )
    rows = bind.execute(sa.select(table).order_by(table.c.id)).mappings().all()
    tree = merkle.MemoryTree()
    chains: dict[tuple[str, str], bytes] = {}
    for seq, row in enumerate(rows):
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        item = Pending(
            kind=row["kind"],
            time_ms=int(as_utc(created).timestamp() * 1000),
            district_code=row["district_code"],
            actor_id=row["actor_id"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            payload=normalise(row["payload"]),
        )
        key = (item.subject_type, item.subject_id)
        body = body_of(item, chains.get(key))
        leaf = merkle.leaf_hash(body)
        bind.execute(
            table.update()
            .where(table.c.id == row["id"])
            .values(
                seq=seq,
                time_ms=item.time_ms,
                payload=item.payload,
                body=body,
                leaf_hash=leaf,
                prev_hash=chains.get(key),
            )
        )
        chains[key] = leaf
        tree.append_hash(leaf)
    nodes = sa.table("ledger_node", sa.column("level"), sa.column("idx"), sa.column("hash"))
    for (level, idx), value in tree.nodes.items():
        if level > 0:
            bind.execute(nodes.insert().values(level=level, idx=idx, hash=value))
    return len(rows)


def downgrade() -> None:
    _drop_triggers(op.get_bind().dialect.name)
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ledger_event_seq"), type_="unique")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("leaf_hash")
        batch_op.drop_column("body")
        batch_op.drop_column("time_ms")
        batch_op.drop_column("seq")

    op.drop_table("ledger_node")
    op.drop_table("ledger_head")
    with op.batch_alter_table("ledger_cosignature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_cosignature_size"))

    op.drop_table("ledger_cosignature")
    op.drop_table("ledger_checkpoint")
