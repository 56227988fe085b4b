"""The ledger's event table: one row per state change or security event, append-only.

The Merkle log (leaves, tree, checkpoints) is built on these events by the ledger domain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, CreatedAt


class LedgerEvent(CreatedAt, Base):
    __tablename__ = "ledger_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    district_code: Mapped[str | None] = mapped_column(String(6), index=True, default=None)
    actor_id: Mapped[int | None] = mapped_column(Integer, default=None)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
