"""API shapes for officers. No schema carries a password hash; only create takes a password."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from zhifa.models.org import OfficerStatus
from zhifa.org.roles import Role, ScopeLevel

CERT_WARNING_DAYS = 30


class CertState(StrEnum):
    """Whether an enforcement certificate (执法证) is usable, with a badge colour."""

    NONE = "none"
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {
            "none": "No certificate",
            "valid": "Valid",
            "expiring": "Expires within 30 days",
            "expired": "Expired",
        }[self.value]

    @property
    def colour(self) -> str:
        return {"none": "grey", "valid": "green", "expiring": "amber", "expired": "red"}[self.value]


def cert_state(cert_no: str | None, valid_until: date | None, today: date) -> CertState:
    if not cert_no:
        return CertState.NONE
    if valid_until is None:
        return CertState.VALID
    if valid_until < today:
        return CertState.EXPIRED
    if valid_until <= today + timedelta(days=CERT_WARNING_DAYS):
        return CertState.EXPIRING
    return CertState.VALID


class OfficerFields(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    unit_id: int | None = None
    cert_no: str | None = Field(default=None, max_length=40, description="执法证号")
    cert_valid_from: date | None = None
    cert_valid_until: date | None = None
    phone: str | None = Field(default=None, max_length=40)
    roles: list[Role] | None = Field(default=None, min_length=1)
    scope: ScopeLevel | None = None
    status: OfficerStatus | None = None


class OfficerCreate(OfficerFields):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=256, description="Initial password")
    district_code: str | None = Field(default=None, description="Defaults to your district")
    roles: list[Role] = Field(min_length=1)


class OfficerUpdate(OfficerFields):
    """Only the fields sent are changed; send ``unit_id: null`` to take an officer off a unit."""


class OfficerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    district_code: str
    username: str
    name: str
    unit_id: int | None
    cert_no: str | None
    cert_valid_from: date | None
    cert_valid_until: date | None
    phone: str
    roles: list[str]
    scope: str
    status: OfficerStatus
    last_login_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cert_state(self) -> CertState:
        return cert_state(self.cert_no, self.cert_valid_until, date.today())
