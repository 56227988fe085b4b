"""Run every benchmark (``bench/bench_*.py``), each in its own process; `make bench` calls this.

Usage: ``python bench/run.py [--quick] [name-filter]``; ``--quick`` is passed on to each benchmark
(fewer rounds, smaller data where a benchmark offers it). Exits non-zero if a benchmark crashed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    flags = [a for a in argv[1:] if a == "--quick"]
    names = [a for a in argv[1:] if a != "--quick"]
    wanted = names[0] if names else ""
    scripts = [p for p in sorted(BENCH_DIR.glob("bench_*.py")) if wanted in p.stem]
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script), *flags], cwd=BENCH_DIR.parent).returncode:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or not scripts else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
