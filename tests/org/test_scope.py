"""Data scope: which rows an actor may see (the one place the check lives)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from zhifa.models.org import Officer, Unit, UnitKind
from zhifa.org.roles import ScopeLevel
from zhifa.org.scope import DataScope, build_scope


def _tree(session: Session) -> dict[str, Unit]:
    f.district(session, "510184")
    f.district(session, "510104", "锦江区（测试）")
    f.district(session, "510681", "广汉市（测试）")  # another city (德阳)
    bureau = f.unit(session, "510184", UnitKind.BUREAU, "局", "JU")
    east = f.unit(session, "510184", UnitKind.BRIGADE, "一大队", "B1", bureau)
    west = f.unit(session, "510184", UnitKind.BRIGADE, "二大队", "B2", bureau)
    s1 = f.unit(session, "510184", UnitKind.SQUAD, "一中队", "S1", east)
    s2 = f.unit(session, "510184", UnitKind.SQUAD, "二中队", "S2", east)
    s3 = f.unit(session, "510184", UnitKind.SQUAD, "三中队", "S3", west)
    return {"bureau": bureau, "east": east, "s1": s1, "s2": s2, "s3": s3}


def _visible_officers(session: Session, scope: DataScope) -> set[str]:
    stmt = select(Officer.username)
    stmt = scope.where_district(stmt, Officer.district_code)
    stmt = scope.where_unit(stmt, Officer.unit_id)
    return set(session.scalars(stmt))


class TestScopeLevels:
    def test_squad_scope_sees_only_its_squad(self, session: Session) -> None:
        t = _tree(session)
        for name, unit in (("a", t["s1"]), ("b", t["s2"]), ("c", t["s3"])):
            f.officer(session, "510184", name, [f.Role.OFFICER], unit=unit)
        scope = build_scope(session, level=ScopeLevel.SQUAD, district_code="510184", unit=t["s1"])
        assert _visible_officers(session, scope) == {"a"}

    def test_brigade_scope_of_a_squad_member_covers_the_whole_brigade(
        self, session: Session
    ) -> None:
        t = _tree(session)
        for name, unit in (("a", t["s1"]), ("b", t["s2"]), ("c", t["s3"])):
            f.officer(session, "510184", name, [f.Role.OFFICER], unit=unit)
        scope = build_scope(session, level=ScopeLevel.BRIGADE, district_code="510184", unit=t["s1"])
        assert _visible_officers(session, scope) == {"a", "b"}

    def test_district_scope_sees_the_district_and_nothing_else(self, session: Session) -> None:
        t = _tree(session)
        f.officer(session, "510184", "a", [f.Role.OFFICER], unit=t["s1"])
        f.officer(session, "510104", "other", [f.Role.OFFICER])
        scope = build_scope(session, level=ScopeLevel.DISTRICT, district_code="510184", unit=None)
        assert _visible_officers(session, scope) == {"a"}

    def test_city_scope_covers_the_districts_of_the_same_city_only(self, session: Session) -> None:
        _tree(session)
        scope = build_scope(session, level=ScopeLevel.CITY, district_code="510184", unit=None)
        assert scope.district_codes == frozenset({"510184", "510104"})

    def test_squad_scope_without_a_unit_sees_no_unit_bearing_rows(self, session: Session) -> None:
        t = _tree(session)
        f.officer(session, "510184", "a", [f.Role.OFFICER], unit=t["s1"])
        scope = build_scope(session, level=ScopeLevel.SQUAD, district_code="510184", unit=None)
        assert _visible_officers(session, scope) == set()
