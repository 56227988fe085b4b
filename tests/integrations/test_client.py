"""The signature scheme the city platform verifies, and the HTTP client's refusals."""

from __future__ import annotations

import hashlib
import hmac

from tests.integrations.helpers import SECRET
from tests.integrations.platform import CityPlatform
from zhifa.integrations import client

BODY = '{"tracking_no":"TS20260501-7K3QD2","status":"open","note":"已受理"}'.encode()
STAMP = "1777600000"


def _reference(secret: str, stamp: str, body: bytes) -> str:
    """The scheme as documented for the platform's developers, written out independently."""
    return (
        "sha256="
        + hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    )


class TestSignature:
    def test_the_signature_is_the_documented_hmac(self) -> None:
        assert client.signature(SECRET, STAMP, BODY) == _reference(SECRET, STAMP, BODY)

    def test_a_correct_signature_verifies(self) -> None:
        header = _reference(SECRET, STAMP, BODY)

        assert client.verify_signature(SECRET, STAMP, BODY, header, now=int(STAMP) + 10)
        assert client.verify_signature(SECRET, STAMP, BODY, header, tolerance_seconds=None)

    def test_a_changed_body_another_secret_or_another_time_fails(self) -> None:
        header = _reference(SECRET, STAMP, BODY)
        now = int(STAMP) + 10

        assert not client.verify_signature(SECRET, STAMP, BODY + b" ", header, now=now)
        assert not client.verify_signature("another-secret", STAMP, BODY, header, now=now)
        assert not client.verify_signature(SECRET, str(int(STAMP) + 1), BODY, header, now=now)

    def test_an_old_or_malformed_request_fails(self) -> None:
        header = _reference(SECRET, STAMP, BODY)

        assert not client.verify_signature(SECRET, STAMP, BODY, header, now=int(STAMP) + 301)
        assert not client.verify_signature(SECRET, "", BODY, header)
        assert not client.verify_signature(SECRET, "12ab", BODY, header)
        assert not client.verify_signature(SECRET, STAMP, BODY, header.removeprefix("sha256="))
        assert not client.verify_signature(SECRET, STAMP, BODY, "sha256=签名", now=int(STAMP))


class TestSend:
    def test_a_redirect_is_not_followed(self, platform: CityPlatform) -> None:
        platform.answer_with(302)

        answer = client.post_form(platform.base + "/anything", {"a": "1"}, timeout=5)

        assert answer.status == 302
        assert not answer.ok
        assert [r.method for r in platform.received] == ["POST"]  # no GET to the new place

    def test_a_closed_port_is_an_answer_without_status(self, platform: CityPlatform) -> None:
        platform.go_down()

        answer = client.get(platform.open311_url + "/requests.json", {}, timeout=5)

        assert answer.status is None
        assert "refused" in answer.error.lower()

    def test_a_bad_address_is_an_answer_without_status(self) -> None:
        answer = client.get("http://", {}, timeout=5)

        assert answer.status is None
        assert answer.error
