"""C2SP signed notes, tlog checkpoints and tlog cosignatures with Ed25519.

This module owns the wire format of what the ledger signs and what witnesses countersign:

- ``signed-note``: a UTF-8 body ending in "\\n", a blank line, then lines
  "— <key name> <base64(4-byte key ID ‖ signature)>\\n" (EM DASH U+2014). Key IDs are
  ``SHA-256(name ‖ 0x0A ‖ type ‖ 32-byte public key)[:4]`` with type 0x01 for log signatures and
  0x04 for witness cosignatures. Keys travel as strings in the golang.org/x/mod/sumdb/note format:
  ``<name>+<hex key ID>+<base64(type ‖ public key)>`` and
  ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>``.
- ``tlog-checkpoint``: body = origin, decimal tree size, base64 root hash, optional extension lines.
- ``tlog-cosignature`` v1: an Ed25519 signature over "cosignature/v1\\ntime <T>\\n" + checkpoint
  body, carried as key ID ‖ uint64 big-endian T ‖ signature.

Invariants: parsing is strict (canonical base64, no control characters, no stray spaces), so every
note has exactly one spelling; a note is accepted only when a known key's signature verifies, and
any signature by a known key that fails rejects the whole note. Every refusal is a ``NoteError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100  # the spec asks verifiers to cap them and to accept at least 16
MAX_TIMESTAMP = 2**63 - 1
KEY_SIZE = 32
SIGNATURE_SIZE = 64
ROOT_SIZE = 32

_DASH = "\u2014 "
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\ud800-\udfff]")
_HEX_ID = re.compile("[0-9a-f]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key, checkpoint or cosignature is malformed or does not verify."""


# --- Keys ---


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key that may verify signatures by ``name`` whose key ID is ``key_id``."""

    name: str
    key_id: bytes
    key_type: int
    public_key: Ed25519PublicKey

    def verify(self, body: str, payload: bytes) -> bool:
        """Whether ``payload`` (the signature after the key ID) is valid for ``body``."""
        if self.key_type == COSIGNATURE_V1:
            if len(payload) != 8 + SIGNATURE_SIZE:
                return False
            timestamp = int.from_bytes(payload[:8], "big")
            return timestamp <= MAX_TIMESTAMP and self._valid(
                payload[8:], _cosigned_message(body, timestamp)
            )
        return len(payload) == SIGNATURE_SIZE and self._valid(payload, body.encode())

    def _valid(self, signature: bytes, message: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key that signs as ``name``; ``key_type`` says log (0x01) or witness (0x04)."""

    name: str
    key_id: bytes
    key_type: int
    private_key: Ed25519PrivateKey


def generate_signer(name: str) -> tuple[str, str]:
    """A new Ed25519 log key for ``name``: (signer key string, verifier key string)."""
    return _generate(name, ED25519)


def generate_cosigner(name: str) -> tuple[str, str]:
    """A new Ed25519 witness key for ``name`` (type 0x04): (signer key, verifier key)."""
    return _generate(name, COSIGNATURE_V1)


def _generate(name: str, key_type: int) -> tuple[str, str]:
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    hex_id = key_id(name, key_type, public).hex()
    seed = _b64(bytes([key_type]) + private.private_bytes_raw())
    return (
        f"PRIVATE+KEY+{name}+{hex_id}+{seed}",
        f"{name}+{hex_id}+{_b64(bytes([key_type]) + public)}",
    )


def verifier_key_for(signer: Signer) -> str:
    """The verifier key string that checks ``signer``'s signatures (what a log publishes)."""
    public = signer.private_key.public_key().public_bytes_raw()
    return f"{signer.name}+{signer.key_id.hex()}+{_b64(bytes([signer.key_type]) + public)}"


def parse_verifier(vkey: str) -> Verifier:
    """Parse ``<name>+<hex key ID>+<base64(type ‖ public key)>``."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<key ID>+<base64 key>")
    name, hex_id, encoded = parts
    key_type, public = _parse_key_material(name, hex_id, encoded)
    if key_id(name, key_type, public) != bytes.fromhex(hex_id):
        raise NoteError(f"verifier key for {name}: key ID {hex_id} does not match the key")
    return Verifier(
        name, bytes.fromhex(hex_id), key_type, Ed25519PublicKey.from_public_bytes(public)
    )


def parse_signer(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>``."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key is PRIVATE+KEY+<name>+<key ID>+<base64 key>")
    name, hex_id, encoded = parts[2:]
    key_type, seed = _parse_key_material(name, hex_id, encoded)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    if key_id(name, key_type, private.public_key().public_bytes_raw()) != bytes.fromhex(hex_id):
        raise NoteError(f"signer key for {name}: key ID {hex_id} does not match the key")
    return Signer(name, bytes.fromhex(hex_id), key_type, private)


def _parse_key_material(name: str, hex_id: str, encoded: str) -> tuple[int, bytes]:
    _check_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise NoteError(f"key for {name}: key ID {hex_id!r} is not 8 lowercase hex digits")
    material = _unb64(encoded, f"key for {name}")
    if len(material) != 1 + KEY_SIZE or material[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError(f"key for {name}: not a type 0x01 or 0x04 Ed25519 key")
    return material[0], material[1:]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise NoteError(f"key name {name!r} is empty or holds a space, '+' or control character")


# --- Signed notes ---


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who signed (name, key ID) and the bytes after the key ID."""

    name: str
    key_id: bytes
    payload: bytes

    @property
    def line(self) -> str:
        return f"{_DASH}{self.name} {_b64(self.key_id + self.payload)}\n"


