"""``zhifa witness keygen|run``: an independent witness of a zhifa ledger. 账本见证方.

``run`` exits 0 when it cosigned (or had already cosigned) the log's checkpoint, 1 when it refused
it (wrong key, shrink, fork, no consistency proof: the message says which sizes disagree), and 2
when it could not run (log unreachable, bad key file). See ``zhifa.ledger.witness``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from zhifa.cli.ledger import read_key
from zhifa.ledger import note
from zhifa.ledger.witness import (
    LogClient,
    Witness,
    WitnessError,
    WitnessRefusal,
    WitnessState,
    load_signer,
)
from zhifa.ledger.witness import (
    keygen as witness_keygen,
)

app = typer.Typer(help="Witness a zhifa ledger / 账本见证", no_args_is_help=True)


@app.command("keygen")
def keygen(
    name: str = typer.Option(..., help="The witness's name, e.g. jiwei.chongzhou / 见证方名称"),
    out: Path = typer.Option(..., help="Where to write the signer key (never overwritten)"),
) -> None:
    """Generate a witness key; prints the verifier key for the log's ZHIFA_LEDGER_WITNESSES."""
    try:
        verifier_key = witness_keygen(name, out)
    except (WitnessError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    typer.echo(verifier_key)
    typer.echo(
        f"signer key written to {out}; add the line above to the log's ZHIFA_LEDGER_WITNESSES "
        "/ 请将上面的公钥配置到账本的见证方列表",
        err=True,
    )


@app.command("run")
def run(
    log: str = typer.Option(..., "--log", help="The log's URL (http://host:8000) / 账本地址"),
    state: Path = typer.Option(..., "--state", help="This witness's state directory / 状态目录"),
    key: Path = typer.Option(..., "--key", help="The witness signer key file / 见证方私钥"),
    log_key: str | None = typer.Option(
        None, "--log-key", help="The log's verifier key or a file (default: trust on first use)"
    ),
) -> None:
    """Check the log's latest checkpoint against what this witness saw, then cosign it. 见证."""
    try:
        witness = Witness(
            LogClient(log),
            WitnessState(state),
            load_signer(key),
            read_key(log_key) if log_key else None,
        )
        outcome = witness.run()
    except WitnessRefusal as exc:
        typer.echo(f"REFUSED: {exc} / 拒绝签署", err=True)
        sys.exit(1)
    except (WitnessError, note.NoteError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if outcome.trusted_key_now:
        typer.echo(f"trusting the log key from {log} on first use; it is kept in {state}")
    typer.echo(outcome.describe())
