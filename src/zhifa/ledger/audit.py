"""The offline auditor: re-derive the log from its bytes and check every promise it makes. 账本审计.

One implementation over any ``AuditSource`` (the database, or an export read back from files). It
needs nothing but the source and the verifier keys, and checks:

1. entries, in one streaming pass: indices contiguous from 0; leaf hash = SHA-256(0x00 ‖ stored
   body), never re-serialised; the body is a v1 envelope; what the log states beside the body
   (leaf hash, prev hash, kind, subject …) agrees with it; each subject's ``prev`` is the leaf hash
   of that subject's previous entry;
2. checkpoints: each note is signed by the log key, lies within the log, and its root equals the
   root rebuilt from the entries at its size (and the stored root column); each cosignature
   verifies with a given witness key (an unknown witness is a notice, not a failure); consecutive
   checkpoints are consistent; checkpoints the auditor remembers (an earlier export, a witness's
   state) are held to the same rules, so a truncated log or a restored backup cannot hide;
3. stored subtree nodes (database source) equal the rebuilt ones, none missing, none extra;
4. rows: every current row of a ledgered model equals the ``state`` of the latest entry about it;
   a row with no such entry was inserted behind the ledger's back, and a row the ledger says exists
   but that is gone was deleted behind its back.

Invariants: the verdict is ok only when no problem was found. Problems are kept in the order they
are found (entries by index, then checkpoints, nodes, rows), so the first one names the earliest
bad entry or row.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from zhifa.ledger import merkle, note
from zhifa.ledger.audit_sources import AuditSource, SourceCheckpoint, SourceEntry, SourceRow
from zhifa.ledger.audit_tree import PackedTree
from zhifa.ledger.canonical import loads_json

MAX_LISTED = 50
PROGRESS_EVERY = 4096

Progress = Callable[[int], None]


@dataclass(frozen=True)
class AuditKeys:
    """The log's verifier key and the witness keys the auditor trusts."""

    log_key: str
    log: note.Verifier
    witnesses: tuple[note.Verifier, ...] = ()

    @classmethod
    def parse(cls, log_key: str, witness_keys: list[str]) -> AuditKeys:
        log = note.parse_verifier(log_key)
        if log.key_type != note.ED25519:
            raise note.NoteError(f"key {log.name} is a witness key, not a log key")
        witnesses = tuple(note.parse_verifier(key) for key in witness_keys)
        for witness in witnesses:
            if witness.key_type != note.COSIGNATURE_V1:
                raise note.NoteError(f"key {witness.name} is a log key, not a witness key")
        return cls(log_key, log, witnesses)


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold: which area, where (entry 17, officer 3 …), and what."""

    area: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    source: str
    log_key: str
    entries: int = 0
    checkpoints: int = 0
    remembered: int = 0
    cosignatures: int = 0
    subjects: int = 0
    rows: int = 0
    nodes: int | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    notices: list[str] = field(default_factory=list)
    witnesses: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, area: str, where: str, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(Problem(area, where, message))

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "problems"}
        data["problems"] = [p.__dict__ for p in self.problems]
        data["first_problem"] = str(self.problems[0]) if self.problems else None
        return {"ok": self.ok, **data}


def _b64(data: bytes | None) -> str:
    return "null" if data is None else base64.b64encode(data).decode()


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "…"


def _state_differences(ledger: dict[str, Any], row: dict[str, Any]) -> str:
    missing = object()
    names = sorted(set(ledger) | set(row))
    parts = [
        f"{name}: ledger {_short(ledger.get(name))}, row {_short(row.get(name))}"
        for name in names
        if ledger.get(name, missing) != row.get(name, missing)
    ]
    return "; ".join(parts[:5]) + ("; …" if len(parts) > 5 else "")


class Auditor:
    """One run of the checks over one source; ``run`` returns the report."""

    def __init__(self, source: AuditSource, keys: AuditKeys) -> None:
        self.source = source
        self.keys = keys
        self.report = Report(source.description, keys.log_key)
        self.tree = PackedTree()
        self.tables = source.ledgered_tables()
        self.chains: dict[tuple[str, str], tuple[bytes, int]] = {}
        self.states: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = {}
        self.witnesses = {(w.name, w.key_id): w for w in keys.witnesses}

    def run(
        self, remembered: list[tuple[str, str]] | None = None, progress: Progress | None = None
    ) -> Report:
        self._check_entries(progress)
        signed = self._check_checkpoints(self.source.checkpoints())
        self._check_remembered(remembered or [])
        self._check_consistency(signed)
        self._check_nodes(self.source.nodes())
        self._check_rows(self.source.rows())
        self.report.subjects = len(self.chains)
        return self.report

    # --- 1. entries ---

    def _check_entries(self, progress: Progress | None) -> None:
        check = self._check_entry
        if progress is None:
            for entry in self.source.entries():
                check(entry)
        else:
            for entry in self.source.entries():
                check(entry)
                if self.tree.size % PROGRESS_EVERY == 0:
                    progress(self.tree.size)
        self.report.entries = self.tree.size
        if progress is not None:
            progress(self.tree.size)
        head = self.source.head_size()
        if head is not None and head != self.tree.size:
            self.report.add(
                "log", "log", f"the head says {head} entries, but {self.tree.size} are stored"
            )

    def _check_entry(self, entry: SourceEntry) -> None:
        index, tree = entry.index, self.tree
        if index != tree.size:
            self.report.add("entry", f"entry {index}", f"found where {tree.size} belongs")
        leaf = sha256(b"\x00" + entry.body).digest()  # merkle.leaf_hash, inlined
        tree.append_hash(leaf)
        envelope = self._envelope(entry)
        if envelope is None:
            return
        about = envelope["subject"]
        subject = (about["type"], about["id"])
        prev = envelope["prev"]
        if prev is not None:
            prev = _decode_prev(prev)
        if entry.claims:
            self._check_claims(entry, leaf, prev, envelope)
        # The subject's chain: its prev must be the leaf hash of its previous entry.
        previous = self.chains.get(subject)
        self.chains[subject] = (leaf, index)
        if previous is None:
            if prev is not None:
                self._chain_problem(index, subject, prev, previous)
        elif prev != previous[0]:
            self._chain_problem(index, subject, prev, previous)
        if subject[0] in self.tables:
            self._track_state(index, subject, envelope)

    def _envelope(self, entry: SourceEntry) -> dict[str, Any] | None:
        try:
            envelope = loads_json(entry.body)
            subject = envelope["subject"]
            if envelope["v"] != 1 or not isinstance(envelope["payload"], dict):
                raise ValueError("not a version 1 envelope")
            if not (isinstance(subject["type"], str) and isinstance(subject["id"], str)):
                raise ValueError("subject type and id must be strings")
            envelope["prev"]  # noqa: B018 - a v1 envelope always has it, null or not
        except (ValueError, KeyError, TypeError) as exc:
            where = f"entry {entry.index}"
            self.report.add("entry", where, f"the body is not a v1 envelope: {exc}")
            return None
        return envelope  # type: ignore[no-any-return]

    def _check_claims(
        self, entry: SourceEntry, leaf: bytes, prev: bytes | None, envelope: dict[str, Any]
    ) -> None:
        claims = entry.claims
        if len(claims) == 1 and "leaf_hash" in claims:
            if claims["leaf_hash"] == leaf:
                return
        else:
            subject = envelope["subject"]
            actual_values = {
                "leaf_hash": leaf,
                "prev_hash": prev,
                "kind": envelope.get("kind"),
                "subject_type": subject["type"],
                "subject_id": subject["id"],
                "payload": envelope["payload"],
                "time_ms": envelope.get("time"),
                "actor_id": envelope.get("actor"),
                "district_code": envelope.get("district"),
            }
            # Every claim equal (the usual case): nothing to report. Otherwise the loop below
            # names each one that differs, in the claims' order.
            if claims.items() <= actual_values.items():
                return
        for name, claimed in claims.items():
            if name == "leaf_hash":
                actual: Any = leaf
            elif name == "prev_hash":
                actual = prev
            else:
                actual = _FROM_ENVELOPE[name](envelope)
            if claimed != actual:
                message = _claim_message(name, claimed, actual)
                self.report.add("entry", f"entry {entry.index}", message)

    def _chain_problem(
        self,
        index: int,
        subject: tuple[str, str],
        prev: bytes | None,
        previous: tuple[bytes, int] | None,
    ) -> None:
        if previous is None and prev is not None:
            self.report.add(
                "chain",
                f"entry {index}",
                f"prev is {_b64(prev)} but it is the first entry about {subject[0]} "
                f"{subject[1]}: an earlier entry about it was removed or altered",
            )
        elif previous is not None and prev != previous[0]:
            self.report.add(
                "chain",
                f"entry {index}",
                f"prev is {_b64(prev)}, but the previous entry about {subject[0]} "
                f"{subject[1]} (entry {previous[1]}) hashes to {_b64(previous[0])}: "
                f"entry {previous[1]} was altered (or entry {index} was)",
            )

    def _track_state(self, index: int, subject: tuple[str, str], envelope: dict[str, Any]) -> None:
        state = envelope["payload"].get("state")
        if isinstance(state, dict):
            self.states[subject] = (index, state)
        elif str(envelope.get("kind", "")).endswith(".deleted"):
            self.states[subject] = (index, None)

    # --- 2. checkpoints ---

    def _check_checkpoints(self, checkpoints: list[SourceCheckpoint]) -> list[note.Checkpoint]:
        signed, last_good = [], 0
        for stored in checkpoints:
            self.report.checkpoints += 1
            where = f"checkpoint {stored.size}"
            parsed = self._open_checkpoint(stored.note, where)
            if parsed is None:
                continue
            self._check_stored_fields(stored, parsed, where)
            if self._check_root(parsed, where, last_good):
                last_good = parsed.size
            self._check_cosignatures(stored, parsed, where)
            signed.append(parsed)
        return signed

    def _open_checkpoint(self, text: str, where: str) -> note.Checkpoint | None:
        try:
            body, _ = note.open_note(text, [self.keys.log])
            return note.Checkpoint.parse_body(body)
        except note.NoteError as exc:
            self.report.add(
                "checkpoint", where, f"not signed by the log key {self.keys.log.name}: {exc}"
            )
            return None

    def _check_stored_fields(
        self, stored: SourceCheckpoint, parsed: note.Checkpoint, where: str
    ) -> None:
        if parsed.size != stored.size:
            self.report.add("checkpoint", where, f"the signed note says size {parsed.size}")
        if stored.root is not None and stored.root != parsed.root:
            self.report.add(
                "checkpoint",
                where,
                f"the stored root {_b64(stored.root)} differs from the signed {_b64(parsed.root)}",
            )

    def _check_root(self, checkpoint: note.Checkpoint, where: str, last_good: int) -> bool:
        size = checkpoint.size
        if size > self.tree.size:
            self.report.add(
                "checkpoint",
                where,
                f"signed for size {size}, but the log holds only {self.tree.size} entries: "
                "its tail was truncated or an older backup restored",
            )
            return False
        rebuilt = self.tree.root(size)
        if rebuilt != checkpoint.root:
            self.report.add(
                "checkpoint",
                where,
                f"signed root {_b64(checkpoint.root)}, but entries 0–{size - 1} give "
                f"{_b64(rebuilt)}: an entry in {last_good}–{size - 1} was altered "
                "(or the tree rebuilt)",
            )
            return False
        return True

    def _check_cosignatures(
        self, stored: SourceCheckpoint, parsed: note.Checkpoint, where: str
    ) -> None:
        body = parsed.to_body()
        for cosignature in stored.cosignatures:
            try:
                _, [signature] = note.parse_note(body + "\n" + cosignature.line.rstrip("\n") + "\n")
            except (note.NoteError, ValueError):
                self.report.add("cosignature", where, f"malformed line {cosignature.line!r}")
                continue
            witness = self.witnesses.get((signature.name, signature.key_id))
            if witness is None:
                self.report.notices.append(
                    f"{where}: cosigned by {signature.name}+{signature.key_id.hex()}, "
                    "a witness whose key was not given"
                )
                continue
            self._verify_cosignature(body, cosignature, witness, parsed.size, where)

    def _verify_cosignature(
        self, body: str, cosig: Any, witness: note.Verifier, size: int, where: str
    ) -> None:
        try:
            timestamp = note.verify_cosignature(body, cosig.line, witness)
        except note.NoteError as exc:
            self.report.add("cosignature", where, str(exc))
            return
        if cosig.timestamp is not None and cosig.timestamp != timestamp:
            self.report.add(
                "cosignature",
                where,
                f"{witness.name}: stored time {cosig.timestamp}, signed time {timestamp}",
            )
        self.report.cosignatures += 1
        seen = self.report.witnesses.setdefault(witness.name, {"cosigned": 0, "size": 0, "time": 0})
        seen["cosigned"] += 1
        seen["size"], seen["time"] = max(seen["size"], size), max(seen["time"], timestamp)

    def _check_remembered(self, remembered: list[tuple[str, str]]) -> None:
        for label, text in remembered:
            self.report.remembered += 1
            where = f"remembered checkpoint ({label})"
            parsed = self._open_checkpoint(text, where)
            if parsed is not None:
                self._check_root(parsed, f"{where} of size {parsed.size}", 0)

    def _check_consistency(self, signed: list[note.Checkpoint]) -> None:
        within = sorted((cp for cp in signed if cp.size <= self.tree.size), key=lambda cp: cp.size)
        for first, second in zip(within, within[1:], strict=False):
            if first.size == second.size:
                continue
            try:
                proof = self.tree.consistency_proof(first.size, second.size)
                merkle.verify_consistency(first.size, second.size, first.root, second.root, proof)
            except merkle.ProofError as exc:
                where = f"checkpoints {first.size} → {second.size}"
                self.report.add("consistency", where, str(exc))

    # --- 3. stored nodes ---

    def _check_nodes(self, nodes: Iterator[tuple[int, int, bytes]] | None) -> None:
        if nodes is None:
            return
        count = 0
        size, levels = self.tree.size, self.tree.levels
        for level, idx, value in nodes:
            count += 1
            # The usual node, within the log: compare it in place; anything else (and any
            # mismatch) goes through ``_check_node``, which words the problem.
            if level >= 1 and idx >= 0 and (idx + 1) << level <= size:
                start = idx * merkle.HASH_SIZE
                if levels[level][start : start + merkle.HASH_SIZE] == value:
                    continue
            self._check_node(level, idx, value)
        self.report.nodes = count
        expected = sum(self.tree.size >> level for level in range(1, self.tree.size.bit_length()))
        if count < expected:
            self.report.add("node", "nodes", f"{expected - count} stored subtree nodes are missing")

    def _check_node(self, level: int, idx: int, value: bytes) -> None:
        where = f"node ({level}, {idx})"
        first, end = idx << level, (idx + 1) << level
        if level < 1 or end > self.tree.size:
            self.report.add("node", where, f"stored beyond the log's {self.tree.size} entries")
        elif self.tree.read(level, idx) != value:
            self.report.add(
                "node",
                where,
                f"the stored hash differs from entries {first}–{end - 1}: "
                "one of them was altered after it was appended",
            )

    # --- 4. rows ---

    def _check_rows(self, rows: Iterator[SourceRow]) -> None:
        for row in rows:
            self.report.rows += 1
            self._check_row(row)
        for (table, key), (index, state) in self.states.items():
            if state is not None:
                self.report.add(
                    "row",
                    f"{table} {key}",
                    f"entry {index} says this row exists, but it is "
                    "gone: deleted behind the ledger's back",
                )

    def _check_row(self, row: SourceRow) -> None:
        where = f"{row.table} {row.id}"
        latest = self.states.pop((row.table, row.id), None)
        if latest is None:
            self.report.add(
                "row", where, "no entry in the ledger records this row: inserted behind its back"
            )
        elif latest[1] is None:
            self.report.add("row", where, f"entry {latest[0]} recorded its deletion, yet it exists")
        elif latest[1] != row.state:
            self.report.add(
                "row",
                where,
                f"differs from entry {latest[0]}: {_state_differences(latest[1], row.state)}",
            )


_FROM_ENVELOPE: dict[str, Callable[[dict[str, Any]], Any]] = {
    "kind": lambda e: e.get("kind"),
    "subject_type": lambda e: e["subject"]["type"],
    "subject_id": lambda e: e["subject"]["id"],
    "payload": lambda e: e["payload"],
    "time_ms": lambda e: e.get("time"),
    "actor_id": lambda e: e.get("actor"),
    "district_code": lambda e: e.get("district"),
}


def _decode_prev(prev: Any) -> bytes | None:
    if prev is None:
        return None
    try:  # base64.b64decode(str(prev), validate=True), without its wrapper
        return binascii.a2b_base64(str(prev).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return b"(not base64)"


def _claim_message(name: str, claimed: Any, actual: Any) -> str:
    if name in ("leaf_hash", "prev_hash"):
        claimed, actual = _b64(claimed), _b64(actual)
        if name == "leaf_hash":
            return f"the body hashes to {actual}, but the stored leaf hash is {claimed}"
    return f"the stored {name} {_short(claimed)} differs from the body's {_short(actual)}"


def audit(
    source: AuditSource,
    keys: AuditKeys,
    *,
    remembered: list[tuple[str, str]] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check everything ``source`` holds against ``keys``; see the module docstring."""
    return Auditor(source, keys).run(remembered, progress)
