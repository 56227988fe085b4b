"""Organisation services: the unit tree rules, moving a subtree, scope, certificate states."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.org.helpers import HOME, Side, build_side, officer
from zhifa.errors import Conflict, NotFound
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Unit, UnitKind
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for
from zhifa.org.officers.repository import OfficerFilter
from zhifa.org.officers.schemas import CertState, cert_state
from zhifa.org.officers.service import officer_service
from zhifa.org.roles import Role
from zhifa.org.schemas import UnitCreate, UnitMove
from zhifa.org.service import unit_service


@pytest.fixture
def side(session: Session) -> Side:
    return build_side(session, HOME, 103.60)


def admin(session: Session) -> Actor:
    row = officer(session, HOME, "admin", [Role.SYSTEM_ADMIN])
    return actor_for(session, row, via="system")


class TestUnitTree:
    def test_moving_a_squad_gives_it_a_path_under_its_new_brigade(
        self, session: Session, side: Side
    ) -> None:
        actor = admin(session)
        child = unit_service.create(
            session,
            actor,
            data=UnitCreate(
                kind=UnitKind.SQUAD, code="S1b", name="一中队分队", parent_id=side.brigade1.id
            ),
        )
        unit_service.move(
            session, actor, unit_id=side.squad1.id, data=UnitMove(parent_id=side.brigade2.id)
        )
        assert side.squad1.path == f"{side.brigade2.path}{side.squad1.id}/"
        assert child.path == f"{side.brigade1.path}{child.id}/"  # not under the moved squad
        session.commit()  # the caller owns the transaction; entries are sequenced at commit
        kinds = [e.kind for e in session.scalars(select(LedgerEvent))]
        assert kinds.count("org.unit.moved") == 1

    def test_a_squad_moves_under_the_bureau_but_a_brigade_never_under_a_brigade(
        self, session: Session, side: Side
    ) -> None:
        actor = admin(session)
        brigade3 = unit_service.create(
            session,
            actor,
            data=UnitCreate(
                kind=UnitKind.BRIGADE, code="D3", name="三大队", parent_id=side.bureau.id
            ),
        )
        squad = unit_service.create(
            session,
            actor,
            data=UnitCreate(kind=UnitKind.SQUAD, code="S3", name="三中队", parent_id=brigade3.id),
        )
        unit_service.move(session, actor, unit_id=squad.id, data=UnitMove(parent_id=side.bureau.id))
        assert squad.path == f"{side.bureau.path}{squad.id}/"
        with pytest.raises(Conflict):
            unit_service.move(
                session, actor, unit_id=brigade3.id, data=UnitMove(parent_id=side.brigade1.id)
            )

    def test_a_unit_cannot_move_under_its_own_subtree(self, session: Session, side: Side) -> None:
        actor = admin(session)
        with pytest.raises(Conflict):
            unit_service.move(
                session, actor, unit_id=side.bureau.id, data=UnitMove(parent_id=side.squad1.id)
            )

    def test_a_squad_cannot_be_the_parent_of_a_squad(self, session: Session, side: Side) -> None:
        with pytest.raises(Conflict):
            unit_service.create(
                session,
                admin(session),
                data=UnitCreate(kind=UnitKind.SQUAD, code="S9", name="x", parent_id=side.squad1.id),
            )

    def test_a_unit_with_active_sub_units_cannot_be_deactivated(
        self, session: Session, side: Side
    ) -> None:
        actor = admin(session)
        with pytest.raises(Conflict):
            unit_service.deactivate(session, actor, unit_id=side.brigade1.id)
        unit_service.deactivate(session, actor, unit_id=side.squad1.id)
        assert unit_service.deactivate(session, actor, unit_id=side.brigade1.id).active is False

    def test_the_tree_nests_units_and_counts_officers(self, session: Session, side: Side) -> None:
        [root] = unit_service.tree(session, admin(session))
        assert root.unit.id == side.bureau.id
        brigade1 = next(n for n in root.children if n.unit.id == side.brigade1.id)
        assert [(n.unit.id, n.officer_count) for n in brigade1.children] == [(side.squad1.id, 1)]


class TestSquadScope:
    def test_a_squad_officer_sees_only_their_squad(self, session: Session, side: Side) -> None:
        me = actor_for(session, side.officer1, via="system")
        seen = officer_service.list(session, me, criteria=OfficerFilter())
        assert [o.id for o in seen] == [side.officer1.id]
        assert [u.id for u in unit_service.list(session, me)] == [side.squad1.id]
        with pytest.raises(NotFound):
            officer_service.get(session, me, officer_id=side.officer2.id)
        assert session.get(Unit, side.squad2.id) is not None


class TestCertificateState:
    @pytest.mark.parametrize(
        ("until", "state"),
        [
            (None, CertState.VALID),
            (date(2026, 12, 31), CertState.VALID),
            (date(2026, 7, 1), CertState.EXPIRING),
            (date(2026, 6, 1), CertState.EXPIRING),
            (date(2026, 5, 31), CertState.EXPIRED),
        ],
    )
    def test_state_from_the_end_date(self, until: date | None, state: CertState) -> None:
        assert cert_state("川A-1", until, today=date(2026, 6, 1)) is state

    def test_no_number_means_no_certificate(self) -> None:
        assert cert_state(None, None, today=date(2026, 6, 1)) is CertState.NONE
