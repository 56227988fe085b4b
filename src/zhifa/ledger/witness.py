"""A witness (见证方): an independent process that keeps the log honest. 账本见证.

The discipline-inspection office runs ``zhifa witness run`` on its own machine. Each run fetches
the log's latest checkpoint, checks that it is signed by the log's key and that it extends the last
checkpoint this witness saw (an RFC 9162 consistency proof), keeps it, and returns a C2SP
tlog-cosignature that the log serves beside its checkpoint. It speaks to the log only through the
public API (``/checkpoint``, ``/verifier-key``, ``/proof/consistency``, ``POST /cosignatures``).

The state directory holds ``log.vkey`` (the log's verifier key: given with ``--log-key`` or
trusted on first use), ``checkpoint.note`` (the last checkpoint verified) and ``cosigned`` (the
size and line of the last cosignature returned).

Invariants: a witness never cosigns a checkpoint that does not open with the trusted log key, that
is smaller than one it saw (shrink), that has the same size but another root (fork), or that the
log cannot prove consistent with what it saw. A refusal raises ``WitnessRefusal`` saying which
sizes disagree, and leaves the state untouched; the state is only ever replaced by a checkpoint
that passed, atomically.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhifa.ledger import merkle, note

API_PATH = "/api/v1/ledger"
TIMEOUT_SECONDS = 30


class WitnessRefusal(Exception):
    """The log's checkpoint must not be cosigned: wrong key, shrink, fork or no consistency."""


class WitnessError(Exception):
    """The run could not complete (log unreachable, an unexpected answer, unreadable state)."""


def keygen(name: str, path: Path) -> str:
    """Write a new witness signer key to ``path`` (0600, never overwritten); return the verifier."""
    try:
        signer_key, verifier_key = note.generate_cosigner(name)
    except note.NoteError as exc:
        raise WitnessError(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessError(f"{path} exists already: a witness key is never overwritten") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(signer_key + "\n")
    return verifier_key


def load_signer(path: Path) -> note.Signer:
    try:
        signer = note.parse_signer(path.read_text().strip())
    except OSError as exc:
        raise WitnessError(f"cannot read the witness key {path}: {exc.strerror}") from None
    except note.NoteError as exc:
        raise WitnessError(f"{path}: {exc}") from None
    if signer.key_type != note.COSIGNATURE_V1:
        raise WitnessError(f"{path} holds a log key, not a witness key (zhifa witness keygen)")
    return signer


class LogClient:
    """The log's public ledger API over HTTP (standard library only)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WitnessError(f"{url!r} is not an http(s) URL")
        self.base = url.rstrip("/") if parts.path else url.rstrip("/") + API_PATH

    def text(self, path: str, params: dict[str, int] | None = None) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = self._call(urllib.request.Request(self.base + path + query))
        if status != 200:
            raise WitnessError(f"GET {self.base}{path}{query} answered {status}: {body[:200]}")
        return body

    def post_json(self, path: str, payload: dict[str, Any]) -> tuple[int, str]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        return self._call(request)

    def _call(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return int(response.status), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WitnessError(f"cannot reach the log at {self.base}: {reason}") from None


class WitnessState:
    """The witness's memory, one small file each (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def read(self, name: str) -> str | None:
        path = self.directory / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    def write(self, name: str, text: str) -> None:
        partial = self.directory / f"{name}.partial"
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self.directory / name)


@dataclass(frozen=True)
class Outcome:
    """What a run did: the size seen before (None the first time), the size now, and how."""

    previous: int | None
    size: int
    root: bytes
    action: str  # "first", "extended", "unchanged"
    cosigned: bool
    trusted_key_now: bool

    def describe(self) -> str:
        root = base64.b64encode(self.root).decode()
        seen = {
            "first": "first checkpoint seen (trusted on first use)",
            "extended": f"extends size {self.previous} (consistency proof verified)",
            "unchanged": "unchanged since the last run",
        }[self.action]
        signed = "cosigned and returned to the log" if self.cosigned else "already cosigned"
        return f"size {self.size} root {root}: {seen}; {signed}"


