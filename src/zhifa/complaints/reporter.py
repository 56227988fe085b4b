"""The reporter's identity (举报人保密): checked, sealed, masked, and revealed only on the record.

- ``seal`` checks the name, phone (CN mobile or landline) and e-mail, encrypts each under the key
  ``kit.sealed.box_for(secret, "complaint reporter")`` and gives the masked form every page
  shows (「张**，138****5678」; 「匿名」 when nothing was given) and an HMAC digest of the
  normalised phone (the same caller's complaints can be found without decrypting).
- ``reveal`` is the only way back to the clear values: it needs ``complaints:reveal`` and a reason,
  and records the step ``reporter_revealed`` (not public; its data holds the reason, never the
  values) in the ledger with the complaint.

Invariant: the clear values leave this module only in ``reveal``'s answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.complaints import workflow
from zhifa.complaints.schemas import RevealedReporter
from zhifa.config import Settings, get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.sealed import Box, box_for
from zhifa.models.complaints import Complaint
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission

PURPOSE = "complaint reporter"
ANONYMOUS = "匿名"
NAME_MAX = 50
EMAIL_MAX = 254
REASON_MAX = 500

MOBILE = re.compile(r"1[3-9]\d{9}")
# Area code (010, 02x: three digits; other 0xxx: four) and a 7–8 digit number.
LANDLINE = re.compile(r"(0[12]\d|0[3-9]\d{2})([2-9]\d{6,7})")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_NOISE = re.compile(r"[\s\-()（）]")


@dataclass(frozen=True)
class SealedReporter:
    anonymous: bool
    name_cipher: str | None
    phone_cipher: str | None
    email_cipher: str | None
    masked: str
    phone_digest: str | None


def box(settings: Settings | None = None) -> Box:
    return box_for((settings or get_settings()).secret(), PURPOSE)


def normalise_phone(raw: str) -> str:
    """The phone as stored: ``13812345678`` or ``028-82000000``; 422 when it is neither."""
    digits = PHONE_NOISE.sub("", raw.strip())
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if MOBILE.fullmatch(digits):
        return digits
    landline = LANDLINE.fullmatch(digits)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise InvalidInput(
        "The phone number {value} is not a mainland mobile number (11 digits starting with 1) "
        "or a landline with its area code (such as 028-82000000).",
        detail={"field": "reporter_phone"},
        value=raw.strip(),
    )


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(
            "The name is longer than {limit} characters.",
            detail={"field": "reporter_name"},
            limit=NAME_MAX,
        )
    return name


def _email(raw: str) -> str:
    email = raw.strip()
    if len(email) > EMAIL_MAX or not EMAIL.fullmatch(email):
        raise InvalidInput(
            "The e-mail address {value} is not valid (it should look like name@example.com).",
            detail={"field": "reporter_email"},
            value=email[:80],
        )
    return email


def mask_name(name: str) -> str:
    """「张三丰」 → 「张**」: the family name stays, the rest is starred."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    """「13812345678」 → 「138****5678」; 「028-82000000」 → 「028-****0000」."""
    if not phone:
        return ""
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-****{number[-4:]}"
    return f"{phone[:3]}****{phone[-4:]}"


def mask_email(email: str) -> str:
    if not email:
        return ""
    local_part, _, domain = email.partition("@")
    return f"{local_part[:1]}***@{domain}"


def phone_digest(phone: str, settings: Settings | None = None) -> str:
    """The digest of a phone number as stored (for finding one caller's complaints)."""
    return box(settings).digest(normalise_phone(phone).replace("-", ""))


def seal(
    *,
    name: str | None,
    phone: str | None,
    email: str | None,
    settings: Settings | None = None,
) -> SealedReporter:
    """Check and seal the reporter's contact details (all blank: anonymous)."""
    clear_name = _name(name) if name and name.strip() else ""
    clear_phone = normalise_phone(phone) if phone and phone.strip() else ""
    clear_email = _email(email) if email and email.strip() else ""
    if not (clear_name or clear_phone or clear_email):
        return SealedReporter(True, None, None, None, ANONYMOUS, None)
    sealer = box(settings)
    masked = "，".join(
        part
        for part in (
            mask_name(clear_name),
            mask_phone(clear_phone),
            "" if clear_phone else mask_email(clear_email),
        )
        if part
    )
    return SealedReporter(
        anonymous=False,
        name_cipher=sealer.seal(clear_name) if clear_name else None,
        phone_cipher=sealer.seal(clear_phone) if clear_phone else None,
        email_cipher=sealer.seal(clear_email) if clear_email else None,
        masked=masked,
        phone_digest=sealer.digest(clear_phone.replace("-", "")) if clear_phone else None,
    )


def apply(complaint: Complaint, sealed: SealedReporter) -> None:
    complaint.anonymous = sealed.anonymous
    complaint.reporter_name_cipher = sealed.name_cipher
    complaint.reporter_phone_cipher = sealed.phone_cipher
    complaint.reporter_email_cipher = sealed.email_cipher
    complaint.reporter_masked = sealed.masked
    complaint.reporter_phone_digest = sealed.phone_digest


def reveal(
    session: Session,
    actor: Actor,
    *,
    complaint_id: int,
    reason: str,
    settings: Settings | None = None,
) -> RevealedReporter:
    """The reporter's clear contact details, for a stated reason; the reveal is ledgered."""
    if not actor.can(Permission.COMPLAINTS_REVEAL):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_REVEAL)},
        )
    complaint = repo.complaint(session, actor, complaint_id)
    if complaint is None:
        raise NotFound(
            "Complaint {complaint_id} does not exist or is outside your data scope.",
            complaint_id=complaint_id,
        )
    why = " ".join(reason.split())
    if not why:
        raise InvalidInput(
            "Give the reason why you need the reporter's identity; it is kept on record.",
            detail={"field": "reason"},
        )
    if len(why) > REASON_MAX:
        raise InvalidInput(
            "The reason is longer than {limit} characters.",
            detail={"field": "reason"},
            limit=REASON_MAX,
        )
    if complaint.anonymous:
        raise Conflict(
            "This complaint was made anonymously: there is no identity to reveal.",
            error_code="anonymous",
        )
    opener = box(settings)
    revealed = RevealedReporter(
        complaint_id=complaint.id,
        tracking_no=complaint.tracking_no,
        name=_open(opener, complaint.reporter_name_cipher),
        phone=_open(opener, complaint.reporter_phone_cipher),
        email=_open(opener, complaint.reporter_email_cipher),
    )
    workflow.advance(
        session,
        complaint,
        "reporter_revealed",
        actor_id=actor.officer_id,
        public=False,
        data={"reason": why},
    )
    return revealed


def _open(opener: Box, cipher: str | None) -> str | None:
    return opener.open(cipher) if cipher else None
