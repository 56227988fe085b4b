"""Run every benchmark (``bench/bench_*.py``), each in its own process; `make bench` calls this.

Usage: ``python bench/run.py [name-filter]``. Exits non-zero if a benchmark crashed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = argv[1] if len(argv) > 1 else ""
    scripts = [p for p in sorted(BENCH_DIR.glob("bench_*.py")) if wanted in p.stem]
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=BENCH_DIR.parent).returncode:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or not scripts else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