class Witness:
    """One run of a witness against one log (see the module docstring)."""

    def __init__(
        self, client: LogClient, state: WitnessState, signer: note.Signer, log_key: str | None
    ) -> None:
        self.client = client
        self.state = state
        self.signer = signer
        self.given_key = log_key.strip() if log_key else None
        self.trusted_key_now = False

    def run(self, now: int | None = None) -> Outcome:
        log_key = self._log_key()
        old = self._previous(log_key)
        text = self.client.text("/checkpoint")
        new = self._open(text, log_key, "the log's checkpoint")
        action = self._compare(old, new)
        if action != "unchanged":
            self.state.write("checkpoint.note", text)
        cosigned = self._cosign(new, int(time.time()) if now is None else now)
        previous = None if old is None else old.size
        return Outcome(previous, new.size, new.root, action, cosigned, self.trusted_key_now)

    def _log_key(self) -> str:
        stored = (self.state.read("log.vkey") or "").strip() or None
        # Without --log-key, ask the log which key it uses now: a swapped key is refused by name.
        key = self.given_key or self.client.text("/verifier-key").strip()
        if stored is not None and key != stored:
            raise WitnessRefusal(
                f"the log key {key} differs from the key this witness trusts ({stored}): "
                "a log does not change its key; to start over, use a new state directory"
            )
        _check_log_key(key)
        if stored is None:
            self.state.write("log.vkey", key + "\n")
            self.trusted_key_now = self.given_key is None
        return key

    def _previous(self, log_key: str) -> note.Checkpoint | None:
        text = self.state.read("checkpoint.note")
        if text is None:
            return None
        try:
            return self._open(text, log_key, "the stored checkpoint")
        except WitnessRefusal as exc:
            raise WitnessError(f"the witness state is damaged: {exc}") from None

    def _open(self, text: str, log_key: str, what: str) -> note.Checkpoint:
        try:
            body, _ = note.open_note(text, [log_key])
            return note.Checkpoint.parse_body(body)
        except note.NoteError as exc:
            raise WitnessRefusal(f"{what} is not signed by the trusted log key: {exc}") from None

    def _compare(self, old: note.Checkpoint | None, new: note.Checkpoint) -> str:
        if old is None:
            return "first"
        if new.origin != old.origin:
            raise WitnessRefusal(f"origin changed from {old.origin!r} to {new.origin!r}")
        if new.size < old.size:
            raise WitnessRefusal(
                f"shrink: this witness saw size {old.size}, the log now serves size {new.size} "
                "(truncated, or an older backup restored)"
            )
        if new.size == old.size:
            if new.root != old.root:
                raise WitnessRefusal(
                    f"fork at size {new.size}: this witness saw root {_b64(old.root)}, "
                    f"the log now serves root {_b64(new.root)}"
                )
            return "unchanged"
        self._verify_consistency(old, new)
        return "extended"

    def _verify_consistency(self, old: note.Checkpoint, new: note.Checkpoint) -> None:
        params = {"first": old.size, "second": new.size}
        proof = _decode_proof(self.client.text("/proof/consistency", params), params)
        try:
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
        except merkle.ProofError as exc:
            raise WitnessRefusal(
                f"inconsistent: size {new.size} (root {_b64(new.root)}) does not extend size "
                f"{old.size} (root {_b64(old.root)}) that this witness saw: {exc}"
            ) from None

    def _cosign(self, checkpoint: note.Checkpoint, now: int) -> bool:
        body = checkpoint.to_body()
        done = (self.state.read("cosigned") or "").split("\n", 2)
        if done[0] == str(checkpoint.size) and len(done) > 1 and done[1] == _b64(checkpoint.root):
            return False
        line = note.cosign(body, self.signer, now)
        status, answer = self.client.post_json(
            "/cosignatures", {"size": checkpoint.size, "line": line}
        )
        if status not in (200, 201, 409):
            raise WitnessError(f"the log refused the cosignature ({status}): {answer[:300]}")
        self.state.write("cosigned", f"{checkpoint.size}\n{_b64(checkpoint.root)}\n{line}")
        return status != 409


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _check_log_key(key: str) -> None:
    try:
        verifier = note.parse_verifier(key)
    except note.NoteError as exc:
        raise WitnessError(f"the log key {key!r} is malformed: {exc}") from None
    if verifier.key_type != note.ED25519:
        raise WitnessError(f"{key} is not a log (Ed25519 type 0x01) verifier key")


def _decode_proof(text: str, asked: dict[str, int]) -> list[bytes]:
    try:
        answer = json.loads(text)
        if (answer["first"], answer["second"]) != (asked["first"], asked["second"]):
            raise ValueError(f"it is for sizes {answer['first']} → {answer['second']}")
        return [base64.b64decode(h, validate=True) for h in answer["proof"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise WitnessError(f"the log's consistency proof is malformed: {exc}") from None
