"""Sealed values: text encrypted and digested under keys derived from the application secret.

``box_for(secret, purpose)`` derives two keys with HKDF-SHA256 (info ``b"zhifa <purpose>"`` and
``b"zhifa <purpose> digest"``): a Fernet key (AES-128-CBC + HMAC-SHA256 with a random IV, so the
same text seals differently each time) and an HMAC-SHA256 key whose digests are equal for equal
texts (duplicates and exact searches without decrypting). Each purpose (a complainant's contact
details, an integration's secret) has its own keys, so one leaked key opens one kind of data.

Invariant: the secret must be kept; with another secret ``open`` refuses (409) rather than
answering garbage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from zhifa.errors import Conflict


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret.encode("utf-8")
    )


@dataclass(frozen=True)
class Box:
    purpose: str
    fernet_key: bytes
    digest_key: bytes

    def seal(self, text: str) -> str:
        return Fernet(self.fernet_key).encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, cipher: str) -> str:
        try:
            return Fernet(self.fernet_key).decrypt(cipher.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise Conflict(
                "The stored value cannot be decrypted with this server's secret key."
            ) from None

    def digest(self, text: str) -> str:
        return hmac.new(self.digest_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=32)
def box_for(secret: str, purpose: str) -> Box:
    info = f"zhifa {purpose}".encode()
    return Box(
        purpose=purpose,
        fernet_key=base64.urlsafe_b64encode(_derive(secret, info)),
        digest_key=_derive(secret, info + b" digest"),
    )
