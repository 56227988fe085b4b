"""统一社会信用代码 (GB 32100-2015) and 居民身份证号 (GB 11643-1999): normalised and validated with
python-stdnum. A refusal is an ``InvalidInput`` naming the field (``uscc`` / ``id_card``) and saying
what is wrong in words an officer can act on."""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric, uscc

from zhifa.errors import InvalidInput


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


def _refusal(exc: stdnum_errors.ValidationError, field: str, value: str) -> InvalidInput:
    if field == "uscc":
        messages = {
            stdnum_errors.InvalidLength: N_(
                "The unified social credit code {value} must have 18 characters."
            ),
            stdnum_errors.InvalidChecksum: N_(
                "The unified social credit code {value} is mistyped: "
                "its check character does not match."
            ),
        }
        fallback = N_("The unified social credit code {value} is not valid: check every character.")
    else:
        messages = {
            stdnum_errors.InvalidLength: N_("The ID card number {value} must have 18 characters."),
            stdnum_errors.InvalidChecksum: N_(
                "The ID card number {value} is mistyped: its check digit does not match."
            ),
            stdnum_errors.InvalidComponent: N_(
                "The ID card number {value} has an impossible birth date or region code."
            ),
        }
        fallback = N_("The ID card number {value} is not valid: check every digit.")
    message = next((m for cls, m in messages.items() if isinstance(exc, cls)), fallback)
    return InvalidInput(message, detail={"field": field}, value=value)


def normalise_uscc(value: str) -> str:
    """The code in its stored form (upper case, no spaces), or a 422 on the field ``uscc``."""
    raw = value.strip()
    try:
        return str(uscc.validate(raw))
    except stdnum_errors.ValidationError as exc:
        raise _refusal(exc, "uscc", raw) from None


def _validate_ric(raw: str) -> str:
    """python-stdnum's check, except that a region code is accepted whatever the birth year.

    stdnum refuses a county code for people born before the county got it (崇州市 510184 dates
    from 1994), but a number takes the code of the place where it was first issued, often years
    after birth: a 1980-born resident of 崇州 may well hold 510184…. The length, the digits, the
    check digit, the birth date and the existence of the region code are still checked."""
    try:
        return str(ric.validate(raw))
    except stdnum_errors.InvalidComponent:
        number = str(ric.compact(raw))
        ric.get_birth_date(number)  # an impossible date is still refused
        if not any(props for _, props in numdb.get("cn/loc").info(number[:6])):
            raise
        return number


def normalise_id_card(value: str) -> str:
    """The 18-character number (a final x upper-cased), or a 422 on the field ``id_card``. The
    value is not repeated in the message: a refused number must not end up in logs either."""
    raw = value.strip()
    try:
        return _validate_ric(raw)
    except stdnum_errors.ValidationError as exc:
        raise _refusal(exc, "id_card", mask(ric.compact(raw))) from None


def looks_like_id_card(value: str) -> bool:
    try:
        _validate_ric(value.strip())
    except stdnum_errors.ValidationError:
        return False
    return True


def mask(number: str) -> str:
    """First four and last four characters shown: ``5101**********1234``."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
