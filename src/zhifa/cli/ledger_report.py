"""How ``zhifa ledger verify`` shows its work: a progress bar on stderr, a summary on stdout.

The summary is one ``label  value`` line each, then ``result  OK`` or ``result  FAILED …``, the
first problem on a line of its own (``first  entry 17: …``) and every listed problem after it, so
scripts can grep it. On a terminal the progress is a ``rich`` bar; otherwise a line per tenth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zhifa.ledger.audit import Report


@contextmanager
def progress_printer(total: int, *, quiet: bool = False) -> Iterator[Callable[[int], None] | None]:
    """A callback taking the number of entries checked so far (None when ``quiet``)."""
    console = Console(stderr=True)
    if quiet:
        yield None
    elif console.is_terminal:
        columns = (TextColumn("entries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("verify", total=total)
            yield lambda done: bar.update(task, completed=done)
    else:
        yield _tenths(total)


def _tenths(total: int) -> Callable[[int], None]:
    shown = [-1]

    def show(done: int) -> None:
        tenth = 10 * done // total if total else 10
        if tenth > shown[0]:
            shown[0] = tenth
            typer.echo(f"checked {done} of {total} entries", err=True)

    return show


def _line(label: str, value: object) -> None:
    typer.echo(f"{label:<14}{value}")


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def print_report(report: Report) -> None:
    _line("source", report.source)
    _line("log key", report.log_key)
    _line("entries", f"{report.entries} (subjects {report.subjects})")
    _line("checkpoints", f"{report.checkpoints} (remembered {report.remembered})")
    _line("cosignatures", f"{report.cosignatures} verified")
    for name, seen in sorted(report.witnesses.items()):
        _line(
            "witness",
            f"{name}: {seen['cosigned']} cosigned, latest size {seen['size']} at "
            f"{_when(seen['time'])}",
        )
    if report.nodes is not None:
        _line("nodes", report.nodes)
    _line("rows", report.rows)
    for notice in report.notices:
        _line("notice", notice)
    if report.ok:
        _line("result", "OK — every entry, checkpoint and ledgered row checks out / 校验通过")
        return
    _line("result", f"FAILED — {report.problem_count} problem(s) / 校验失败")
    _line("first", report.problems[0])
    for problem in report.problems:
        _line("problem", f"[{problem.area}] {problem}")
    hidden = report.problem_count - len(report.problems)
    if hidden:
        _line("problem", f"… and {hidden} more")
