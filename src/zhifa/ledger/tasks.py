"""Periodic work of the ledger: signing checkpoints as the log grows.

The scheduler is one background thread per app process, started in the app's lifespan only when
a signer key exists, and stopped (joined) on shutdown. It sleeps until a transaction that
appended entries commits in this process (``after_commit`` nudges it), or at most
``ledger_idle_seconds`` (10 minutes), so appends made by other processes (the CLI, other app
nodes) are signed too.

Invariants:
- Each signing is its own unit of work; nothing else happens in it.
- At most one signing per ``ledger_checkpoint_seconds`` (1 s) per process: a burst of appends is
  one checkpoint, not one per commit.
- Several processes may sign at once (PostgreSQL): the unique constraint on the checkpoint's size
  lets exactly one row per size land; the loser's IntegrityError is rolled back and ignored.
- The thread never dies of an error: a failed round is logged and the next one tries again.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, store

log = logging.getLogger("zhifa.ledger.tasks")

APPENDED_KEY = "zhifa.ledger.appended"
STOP_TIMEOUT_SECONDS = 10.0

_running: set[CheckpointScheduler] = set()
_running_lock = threading.Lock()


def sign_once(db: Database, settings: Settings) -> int | None:
    """Sign a checkpoint if the log grew since the last one; its size, or None if none was due
    (no key, nothing new, or another process signed the same size first)."""
    keys = checkpoints.load_keys(settings)
    if keys is None:
        return None
    return _sign(db, keys)


def _sign(db: Database, keys: checkpoints.LogKeys) -> int | None:
    try:
        with db.unit_of_work() as session:
            row = checkpoints.sign(session, keys)
            return None if row is None else row.size
    except IntegrityError:
        log.info("another process signed the same checkpoint size first")
        return None


class CheckpointScheduler:
    """A thread that signs a checkpoint after appends (at most once a second) and when idle."""

    def __init__(self, db: Database, settings: Settings, keys: checkpoints.LogKeys) -> None:
        self.db = db
        self.keys = keys
        self.min_interval = settings.ledger_checkpoint_seconds
        self.idle_interval = settings.ledger_idle_seconds
        self.rounds = 0  # completed signing rounds, for tests and diagnostics
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhifa-checkpoints", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        with _running_lock:
            _running.add(self)
        self._wake.set()  # a first round at once: sign what was appended while we were down
        self._thread.start()

    def stop(self) -> None:
        with _running_lock:
            _running.discard(self)
        self._stop.set()
        self._wake.set()
        self._thread.join(STOP_TIMEOUT_SECONDS)

    def nudge(self) -> None:
        """Entries were appended: sign soon (within ``min_interval``)."""
        self._wake.set()

    def step(self) -> int | None:
        """One round: sign if the log grew. Errors are logged, never raised into the loop."""
        try:
            return _sign(self.db, self.keys)
        except Exception:
            log.exception("signing a ledger checkpoint failed; trying again on the next round")
            return None
        finally:
            self.rounds += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.idle_interval)
            if self._stop.is_set():
                return
            self._wake.clear()  # a commit during this round wakes the next one
            self.step()
            self._stop.wait(self.min_interval)


def start_scheduler(db: Database, settings: Settings) -> CheckpointScheduler | None:
    """Start signing checkpoints in the background, if the log has a signer key."""
    keys = checkpoints.load_keys(settings)
    if keys is None:
        log.info("no ledger key at %s: checkpoints are not signed", settings.ledger_key_path)
        return None
    scheduler = CheckpointScheduler(db, settings, keys)
    scheduler.start()
    return scheduler


# Registered before the store's own listener (insert=True): that one takes the pending events.
@event.listens_for(Session, "before_commit", insert=True)
def _note_appends(session: Session) -> None:
    if store.pending_events(session):
        session.info[APPENDED_KEY] = True


@event.listens_for(Session, "after_commit")
def _nudge_schedulers(session: Session) -> None:
    if session.info.pop(APPENDED_KEY, False):
        with _running_lock:
            schedulers = list(_running)
        for scheduler in schedulers:
            scheduler.nudge()


@event.listens_for(Session, "after_rollback")
def _forget_appends(session: Session) -> None:
    session.info.pop(APPENDED_KEY, None)
