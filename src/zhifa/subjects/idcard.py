"""Encryption and digests of 居民身份证号.

Two keys are derived from the application secret (``Settings.secret()``) with HKDF-SHA256:

- info ``b"zhifa subject id card"``: a Fernet key (AES-128-CBC + HMAC-SHA256, with a random IV, so
  the same number encrypts differently each time); the cipher text is ``Subject.id_card_cipher``;
- info ``b"zhifa subject id card digest"``: an HMAC-SHA256 key; ``Subject.id_card_digest`` is the
  HMAC of the normalised number, equal for equal numbers, which is how duplicates and exact
  searches find a person without decrypting anything.

Invariant: the secret must be kept. With another secret the stored numbers cannot be read (the
masked form and the digest still show, and ``reveal`` refuses instead of answering garbage).
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

CIPHER_INFO = b"zhifa subject id card"
DIGEST_INFO = b"zhifa subject id card digest"


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret.encode("utf-8")
    )


@dataclass(frozen=True)
class IdCardKeys:
    """The two derived keys; build with ``keys_for(settings.secret())``."""

    fernet_key: bytes
    digest_key: bytes

    def encrypt(self, number: str) -> str:
        return Fernet(self.fernet_key).encrypt(number.encode("ascii")).decode("ascii")

    def decrypt(self, cipher: str) -> str:
        try:
            return Fernet(self.fernet_key).decrypt(cipher.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise Conflict(
                "The stored ID card number cannot be decrypted with this server's secret key."
            ) from None

    def digest(self, number: str) -> str:
        return hmac.new(self.digest_key, number.encode("ascii"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def keys_for(secret: str) -> IdCardKeys:
    fernet_key = base64.urlsafe_b64encode(_derive(secret, CIPHER_INFO))
    return IdCardKeys(fernet_key=fernet_key, digest_key=_derive(secret, DIGEST_INFO))