def sign(body: str, signer_key: str | Signer) -> str:
    """The signed note: ``body``, a blank line and the signer's signature line."""
    signer = _signer(signer_key, ED25519)
    _check_body(body)
    signature = signer.private_key.sign(body.encode())
    return body + "\n" + NoteSignature(signer.name, signer.key_id, signature).line


def parse_note(text: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a note into its body and signature lines, verifying nothing."""
    text = _as_text(text)
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line between the text and the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("malformed note: the signature block is empty or lacks its final newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return body, [_parse_signature_line(line) for line in lines]


def open_note(text: str | bytes, verifiers: Iterable[str | Verifier]) -> tuple[str, list[str]]:
    """Verify a note against known keys: (body, names whose signatures verified).

    Signatures from unknown (name, key ID) pairs are ignored, as the spec requires; a known key
    whose signature fails rejects the note, and so does a note no known key verified.
    """
    body, signatures = parse_note(text)
    known = {(v.name, v.key_id): v for v in map(_verifier, verifiers)}
    verified: list[str] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(body, signature.payload):
            raise NoteError(f"the signature by {signature.name} does not verify")
        if signature.name not in verified:
            verified.append(signature.name)
    if not verified:
        seen = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
        raise NoteError(f"no known key signed this note (signed by {seen})")
    return body, verified


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise NoteError(f"malformed signature line {line!r}: it must start with '— '")
    name, space, encoded = line[len(_DASH) :].partition(" ")
    if not space:
        raise NoteError(f"malformed signature line {line!r}: no space after the key name")
    _check_name(name)
    raw = _unb64(encoded, f"signature by {name}")
    if len(raw) < 5:
        raise NoteError(f"signature by {name} is too short to hold a key ID and a signature")
    return NoteSignature(name, raw[:4], raw[4:])


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    if _CONTROL.search(body):
        raise NoteError("a note's text must be valid Unicode without control characters")


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed note: not valid UTF-8") from None
    if _CONTROL.search(text):
        raise NoteError("malformed note: it holds a control character or invalid Unicode")
    return text


def _verifier(key: str | Verifier) -> Verifier:
    return key if isinstance(key, Verifier) else parse_verifier(key)


def _signer(key: str | Signer, key_type: int) -> Signer:
    signer = key if isinstance(key, Signer) else parse_signer(key)
    if signer.key_type != key_type:
        raise NoteError(f"key {signer.name} has type {signer.key_type:#04x}, not {key_type:#04x}")
    return signer


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(encoded: str, what: str) -> bytes:
    """Strict base64: standard alphabet, padded, and the one canonical spelling of its bytes."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: {encoded!r} is not valid base64") from None
    if not encoded or _b64(raw) != encoded:
        raise NoteError(f"{what}: {encoded!r} is not canonical base64")
    return raw


# --- Checkpoints ---


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: the log's origin, tree size and RFC 6962 root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("a checkpoint origin must be one non-empty line")
        if not 0 <= self.size < 2**64:
            raise NoteError(f"checkpoint size {self.size} is outside 0 … 2**64 - 1")
        if len(self.root) != ROOT_SIZE:
            raise NoteError(f"checkpoint root is {len(self.root)} bytes, not {ROOT_SIZE}")
        if any(not line or "\n" in line for line in self.extensions):
            raise NoteError("checkpoint extension lines must be non-empty single lines")

    def to_body(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        body = "\n".join(lines) + "\n"
        _check_body(body)
        return body

    @classmethod
    def parse_body(cls, body: str) -> Checkpoint:
        """Parse strictly: 3+ lines, a decimal size without leading zeros, a 32-byte root."""
        _check_body(body)
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteError(f"checkpoint size {size!r} is not a decimal without leading zeros")
        return cls(origin, int(size), _unb64(root, "checkpoint root"), tuple(extensions))


# --- Cosignatures ---


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, witness_signer_key: str | Signer, timestamp: int) -> str:
    """A witness's tlog-cosignature/v1 line (ending in "\\n") over a checkpoint body."""
    signer = _signer(witness_signer_key, COSIGNATURE_V1)
    Checkpoint.parse_body(body)
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature time {timestamp} is outside 0 … 2**63 - 1")
    signature = signer.private_key.sign(_cosigned_message(body, timestamp))
    payload = timestamp.to_bytes(8, "big") + signature
    return NoteSignature(signer.name, signer.key_id, payload).line


def verify_cosignature(body: str, line: str, witness_verifier_key: str | Verifier) -> int:
    """Check a witness's cosignature line over a checkpoint body; returns its timestamp (s)."""
    verifier = _verifier(witness_verifier_key)
    if verifier.key_type != COSIGNATURE_V1:
        raise NoteError(f"key {verifier.name} is not a witness (type 0x04) key")
    Checkpoint.parse_body(body)
    signature = _parse_signature_line(line.removesuffix("\n"))
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError(
            f"the cosignature is by {signature.name}+{signature.key_id.hex()}, "
            f"not {verifier.name}+{verifier.key_id.hex()}"
        )
    if not verifier.verify(body, signature.payload):
        raise NoteError(f"the cosignature by {verifier.name} does not verify")
    return int.from_bytes(signature.payload[:8], "big")
