"""Password hashing (argon2id) and the password policy (等保 level 3: length and mixed classes)."""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from zhifa.errors import InvalidInput

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_policy(password: str, *, min_length: int = 10, username: str = "") -> None:
    """Refuse a weak password: too short, fewer than three character classes, or the username."""
    classes = sum(
        any(c in group for c in password)
        for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not c.isalnum() for c in password)
    if len(password) < min_length or classes < 3:
        raise InvalidInput(
            "The password must be at least {min_length} characters long and mix at least three of: "
            "lower-case letters, upper-case letters, digits, symbols.",
            detail={"field": "password"},
            min_length=min_length,
        )
    if username and username.lower() in password.lower():
        raise InvalidInput(
            "The password must not contain the user name.", detail={"field": "password"}
        )
