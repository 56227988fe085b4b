"""``zhifa ledger export``: the log, its checkpoints and the ledgered rows as plain files. 账本导出.

An export is everything an outside auditor needs besides the verifier keys:

    manifest.json      format, origin, counts, the ledgered tables, and the log's verifier key and
                       witness keys as the bureau states them (an auditor should check those
                       against the published ones rather than trust them)
    entries.jsonl      one line per entry in index order: {"index", "leaf_hash", "body"}, base64;
                       ``body`` is the exact bytes that were hashed
    checkpoints.jsonl  one line per signed checkpoint by size: {"size", "note", "cosignatures"}
    rows.jsonl         the ledger state of every current row of every ledgered model:
                       {"table", "id", "state"}, by table, then primary key

Invariants: everything is read from one database snapshot (``DatabaseSource``), so the files agree
with each other while the log grows; entries and rows are streamed, so memory stays flat for
millions of entries; each file is written under a temporary name and renamed when complete, and the
manifest last, so a directory with a manifest holds a finished export. ``ExportSource`` reads an
export back as an ``AuditSource``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from zhifa.kit.clock import utcnow
from zhifa.ledger.audit_sources import (
    DatabaseSource,
    SourceCheckpoint,
    SourceCosignature,
    SourceEntry,
    SourceRow,
)
from zhifa.ledger.canonical import loads_json

FORMAT = "zhifa-ledger-export/1"
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
ROWS = "rows.jsonl"


def _b64decode(data: Any, validate: bool) -> bytes:
    """``base64.b64decode(data, validate=validate)``, value or exception, with less overhead."""
    if type(data) is str and data.isascii():
        return binascii.a2b_base64(data.encode("ascii"), strict_mode=validate)
    return base64.b64decode(data, validate=validate)


class ExportError(ValueError):
    """An export directory that cannot be written or read; the message says why."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as fh:
        fh.writelines(lines)
    os.replace(partial, path)


def _prepare(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory")
    directory.mkdir(parents=True, exist_ok=True)


def write_export(
    source: DatabaseSource, directory: Path, *, verifier_key: str | None, witnesses: list[str]
) -> dict[str, Any]:
    """Write ``source`` into ``directory`` (new or empty); returns the manifest."""
    _prepare(directory)
    counts: Counter[str] = Counter()
    _write_lines(directory / ENTRIES, _entry_lines(source.entries(), counts))
    checkpoints = source.checkpoints()
    _write_lines(directory / CHECKPOINTS, map(_checkpoint_line, checkpoints))
    _write_lines(directory / ROWS, _row_lines(source.rows(), counts))
    manifest = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "size": source.head_size(),
        "entries": counts["entries"],
        "checkpoints": len(checkpoints),
        "cosignatures": sum(len(cp.cosignatures) for cp in checkpoints),
        "tables": sorted(source.ledgered_tables()),
        "rows": {table: counts[f"row:{table}"] for table in sorted(source.ledgered_tables())},
        "verifier_key": verifier_key,
        "witnesses": witnesses,
    }
    _write_lines(directory / MANIFEST, [json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"])
    return manifest


def _entry_lines(entries: Iterator[SourceEntry], counts: Counter[str]) -> Iterator[str]:
    for entry in entries:
        counts["entries"] += 1
        leaf = entry.claims["leaf_hash"]
        yield _line({"index": entry.index, "leaf_hash": _b64(leaf), "body": _b64(entry.body)})


def _checkpoint_line(cp: SourceCheckpoint) -> str:
    lines = [c.line for c in cp.cosignatures]
    return _line({"size": cp.size, "note": cp.note, "cosignatures": lines})


def _row_lines(rows: Iterator[SourceRow], counts: Counter[str]) -> Iterator[str]:
    for row in rows:
        counts[f"row:{row.table}"] += 1
        yield _line({"table": row.table, "id": row.id, "state": row.state})


class ExportSource:
    """An export directory read back as an ``AuditSource`` (streaming, line by line)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.description = f"export {directory}"
        try:
            self.manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExportError(f"{directory / MANIFEST} is missing or unreadable: {exc}") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise ExportError(f"{directory} is not a {FORMAT} export")

    def entry_count(self) -> int:
        return int(self.manifest.get("entries") or 0)

    def head_size(self) -> int | None:
        size = self.manifest.get("size")
        return None if size is None else int(size)

    def entries(self) -> Iterator[SourceEntry]:
        # ``_read``'s work inlined for the one file that grows with the log: no generator and no
        # "file:line" text per line unless the line is bad.
        path = self.directory / ENTRIES
        try:
            with path.open(encoding="utf-8") as fh:
                for number, text in enumerate(fh, 1):
                    try:
                        obj = loads_json(text)
                    except ValueError:
                        raise ExportError(f"{ENTRIES}:{number}: not JSON") from None
                    if not isinstance(obj, dict):
                        raise ExportError(f"{ENTRIES}:{number}: not a JSON object")
                    try:
                        claims = {"leaf_hash": _b64decode(obj["leaf_hash"], True)}
                        yield SourceEntry(int(obj["index"]), _b64decode(obj["body"], False), claims)
                    except (KeyError, TypeError, ValueError) as exc:
                        where = f"{ENTRIES}:{number}"
                        raise ExportError(f"{where}: not an entry ({exc})") from None
        except OSError as exc:
            raise ExportError(f"cannot read {path}: {exc.strerror}") from None

    def checkpoints(self) -> list[SourceCheckpoint]:
        found = []
        for where, obj in self._read(CHECKPOINTS):
            try:
                lines = tuple(SourceCosignature(str(line)) for line in obj["cosignatures"])
                found.append(SourceCheckpoint(int(obj["size"]), str(obj["note"]), None, lines))
            except (KeyError, TypeError, ValueError) as exc:
                raise ExportError(f"{where}: not a checkpoint ({exc})") from None
        return found

    def nodes(self) -> Iterator[tuple[int, int, bytes]] | None:
        return None

    def ledgered_tables(self) -> frozenset[str]:
        return frozenset(str(table) for table in self.manifest.get("tables", []))

    def rows(self) -> Iterator[SourceRow]:
        for where, obj in self._read(ROWS):
            if not isinstance(obj.get("state"), dict):
                raise ExportError(f"{where}: not a row")
            yield SourceRow(str(obj["table"]), str(obj["id"]), obj["state"])

    def _read(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        path = self.directory / name
        try:
            with path.open(encoding="utf-8") as fh:
                for number, text in enumerate(fh, 1):
                    yield from self._parse(f"{name}:{number}", text)
        except OSError as exc:
            raise ExportError(f"cannot read {path}: {exc.strerror}") from None

    @staticmethod
    def _parse(where: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            obj = json.loads(text)
        except ValueError:
            raise ExportError(f"{where}: not JSON") from None
        if not isinstance(obj, dict):
            raise ExportError(f"{where}: not a JSON object")
        yield where, obj
