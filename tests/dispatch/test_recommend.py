"""``dispatch.recommend.recommend`` on synthetic layouts: officers placed at known distances from a
complaint in WG01 (owned by 一中队 ZD01), with their duty status, commitment and fix age set by
hand. 一中队: 李明, 王芳, 吴强 and squad leader 赵刚; 二中队: 孙丽."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld, complaint_world
from zhifa.dispatch.recommend import Recommendation, recommend
from zhifa.kit.clock import utcnow
from zhifa.kit.geo import EARTH_RADIUS_M
from zhifa.models.complaints import Complaint, ComplaintSource, HotlineType
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.org import Officer, OfficerStatus
from zhifa.org.roles import Role

LON, LAT = IN_WG01
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def complaint(
    session: Session,
    world: ComplaintWorld,
    *,
    point: tuple[float, float] | None = (LON, LAT),
    unit_id: int | None | str = "squad",
    tracking_no: str = "TS-REC-1",
) -> Complaint:
    row = Complaint(
        district_code=world.district_code,
        tracking_no=tracking_no,
        token=str(uuid.uuid4()),
        source=ComplaintSource.HOTLINE,
        category_id=world.categories[VENDING].id,
        hotline_type=HotlineType.COMPLAINT,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        unit_id=world.field.squad.id if unit_id == "squad" else unit_id,  # type: ignore[arg-type]
        received_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def place(
    session: Session,
    officer: Officer,
    *,
    east: float = 0.0,
    north: float = 0.0,
    status: DutyStatus = DutyStatus.AVAILABLE,
    minutes_ago: float = 1.0,
    complaint_id: int | None = None,
    no_fix: bool = False,
) -> None:
    """Put ``officer`` ``east``/``north`` metres from the complaint's point."""
    now = utcnow()
    lon = LON + east / (METRES_PER_DEGREE * math.cos(math.radians(LAT)))
    lat = LAT + north / METRES_PER_DEGREE
    session.merge(
        OfficerLive(
            officer_id=officer.id,
            district_code=officer.district_code,
            unit_id=officer.unit_id,
            status=status,
            status_at=now,
            lon=None if no_fix else lon,
            lat=None if no_fix else lat,
            accuracy_m=None if no_fix else 10.0,
            fix_at=None if no_fix else now - timedelta(minutes=minutes_ago),
            received_at=None if no_fix else now,
            complaint_id=complaint_id,
        )
    )
    session.flush()


def names(found: Recommendation) -> tuple[list[str], list[str]]:
    return [c.name for c in found.pair], [c.name for c in found.candidates]


def by_name(found: Recommendation, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in found.candidates if c.name == name)


