"""``zhifa ledger keygen|verifier-key|checkpoint|export|verify``: keys, checkpoints, the auditor.

``verify`` exits 0 only when everything holds, 1 when it found a problem (the first one is named:
an entry index, a checkpoint size, a table and primary key), and 2 when it could not verify at all
(no key, unreadable export, unreachable database). Progress goes to stderr; the summary to stdout,
one ``label  value`` line each, or a JSON report with ``--json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from zhifa.cli.common import database, fail, unit_of_work
from zhifa.cli.ledger_report import print_report, progress_printer
from zhifa.config import get_settings
from zhifa.ledger import attest, checkpoints, note
from zhifa.ledger.audit import AuditKeys, Report, audit
from zhifa.ledger.audit_sources import AuditSource, DatabaseSource
from zhifa.ledger.export import ExportError, ExportSource, write_export

app = typer.Typer(help="The ledger: keys, checkpoints, export, audit / 账本", no_args_is_help=True)


def _abort(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(2)


def _log_keys() -> checkpoints.LogKeys:
    settings = get_settings()
    try:
        keys = checkpoints.load_keys(settings)
    except (OSError, note.NoteError) as exc:
        fail(f"cannot read the log key {settings.ledger_key_path}: {exc}")
    if keys is None:
        fail(
            f"no log key at {settings.ledger_key_path}: run `zhifa ledger keygen` first / "
            "尚未生成账本签名密钥"
        )
    return keys


@app.command("keygen")
def keygen(
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing when the key exists / 密钥已存在时跳过"
    ),
) -> None:
    """Generate the log's checkpoint signing key; prints the verifier key. 生成账本签名密钥."""
    settings = get_settings()
    path = settings.ledger_key_path
    if path.exists():
        if not if_missing:
            fail(f"{path} exists: a log key is never overwritten / 密钥文件已存在，不会覆盖")
        typer.echo(_log_keys().verifier_key)
        return
    try:
        verifier_key = checkpoints.keygen(path, settings.ledger_origin)
    except (OSError, note.NoteError) as exc:
        fail(f"cannot write {path}: {exc}")
    typer.echo(verifier_key)
    typer.echo(f"signer key written to {path} (keep it secret) / 签名私钥已写入", err=True)


