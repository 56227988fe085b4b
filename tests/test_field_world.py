"""The shared field-inspection test world is what the other field tests assume."""

from sqlalchemy.orm import Session
from stdnum.cn import uscc

from tests.field import field_world
from zhifa.catalog import assembly
from zhifa.kit.clock import today_local


def test_world(session: Session) -> None:
    w = field_world(session)
    session.commit()
    c = assembly.for_subject_type(session, "510184", "internet_cafe", on=today_local())
    assert [i.code for i in c.items] == ["WB-01", "WB-02", "WB-03"]
    assert uscc.is_valid(w.cafe.uscc)