class TestTheOwningSquadGoesFirst:
    def test_the_nearest_two_of_the_owning_squad_even_if_another_squads_officer_is_nearer(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.field.outsider, east=100)  # 孙丽, 二中队
        place(session, world.officer, east=300)  # 李明
        place(session, world.second, north=-500)  # 王芳
        place(session, world.third, east=800)  # 吴强
        found = recommend(session, c)
        pair, listed = names(found)
        assert pair == ["李明", "王芳"]
        assert listed == ["孙丽", "李明", "王芳", "吴强"]
        assert found.owning_unit_id == world.field.squad.id
        assert found.owning_unit_name == "一中队"
        assert found.has_point is True
        assert [c.distance_m for c in found.pair] == [pytest.approx(300, abs=1)] + [
            pytest.approx(500, abs=1)
        ]
        assert [c.own_unit for c in found.candidates] == [False, True, True, True]
        assert all(c.eligible and c.reason == "" for c in found.candidates)
        assert found.explanation == [
            "该投诉由一中队管辖：优先推荐该中队距离最近的可派人员。",
            "主办：李明（一中队），相距 300 米。",
            "协办：王芳（一中队），相距 500 米。",
            "孙丽（二中队）更近（相距 100 米），但不属于管辖中队，优先派管辖中队人员。",
        ]

    def test_a_squad_short_of_two_is_filled_with_the_nearest_of_other_squads(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        extra = factories.officer(
            session, "510184", "zhou.jie", [Role.OFFICER], unit=world.field.other_squad, name="周杰"
        )
        place(session, world.officer, east=2_500)
        place(session, world.field.outsider, east=1_200)
        place(session, extra, east=-1_800)
        found = recommend(session, c)
        assert names(found)[0] == ["李明", "孙丽"]
        assert found.explanation[1:4] == [
            "主办：李明（一中队），相距 2.5 公里。",
            "协办：孙丽（二中队），相距 1.2 公里。",
            "一中队有效定位的可派人员只有 1 名，由其他中队距离最近的可派人员补足两人。",
        ]

    def test_a_squad_with_nobody_available_gets_the_nearest_two_of_the_district(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        extra = factories.officer(
            session, "510184", "zhou.jie", [Role.OFFICER], unit=world.field.other_squad, name="周杰"
        )
        place(session, world.officer, east=50, status=DutyStatus.OFF_DUTY)
        place(session, world.field.outsider, east=1_200)
        place(session, extra, east=900)
        assert names(recommend(session, c))[0] == ["周杰", "孙丽"]


class TestSkippedOfficersAndWhy:
    def test_stale_off_duty_and_busy_officers_are_skipped_with_the_reason(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        other = complaint(session, world, tracking_no="TS-OTHER-9")
        place(session, world.officer, east=50, minutes_ago=12)  # stale
        place(session, world.second, east=80, status=DutyStatus.OFF_DUTY)
        place(session, world.third, east=120, complaint_id=other.id, status=DutyStatus.EN_ROUTE)
        place(session, world.field.leader, east=900)
        place(session, world.field.outsider, east=2_000)
        found = recommend(session, c)
        pair, listed = names(found)
        assert pair == ["赵刚", "孙丽"]
        assert listed == ["李明", "王芳", "吴强", "赵刚", "孙丽"]
        skipped = {x.name: (x.eligible, x.reason_code, x.reason) for x in found.candidates[:3]}
        assert skipped == {
            "李明": (False, "stale", "定位已过期（12 分钟前）"),
            "王芳": (False, "off_duty", "离岗"),
            "吴强": (False, "committed", "正在处置 TS-OTHER-9"),
        }
        assert by_name(found, "李明").fix_age_seconds >= 720
        assert "未推荐李明（一中队，相距 50 米）：定位已过期（12 分钟前）。" in found.explanation
        assert "未推荐王芳（一中队，相距 80 米）：离岗。" in found.explanation
        assert "未推荐吴强（一中队，相距 120 米）：正在处置 TS-OTHER-9。" in found.explanation

    def test_a_step_state_without_a_commitment_is_busy(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50, status=DutyStatus.ON_SCENE)
        place(session, world.second, east=400)
        found = recommend(session, c)
        assert by_name(found, "李明").reason == "正忙（到场）"
        assert names(found)[0] == ["王芳"]

    def test_an_officer_already_on_this_complaint_stays_eligible(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50, status=DutyStatus.EN_ROUTE, complaint_id=c.id)
        place(session, world.second, east=400)
        assert names(recommend(session, c))[0] == ["李明", "王芳"]

    def test_an_officer_of_the_owning_squad_without_a_fix_is_listed_as_such(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.officer, no_fix=True)
        place(session, world.second, east=400)
        found = recommend(session, c)
        nofix = by_name(found, "李明")
        assert (nofix.eligible, nofix.reason, nofix.distance_m) == (False, "暂无定位", None)
        assert names(found)[1][-1] == "李明"  # no distance: last

    def test_the_districts_own_stale_limit_applies(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        world.settings.position_stale_seconds = 60
        c = complaint(session, world)
        place(session, world.officer, east=50, minutes_ago=2)
        found = recommend(session, c)
        assert by_name(found, "李明").reason == "定位已过期（2 分钟前）"
        assert found.stale_after_seconds == 60

    def test_ages_read_in_the_fitting_unit(self, session: Session, world: ComplaintWorld) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50, minutes_ago=5.5)
        place(session, world.second, east=60, minutes_ago=3 * 60)
        place(session, world.third, east=70, minutes_ago=3 * 24 * 60)
        found = recommend(session, c)
        assert [by_name(found, n).reason for n in ("李明", "王芳", "吴强")] == [
            "定位已过期（5 分钟前）",
            "定位已过期（3 小时前）",
            "定位已过期（3 天前）",
        ]

    def test_desk_staff_inactive_officers_and_other_districts_are_not_candidates(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.dispatcher, east=10)
        place(session, world.second, east=20)
        world.second.status = OfficerStatus.SUSPENDED
        factories.district(session, "510104", "锦江区（演示）")
        stranger = factories.officer(session, "510104", "far.away", [Role.OFFICER], name="外区")
        place(session, stranger, east=30)
        place(session, world.officer, east=500)
        assert names(recommend(session, c)) == (["李明"], ["李明"])


class TestTheAnswerInWords:
    def test_nobody_available(self, session: Session, world: ComplaintWorld) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50, status=DutyStatus.OFF_DUTY)
        found = recommend(session, c)
        assert found.pair == []
        assert found.explanation == [
            "该投诉由一中队管辖：优先推荐该中队距离最近的可派人员。",
            "没有找到可派人员，请人工指派。",
            "未推荐李明（一中队，相距 50 米）：离岗。",
        ]

    def test_a_single_officer_is_recommended_with_the_two_officer_rule(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50)
        found = recommend(session, c)
        assert names(found)[0] == ["李明"]
        assert found.explanation[-1] == (
            "只有一名可派人员：现场执法前须有第二名执法人员到场（《行政处罚法》第四十二条）。"
        )

    def test_in_english_on_request(self, session: Session, world: ComplaintWorld) -> None:
        c = complaint(session, world)
        place(session, world.officer, east=50, minutes_ago=12)
        place(session, world.second, east=300)
        place(session, world.third, east=1_500)
        found = recommend(session, c, locale="en")
        assert found.explanation == [
            "The complaint belongs to 一中队: its nearest available officers go first.",
            "Lead: 王芳 (一中队), 300 m away.",
            "Second: 吴强 (一中队), 1.5 km away.",
            "Skipped 李明 (一中队), 50 m away: Location out of date (12 minutes ago).",
        ]


class TestWithoutAPointOrAnOwner:
    def test_without_a_point_the_owning_squads_available_officers_by_name(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world, point=None)
        place(session, world.field.outsider, east=10)
        place(session, world.officer, east=5_000, minutes_ago=90)  # stale does not matter here
        place(session, world.second, east=50, status=DutyStatus.OFF_DUTY)
        place(session, world.third, east=3_000)
        found = recommend(session, c)
        assert found.has_point is False
        assert names(found) == (["吴强", "李明"], ["吴强", "李明", "王芳"])
        assert all(x.distance_m is None for x in found.candidates)
        assert found.explanation == [
            "该投诉没有位置信息：按姓名列出一中队的可派人员。",
            "主办：吴强（一中队）。",
            "协办：李明（一中队）。",
        ]

    def test_without_an_owning_unit_the_nearest_of_the_district(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world, unit_id=None)
        place(session, world.field.outsider, east=100)
        place(session, world.officer, east=300)
        place(session, world.second, east=900)
        found = recommend(session, c)
        assert names(found)[0] == ["孙丽", "李明"]
        assert found.owning_unit_id is None
        assert found.explanation[0] == "该投诉尚未确定管辖中队：推荐全区距离最近的可派人员。"


class TestTheSearchWidens:
    def test_officers_far_away_are_found(self, session: Session, world: ComplaintWorld) -> None:
        c = complaint(session, world, unit_id=None)
        place(session, world.officer, east=12_000)
        place(session, world.field.outsider, north=-30_000)
        found = recommend(session, c)
        assert names(found)[0] == ["李明", "孙丽"]
        assert found.pair[1].distance_m == pytest.approx(30_000, rel=1e-3)

    def test_the_nearest_is_exact_across_the_corners_of_the_box(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world, unit_id=None)
        place(session, world.officer, east=900, north=900)  # inside the 1 km box, 1.27 km away
        place(session, world.second, east=1_100)  # outside the box, nearer
        found = recommend(session, c, limit=1)
        assert names(found)[0] == ["王芳", "李明"]

    def test_the_list_holds_the_nearest_few_and_the_pair(
        self, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        others = [
            factories.officer(
                session,
                "510184",
                f"o{n}",
                [Role.OFFICER],
                unit=world.field.other_squad,
                name=f"乙{n}",
            )
            for n in range(5)
        ]
        for n, officer in enumerate(others):
            place(session, officer, east=100 + n * 10)
        place(session, world.officer, east=700)
        place(session, world.second, east=800)
        found = recommend(session, c, limit=3)
        assert names(found) == (["李明", "王芳"], ["乙0", "乙1", "乙2", "李明", "王芳"])
