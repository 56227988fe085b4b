"""The checkpoint scheduler: ``sign_once``, one loop step, a lost race, and the lifespan thread.

No test waits for a clock: background work is awaited by polling its outcome in a bounded loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from zhifa import ledger
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, merkle, note, store, tasks
from zhifa.models.ledger import LedgerEvent

POLL_STEP_SECONDS = 0.02
POLL_ROUNDS = 1000  # 20 s at most: only a broken scheduler gets anywhere near it


@pytest.fixture
def keyed_settings(settings: Settings, tmp_path: Path) -> Settings:
    key_file = tmp_path / "ledger.key"
    checkpoints.keygen(key_file, settings.ledger_origin)
    return settings.model_copy(update={"ledger_key_file": key_file})


@pytest.fixture
def verifier_key(keyed_settings: Settings) -> str:
    keys = checkpoints.load_keys(keyed_settings)
    assert keys is not None
    return keys.verifier_key


def record(db: Database, count: int) -> None:
    with db.unit_of_work() as session:
        for n in range(count):
            ledger.record(session, "test.event", ("thing", "1"), {"n": n}, actor_id=None,
                          district_code=None)  # fmt: skip


def checkpoint_sizes(db: Database) -> list[int]:
    with db.sessionmaker() as session:
        return [c.size for c in checkpoints.all_checkpoints(session)]


def wait_until(condition: Callable[[], bool]) -> bool:
    for _ in range(POLL_ROUNDS):
        if condition():
            return True
        time.sleep(POLL_STEP_SECONDS)
    return condition()


def opens_at_size(db: Database, verifier_key: str, size: int) -> bool:
    """The checkpoint of ``size`` opens with the verifier key and names the log's true root."""
    with db.sessionmaker() as session:
        row = checkpoints.at_size(session, size)
        assert row is not None
        body, _ = note.open_note(row.note, [verifier_key])
        bodies = session.scalars(select(LedgerEvent.body).order_by(LedgerEvent.seq).limit(size))
        expected = merkle.root_from_leaves([merkle.leaf_hash(bytes(b)) for b in bodies])
        signed = note.Checkpoint.parse_body(body)
        return (signed.size, signed.root) == (size, expected)


class TestSignOnce:
    def test_without_a_key_nothing_is_signed(self, db: Database, settings: Settings) -> None:
        record(db, 2)
        assert tasks.sign_once(db, settings) is None
        assert checkpoint_sizes(db) == []

    def test_an_empty_log_is_not_signed(self, db: Database, keyed_settings: Settings) -> None:
        assert tasks.sign_once(db, keyed_settings) is None
        assert checkpoint_sizes(db) == []

    def test_it_signs_the_current_size_once_and_again_after_growth(
        self, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        record(db, 3)
        assert tasks.sign_once(db, keyed_settings) == 3
        assert tasks.sign_once(db, keyed_settings) is None
        record(db, 2)
        assert tasks.sign_once(db, keyed_settings) == 5
        assert checkpoint_sizes(db) == [3, 5]
        assert opens_at_size(db, verifier_key, 3)
        assert opens_at_size(db, verifier_key, 5)

    def test_losing_a_race_to_another_process_is_harmless(
        self, db: Database, keyed_settings: Settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        record(db, 4)
        assert tasks.sign_once(db, keyed_settings) == 4
        record(db, 1)
        assert tasks.sign_once(db, keyed_settings) == 5
        # Another process committed size 5 after we looked: we did not see it, and try to sign it.
        monkeypatch.setattr(checkpoints, "latest", lambda session: None)
        assert tasks.sign_once(db, keyed_settings) is None  # the unique size refused ours
        monkeypatch.undo()
        assert checkpoint_sizes(db) == [4, 5]
        record(db, 1)
        assert tasks.sign_once(db, keyed_settings) == 6


class TestSchedulerStep:
    def test_a_step_signs_what_was_appended(
        self, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        keys = checkpoints.load_keys(keyed_settings)
        assert keys is not None
        scheduler = tasks.CheckpointScheduler(db, keyed_settings, keys)
        record(db, 7)
        assert scheduler.step() == 7
        assert scheduler.step() is None
        assert scheduler.rounds == 2
        assert opens_at_size(db, verifier_key, 7)

    def test_a_failing_round_is_logged_and_does_not_raise(
        self, db: Database, keyed_settings: Settings, caplog: pytest.LogCaptureFixture
    ) -> None:
        keys = checkpoints.load_keys(keyed_settings)
        assert keys is not None
        broken = Database("sqlite:///" + str(Path(keyed_settings.data_dir) / "no" / "such.db"))
        scheduler = tasks.CheckpointScheduler(broken, keyed_settings, keys)
        assert scheduler.step() is None
        broken.dispose()
        assert "signing a ledger checkpoint failed" in caplog.text


class TestLifespan:
    def test_without_a_key_no_thread_is_started(self, settings: Settings, db: Database) -> None:
        with TestClient(create_app(settings, db)) as client:
            assert client.app.state.checkpoint_scheduler is None  # type: ignore[attr-defined]

    def test_the_thread_signs_appends_and_stops_on_shutdown(
        self, keyed_settings: Settings, db: Database, verifier_key: str
    ) -> None:
        app = create_app(keyed_settings, db)
        with TestClient(app):
            scheduler = app.state.checkpoint_scheduler
            assert scheduler is not None
            assert scheduler.alive
            record(db, 3)
            assert wait_until(lambda: 3 in checkpoint_sizes(db))
            record(db, 2)
            assert wait_until(lambda: 5 in checkpoint_sizes(db))
        assert not scheduler.alive
        assert opens_at_size(db, verifier_key, 5)

    def test_appends_made_while_the_app_was_down_are_signed_at_start(
        self, keyed_settings: Settings, db: Database
    ) -> None:
        record(db, 4)
        with TestClient(create_app(keyed_settings, db)):
            assert wait_until(lambda: checkpoint_sizes(db) == [4])

    def test_appends_by_another_process_are_signed_on_the_idle_wake(
        self, keyed_settings: Settings, db: Database
    ) -> None:
        settings = keyed_settings.model_copy(update={"ledger_idle_seconds": 0.05})
        app = create_app(settings, db)
        with TestClient(app):
            scheduler = app.state.checkpoint_scheduler
            assert wait_until(lambda: scheduler.rounds >= 1)
            # No nudge reaches it, as for a commit made by the CLI or another app node.
            with tasks._running_lock:
                tasks._running.discard(scheduler)
            record(db, 2)
            assert wait_until(lambda: checkpoint_sizes(db) == [2])

    def test_a_burst_of_commits_ends_in_a_checkpoint_of_the_final_size(
        self, keyed_settings: Settings, db: Database
    ) -> None:
        with TestClient(create_app(keyed_settings, db)):
            for _ in range(10):
                record(db, 1)
            assert wait_until(lambda: 10 in checkpoint_sizes(db))
        with db.sessionmaker() as session:
            assert store.size(session) == 10
            latest = checkpoints.latest(session)
            assert latest is not None
            assert latest.size == 10
