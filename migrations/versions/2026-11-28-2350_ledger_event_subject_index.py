"""ledger event subject index: find a subject's latest entry (its chain head) in O(log n)

Appending an entry reads the leaf hash of its subject's previous entry. Without this index that
read scans the log backwards until it meets the subject, which for a new subject is the whole log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_event_subject", ["subject_type", "subject_id", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_event", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_event_subject")
