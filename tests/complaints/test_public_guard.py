"""The public page's guards on their own: the signed form token, the honeypot, the rate limit."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from zhifa.complaints import public_guard
from zhifa.complaints.public_guard import RateLimiter
from zhifa.config import Settings
from zhifa.errors import InvalidInput, Throttled

NOW = 1_780_000_000.0


def settings_with(secret: str) -> Settings:
    return Settings(secret_key=SecretStr(secret))


class TestFormToken:
    def test_a_fresh_token_is_accepted_for_two_hours(self) -> None:
        settings = settings_with("one secret")
        token = public_guard.issue_token(settings, now=NOW)

        public_guard.check_token(settings, token, now=NOW)
        public_guard.check_token(settings, token, now=NOW + 2 * 3600)

    def test_an_older_token_is_refused_as_expired(self) -> None:
        settings = settings_with("one secret")
        token = public_guard.issue_token(settings, now=NOW)

        with pytest.raises(InvalidInput) as refused:
            public_guard.check_token(settings, token, now=NOW + 2 * 3600 + 1)

        assert refused.value.code == "expired_form_token"
        assert refused.value.detail == {"field": "form_token"}

    def test_a_token_from_the_future_is_refused(self) -> None:
        settings = settings_with("one secret")
        token = public_guard.issue_token(settings, now=NOW + 600)

        with pytest.raises(InvalidInput) as refused:
            public_guard.check_token(settings, token, now=NOW)

        assert refused.value.code == "expired_form_token"

    def test_a_token_of_another_server_or_with_a_changed_time_is_refused(self) -> None:
        ours, theirs = settings_with("one secret"), settings_with("another secret")
        stamp, _, signature = public_guard.issue_token(ours, now=NOW).partition(".")

        for forged in (
            public_guard.issue_token(theirs, now=NOW),
            f"{int(stamp) + 60}.{signature}",
            "",
            "not a token",
        ):
            with pytest.raises(InvalidInput) as refused:
                public_guard.check_token(ours, forged, now=NOW)
            assert refused.value.code == "bad_form_token"


class TestHoneypot:
    def test_an_empty_honeypot_passes_and_a_filled_one_is_refused(self) -> None:
        public_guard.check_honeypot("")
        public_guard.check_honeypot("   ")

        with pytest.raises(InvalidInput) as refused:
            public_guard.check_honeypot("http://spam.example")

        assert refused.value.code == "honeypot"


class TestRateLimiter:
    def test_the_limit_counts_accepted_complaints_per_address_in_the_window(self) -> None:
        limiter = RateLimiter(limit=2, window=3600)
        for _ in range(2):
            limiter.check("10.0.0.1", now=NOW)
            limiter.record("10.0.0.1", now=NOW)

        with pytest.raises(Throttled) as refused:
            limiter.check("10.0.0.1", now=NOW + 10)
        limiter.check("10.0.0.2", now=NOW + 10)  # another address is not affected

        assert refused.value.status_code == 429

    def test_the_allowance_comes_back_as_the_hour_passes(self) -> None:
        limiter = RateLimiter(limit=1, window=3600)
        limiter.record("10.0.0.1", now=NOW)

        with pytest.raises(Throttled):
            limiter.check("10.0.0.1", now=NOW + 3599)
        limiter.check("10.0.0.1", now=NOW + 3600)

    def test_a_refused_check_counts_nothing(self) -> None:
        limiter = RateLimiter(limit=1, window=3600)
        limiter.record("10.0.0.1", now=NOW)
        for _ in range(5):
            with pytest.raises(Throttled):
                limiter.check("10.0.0.1", now=NOW + 1)

        limiter.check("10.0.0.1", now=NOW + 3600)