@app.command("verifier-key")
def verifier_key() -> None:
    """Print the log's verifier key (publish it). 输出账本验证公钥."""
    typer.echo(_log_keys().verifier_key)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint now if the log grew; print the latest size and root. 签署检查点."""
    keys = _log_keys()
    try:
        with unit_of_work() as session:
            signed = checkpoints.sign(session, keys)
            latest = signed or checkpoints.latest(session)
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}")
    if latest is None:
        typer.echo("the log is empty: nothing to sign / 账本为空")
        return
    root = note.Checkpoint.parse_body(note.parse_note(latest.note)[0]).root
    state = "signed" if signed is not None else "unchanged (already signed)"
    typer.echo(f"size {latest.size} root {root.hex()} {state}")


@app.command("attest-rows")
def attest_rows() -> None:
    """Record the state of ledgered rows no entry describes yet (idempotent). 补记记录状态."""
    try:
        with unit_of_work() as session:
            count = attest.attest_rows(session)
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}")
    typer.echo(f"attested {count} row(s) / 已补记 {count} 条")


@app.command("export")
def export(
    directory: Path = typer.Argument(..., help="A new or empty directory / 导出目录"),
) -> None:
    """Export entries, checkpoints, cosignatures and ledgered rows for an auditor. 导出账本."""
    settings = get_settings()
    keys = checkpoints.load_keys(settings)
    db = database()
    try:
        with db.sessionmaker() as session:
            manifest = write_export(
                DatabaseSource(session, _describe(db.url)),
                directory,
                verifier_key=keys.verifier_key if keys else None,
                witnesses=list(settings.ledger_witnesses),
            )
    except ExportError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}")
    finally:
        db.dispose()
    rows = sum(manifest["rows"].values())
    typer.echo(
        f"exported {manifest['entries']} entries, {manifest['checkpoints']} checkpoints, "
        f"{manifest['cosignatures']} cosignatures, {rows} rows to {directory}"
    )


def _describe(url: str) -> str:
    return "database " + make_url(url).render_as_string(hide_password=True)


def read_key(value: str) -> str:
    """A verifier key given inline or as a file (a signer key file yields its verifier key)."""
    path = Path(value)
    if path.is_file():
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        value = lines[0] if lines else ""
    if value.startswith("PRIVATE+KEY+"):
        return note.verifier_key_for(note.parse_signer(value))
    return value


def _remembered(files: list[Path]) -> list[tuple[str, str]]:
    try:
        return [(str(path), path.read_text(encoding="utf-8")) for path in files]
    except OSError as exc:
        _abort(f"cannot read a remembered checkpoint: {exc}")


@app.command("verify")
def verify(
    export_dir: Path | None = typer.Option(
        None, "--export", help="Verify an export instead of the database / 校验导出目录"
    ),
    log_key: str | None = typer.Option(
        None, "--log-key", help="The log's verifier key, or a file holding it / 账本验证公钥"
    ),
    witness_keys: list[str] = typer.Option(
        [], "--witness-key", help="A witness's verifier key or file (repeatable) / 见证方公钥"
    ),
    known: list[Path] = typer.Option(
        [],
        "--checkpoint",
        help="A checkpoint note remembered earlier (a witness's checkpoint.note …), repeatable",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report / 输出 JSON"),
) -> None:
    """Recompute and check the whole log and every ledgered row. 校验账本."""
    remembered = _remembered(known)
    if export_dir is not None:
        report = _verify_export(export_dir, log_key, witness_keys, remembered, as_json)
    else:
        report = _verify_database(log_key, witness_keys, remembered, as_json)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    sys.exit(0 if report.ok else 1)


def _keys(log_key: str | None, witness_keys: list[str]) -> AuditKeys:
    if log_key is None:
        _abort("no log verifier key: pass --log-key / 缺少账本验证公钥")
    try:
        return AuditKeys.parse(read_key(log_key), [read_key(key) for key in witness_keys])
    except (OSError, note.NoteError) as exc:
        _abort(f"bad key: {exc}")


def _run(
    source: AuditSource, keys: AuditKeys, remembered: list[tuple[str, str]], quiet: bool
) -> Report:
    with progress_printer(source.entry_count(), quiet=quiet) as progress:
        return audit(source, keys, remembered=remembered, progress=progress)


def _verify_export(
    directory: Path,
    log_key: str | None,
    witness_keys: list[str],
    remembered: list[tuple[str, str]],
    quiet: bool,
) -> Report:
    try:
        source = ExportSource(directory)
        stated_log = source.manifest.get("verifier_key")
        stated_witnesses = list(source.manifest.get("witnesses") or [])
        keys = _keys(log_key or stated_log, witness_keys or stated_witnesses)
        report = _run(source, keys, remembered, quiet)
    except ExportError as exc:
        _abort(str(exc))
    if log_key is None:
        report.notices.append(
            "the log key was taken from the export itself: compare it with the published one, "
            "or pass --log-key"
        )
    return report


def _verify_database(
    log_key: str | None, witness_keys: list[str], remembered: list[tuple[str, str]], quiet: bool
) -> Report:
    settings = get_settings()
    if log_key is None and settings.ledger_key_path.exists():
        log_key = settings.ledger_key_path.as_posix()  # read_key derives the verifier key
    keys = _keys(log_key, witness_keys or list(settings.ledger_witnesses))
    db = database()
    try:
        with db.sessionmaker() as session:
            return _run(DatabaseSource(session, _describe(db.url)), keys, remembered, quiet)
    except SQLAlchemyError as exc:
        _abort(f"cannot read the database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        db.dispose()
