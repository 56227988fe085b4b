"""Timing and the results table shared by the benchmarks in this folder.

A benchmark measures its cases and a *baseline* in the same run, on the same machine, and prints
one table: time per operation, operations per second, and the ratio to the baseline. Comparing to a
same-run baseline (not to a number from another day or machine) keeps results meaningful on a busy
laptop or a CI runner. Benchmarks are not tests: they assert nothing and never fail on slowness.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str
    seconds_per_op: float


def measure(
    name: str, operation: Callable[[], object], *, number: int = 200, repeat: int = 5
) -> Result:
    """Median over ``repeat`` rounds of ``number`` calls, after one warm-up call."""
    operation()
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            operation()
        rounds.append((time.perf_counter() - start) / number)
    return Result(name, statistics.median(rounds))


def _human(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:8.2f} {unit}"
    return f"{seconds / 1e-9:8.0f} ns"


def print_table(title: str, baseline: Result, cases: list[Result]) -> None:
    """Print the baseline first, then each case with its ratio to the baseline."""
    width = max(len(r.name) for r in [baseline, *cases])
    print(f"\n{title}")
    print(f"{'case':<{width}}  {'per op':>11}  {'ops/s':>10}  {'× baseline':>10}")
    for result in [baseline, *cases]:
        ratio = result.seconds_per_op / baseline.seconds_per_op
        print(
            f"{result.name:<{width}}  {_human(result.seconds_per_op):>11}  "
            f"{1 / result.seconds_per_op:>10.0f}  {ratio:>10.2f}"
        )
