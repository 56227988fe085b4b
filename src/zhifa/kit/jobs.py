"""Periodic background work inside the app process (SLA sweep, outbox delivery, upstream polling).

``Periodic(name, interval_seconds, step)`` runs ``step()`` on its own daemon thread: at once when
started, then every ``interval_seconds`` or sooner when ``nudge()`` is called (e.g. after a commit
queued work). ``stop()`` ends the loop and joins the thread.

Invariants:
- The thread never dies of an error: a failed step is logged and the next one runs as planned.
- ``step`` owns its transactions (``db.unit_of_work()``); several processes may run the same job
  on PostgreSQL, so a step must claim its rows safely (``FOR UPDATE SKIP LOCKED`` or a lease).
- The app starts its jobs in the lifespan only when ``Settings.background_jobs`` is on; tests call
  the step functions directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("zhifa.jobs")

STOP_TIMEOUT_SECONDS = 10.0


class Periodic:
    def __init__(self, name: str, interval_seconds: float, step: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval_seconds
        self._step = step
        self.rounds = 0  # completed rounds, for tests and diagnostics
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"zhifa-{name}", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(STOP_TIMEOUT_SECONDS)

    def nudge(self) -> None:
        """Run the next round now rather than at the end of the interval."""
        self._wake.set()

    def run_once(self) -> None:
        try:
            self._step()
        except Exception:
            log.exception("background job %s failed; trying again on the next round", self.name)
        finally:
            self.rounds += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.run_once()
            self._wake.wait(self.interval)
