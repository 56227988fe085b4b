from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from shapely import union_all
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhifa.demo import data
from zhifa.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from zhifa.demo.loader import load_demo
from zhifa.models import Department, District, Grid, LedgerEvent, Officer, Unit
from zhifa.models.org import UnitKind
from zhifa.org.accounts.passwords import check_policy, hash_password, verify_password
from zhifa.org.roles import Role, ScopeLevel

TODAY = date(2026, 11, 29)


def _count(session: Session, model: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


@pytest.fixture
def loaded(session: Session) -> Session:
    load_demo(session, today=TODAY)
    session.commit()
    return session


class TestDemoAccounts:
    def test_there_is_exactly_one_account_per_role_besides_plain_officers(self) -> None:
        roles = [role for role, _ in DEMO_ACCOUNTS]
        for role in Role:
            expected = 1 if role is not Role.OFFICER else len(DEMO_ACCOUNTS) - len(Role) + 1
            assert roles.count(role.value) == expected

    def test_usernames_are_unique_and_easy(self) -> None:
        usernames = [u for _, u in DEMO_ACCOUNTS]
        assert len(set(usernames)) == len(usernames) == 40
        assert {"officer", "squadleader", "dispatcher", "legal", "leader", "catalog"} <= set(
            usernames
        )
        assert {"auditor", "admin", "officer02", "officer33"} <= set(usernames)

    @pytest.mark.parametrize(("role", "username"), DEMO_ACCOUNTS)
    def test_the_demo_password_passes_the_policy(self, role: str, username: str) -> None:
        check_policy(DEMO_PASSWORD, username=username)


class TestLoadDemo:
    def test_it_creates_the_district_as_fictional_data(self, loaded: Session) -> None:
        district = loaded.get(District, "510184")
        assert district is not None
        assert district.fictional is True
        assert "演示" in district.name
        assert district.city_code == "510100"
        assert district.center_lon == pytest.approx(103.67)
        assert district.center_lat == pytest.approx(30.63)

    def test_it_creates_the_expected_counts(self, session: Session) -> None:
        summary = load_demo(session, today=TODAY)
        session.commit()
        assert (summary.departments, summary.units, summary.grids, summary.officers) == (
            7,
            9,
            6,
            40,
        )
        assert summary.created == 1 + 7 + 9 + 6 + 40
        assert summary.accounts == DEMO_ACCOUNTS
        assert _count(session, District) == 1
        assert _count(session, Department) == 7
        assert _count(session, Unit) == 9
        assert _count(session, Grid) == 6
        assert _count(session, Officer) == 40

    def test_the_unit_tree_is_one_bureau_two_brigades_six_squads(self, loaded: Session) -> None:
        units = {u.code: u for u in loaded.scalars(select(Unit))}
        kinds = sorted(u.kind for u in units.values())
        assert kinds.count(UnitKind.BUREAU) == 1
        assert kinds.count(UnitKind.BRIGADE) == 2
        assert kinds.count(UnitKind.SQUAD) == 6
        bureau = units["JU"]
        assert bureau.path == f"/{bureau.id}/"
        for code in ("ZD01", "ZD02", "ZD03"):
            brigade = units["DD01"]
            assert units[code].parent_id == brigade.id
            assert units[code].path == f"{brigade.path}{units[code].id}/"
            assert units[code].path.startswith(bureau.path)

    def test_each_squad_owns_one_grid(self, loaded: Session) -> None:
        rows = loaded.execute(select(Grid.code, Unit.code, Unit.kind).join(Unit)).all()
        assert sorted(unit for _, unit, _ in rows) == data.SQUAD_CODES
        assert {kind for _, _, kind in rows} == {UnitKind.SQUAD}

    def test_grids_are_valid_closed_and_do_not_overlap(self, loaded: Session) -> None:
        grids = list(loaded.scalars(select(Grid)))
        shapes = [shape(g.geometry) for g in grids]
        for grid, polygon in zip(grids, shapes, strict=True):
            ring = grid.geometry["coordinates"][0]
            assert ring[0] == ring[-1]
            assert polygon.is_valid
            assert 103.6 < polygon.centroid.x < 103.75
            assert 30.6 < polygon.centroid.y < 30.66
            assert (grid.min_lon, grid.min_lat, grid.max_lon, grid.max_lat) == polygon.bounds
            assert 3_000_000 < grid.area_m2 < 5_000_000
        for a, b in itertools.combinations(shapes, 2):
            assert a.intersection(b).area == pytest.approx(0.0, abs=1e-12)

    def test_grids_tile_the_box_around_the_town_centre(self, loaded: Session) -> None:
        union = union_all([shape(g.geometry) for g in loaded.scalars(select(Grid))])
        assert union.covers(Point(103.67, 30.63))
        assert union.area == pytest.approx(0.06 * 0.036, rel=1e-9)

    def test_officers_have_unique_fictional_certificates_and_phones(self, loaded: Session) -> None:
        officers = list(loaded.scalars(select(Officer)))
        certs = [o.cert_no for o in officers]
        assert len(set(certs)) == 40
        assert all(c is not None and c.startswith("DEMO-510184-") for c in certs)
        assert len({o.phone for o in officers}) == 40
        assert all(o.phone.startswith("1380000") and len(o.phone) == 11 for o in officers)

    def test_some_certificates_expire_soon_or_have_expired(self, loaded: Session) -> None:
        until = {o.username: o.cert_valid_until for o in loaded.scalars(select(Officer))}
        assert until["officer09"] is not None
        assert until["officer09"] < TODAY
        soon = TODAY + timedelta(days=30)
        expiring = [u for u, d in until.items() if d is not None and TODAY <= d <= soon]
        assert sorted(expiring) == ["officer04", "officer20"]

    def test_roles_scopes_and_units_follow_the_role(self, loaded: Session) -> None:
        officers = {o.username: o for o in loaded.scalars(select(Officer))}
        units = {u.id: u for u in loaded.scalars(select(Unit))}
        assert officers["admin"].roles == [Role.SYSTEM_ADMIN.value]
        assert officers["admin"].scope == ScopeLevel.CITY
        assert officers["leader"].scope == ScopeLevel.DISTRICT
        assert officers["officer"].scope == ScopeLevel.SQUAD
        assert officers["squadleader"].roles == [Role.SQUAD_LEADER.value]
        squad = units[officers["officer"].unit_id or 0]
        assert squad.kind == UnitKind.SQUAD
        assert officers["squadleader"].unit_id == squad.id
        assert all(
            units[o.unit_id or 0].kind == UnitKind.SQUAD
            for o in officers.values()
            if o.roles[0] in (Role.OFFICER, Role.SQUAD_LEADER)
        )

    def test_every_account_logs_in_with_the_demo_password(self, loaded: Session) -> None:
        hashes = set(loaded.scalars(select(Officer.password_hash)))
        assert len(hashes) == 1  # hashed once per run, reused
        assert verify_password(hashes.pop(), DEMO_PASSWORD)

    def test_it_records_one_created_event_per_row(self, loaded: Session) -> None:
        events = list(loaded.scalars(select(LedgerEvent)))
        kinds = [e.kind for e in events]
        assert kinds.count("org.district.created") == 1
        assert kinds.count("org.department.created") == 7
        assert kinds.count("org.unit.created") == 9
        assert kinds.count("org.grid.created") == 6
        assert kinds.count("org.officer.created") == 40
        assert len(events) == 63
        assert all(e.payload["via"] == "demo" and e.actor_id is None for e in events)
        assert all(e.district_code == "510184" for e in events)
        officer_event = next(e for e in events if e.payload.get("username") == "officer")
        assert officer_event.subject_type == "officer"
        assert "password_hash" not in officer_event.payload


class TestLoadDemoTwice:
    def test_a_second_run_adds_no_rows_and_no_events(self, loaded: Session) -> None:
        before = [_count(loaded, m) for m in (District, Department, Unit, Grid, Officer)]
        events_before = _count(loaded, LedgerEvent)
        summary = load_demo(loaded, today=TODAY + timedelta(days=3))
        loaded.commit()
        assert summary.created == 0
        assert [_count(loaded, m) for m in (District, Department, Unit, Grid, Officer)] == before
        assert _count(loaded, LedgerEvent) == events_before

    def test_a_changed_password_survives_a_reload(self, loaded: Session) -> None:
        officer = loaded.scalar(select(Officer).where(Officer.username == "officer"))
        assert officer is not None
        officer.password_hash = hash_password("Changed-Pass-99")
        loaded.commit()
        load_demo(loaded, today=TODAY)
        loaded.commit()
        loaded.refresh(officer)
        assert verify_password(officer.password_hash, "Changed-Pass-99")
        assert not verify_password(officer.password_hash, DEMO_PASSWORD)

    def test_a_partly_loaded_district_is_completed(self, loaded: Session) -> None:
        grid = loaded.scalar(select(Grid).where(Grid.code == "WG06"))
        loaded.delete(grid)
        loaded.commit()
        summary = load_demo(loaded, today=TODAY)
        loaded.commit()
        assert summary.created == 1
        assert summary.grids == 6
        assert loaded.scalar(select(Grid).where(Grid.code == "WG06")) is not None
