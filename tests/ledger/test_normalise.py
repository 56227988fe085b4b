"""Payload normalisation: values a row holds become the canonical JSON model the same way whether
taken in memory at commit or read back from the database later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from zhifa.ledger.envelope import normalise

SHANGHAI = timezone(timedelta(hours=8))


class TestTimes:
    def test_an_aware_time_is_written_in_utc_whatever_its_offset(self) -> None:
        local = datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
        read_back = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
        assert normalise(local) == normalise(read_back) == "2026-11-29T00:00:00+00:00"

    def test_a_naive_time_and_a_date_keep_their_text(self) -> None:
        assert normalise(datetime(2026, 11, 29, 8, 0)) == "2026-11-29T08:00:00"
        assert normalise(date(2026, 11, 29)) == "2026-11-29"
