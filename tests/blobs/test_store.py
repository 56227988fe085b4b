"""The content-addressed store: digests on arrival, types by content, limits, atomic placement,
two-step storing, the blob row under concurrency, and stray part files."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.blobs import media
from zhifa import blobs
from zhifa.db import Database
from zhifa.errors import NotFound, PayloadTooLarge, UnsupportedMediaType
from zhifa.models.inspections import Blob

MB = 1_000_000


def sm3(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def stored_files(root: Path) -> list[Path]:
    """Files under digest names (the store proper, not its tmp folder)."""
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"
    )


def parts(root: Path) -> list[Path]:
    return sorted((root / "tmp").glob("*.part")) if (root / "tmp").exists() else []


def blob_rows(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Blob)) or 0)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The store's folder (the test's SQLite file sits beside it)."""
    return tmp_path / "blobs"


def chunked(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


class TestStoringAFile:
    def test_the_file_lands_under_its_sha256_with_both_digests_and_its_sniffed_type(
        self, session: Session, root: Path
    ) -> None:
        data = media.jpeg()

        stored = blobs.store_stream(session, root, chunked(data), max_bytes=MB)
        session.commit()

        sha = hashlib.sha256(data).hexdigest()
        assert stored.path == root / sha[:2] / sha[2:4] / sha
        assert stored.path.read_bytes() == data
        assert stored.created is True
        row = session.get(Blob, sha)
        assert row is not None
        assert (row.sm3, row.size, row.media_type) == (sm3(data), len(data), "image/jpeg")
        assert parts(root) == []

    def test_the_sm3_digest_equals_the_cryptography_library_s(
        self, session: Session, root: Path
    ) -> None:
        data = media.webm(100_000)

        stored = blobs.store_stream(session, root, chunked(data, 777), max_bytes=MB)

        assert stored.blob.sm3 == sm3(data)
        # GB/T 32905 test vector: SM3("abc").
        assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"

    def test_the_same_bytes_twice_are_one_file_and_one_row(
        self, session: Session, root: Path
    ) -> None:
        data = media.png()

        first = blobs.store_bytes(session, root, data, max_bytes=MB)
        session.commit()
        second = blobs.store_bytes(session, root, data, max_bytes=MB)
        session.commit()

        assert (first.created, second.created) == (True, False)
        assert first.path == second.path
        assert len(stored_files(root)) == 1
        assert blob_rows(session) == 1
        assert parts(root) == []


class TestRefusals:
    def test_a_file_above_the_limit_is_refused_at_the_first_chunk_past_it_and_nothing_stays(
        self, session: Session, root: Path
    ) -> None:
        pulled: list[int] = []

        def endless() -> Iterator[bytes]:
            yield media.jpeg()
            while True:
                pulled.append(1)
                yield b"\xff" * 1000

        with pytest.raises(PayloadTooLarge) as refused:
            blobs.store_stream(session, root, endless(), max_bytes=50_000)

        assert refused.value.status_code == 413
        assert refused.value.params == {"limit": "0.05"}
        assert len(pulled) <= 50
        assert stored_files(root) == []
        assert parts(root) == []
        assert blob_rows(session) == 0

    def test_content_outside_the_accepted_types_is_refused_whatever_its_name(
        self, session: Session, root: Path
    ) -> None:
        with pytest.raises(UnsupportedMediaType) as refused:
            blobs.store_bytes(session, root, media.png(), max_bytes=MB, allowed=blobs.VIDEO_TYPES)

        assert refused.value.status_code == 415
        assert refused.value.detail == {"field": "file", "media_type": "image/png"}
        assert stored_files(root) == []
        assert parts(root) == []

    def test_text_is_not_a_photo(self, session: Session, root: Path) -> None:
        with pytest.raises(UnsupportedMediaType):
            blobs.store_bytes(
                session,
                root,
                b"just some words\n" * 20,
                max_bytes=MB,
                allowed=blobs.PHOTO_TYPES,
            )

        assert stored_files(root) == []

    def test_an_empty_file_is_refused(self, session: Session, root: Path) -> None:
        with pytest.raises(UnsupportedMediaType) as refused:
            blobs.store_stream(session, root, [b"", b""], max_bytes=MB)

        assert refused.value.message == "The file is empty."
        assert parts(root) == []

    def test_a_source_that_fails_mid_body_leaves_no_part_file(
        self, session: Session, root: Path
    ) -> None:
        def broken() -> Iterator[bytes]:
            yield media.jpeg()
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            blobs.store_stream(session, root, broken(), max_bytes=MB)

        assert parts(root) == []
        assert stored_files(root) == []


class TestTwoSteps:
    def test_received_bytes_are_not_in_the_store_until_kept(
        self, session: Session, root: Path
    ) -> None:
        data = media.jpeg()

        received = blobs.receive(root, chunked(data), max_bytes=MB)

        assert received.sha256 == hashlib.sha256(data).hexdigest()
        assert received.sm3 == sm3(data)
        assert (received.size, received.media_type) == (len(data), "image/jpeg")
        assert stored_files(root) == []
        assert blob_rows(session) == 0
        with pytest.raises(NotFound):
            blobs.open_path(root, received.sha256)

        stored = blobs.keep(session, root, received)
        session.commit()

        assert blobs.open_path(root, received.sha256) == stored.path
        assert parts(root) == []
        assert blob_rows(session) == 1

    def test_discarded_bytes_leave_nothing(self, session: Session, root: Path) -> None:
        received = blobs.receive(root, [media.png()], max_bytes=MB)

        received.discard()

        assert parts(root) == []
        assert stored_files(root) == []

    def test_keeping_bytes_the_store_holds_already_drops_the_copy(
        self, session: Session, root: Path
    ) -> None:
        data = media.png()
        blobs.store_bytes(session, root, data, max_bytes=MB)
        again = blobs.receive(root, [data], max_bytes=MB)

        stored = blobs.keep(session, root, again)

        assert stored.created is False
        assert parts(root) == []
        assert len(stored_files(root)) == 1


class TestBlobRowUnderConcurrency:
    def test_a_transaction_storing_bytes_another_has_just_inserted_waits_and_agrees(
        self, db: Database, root: Path
    ) -> None:
        data = media.jpeg(colour=(1, 2, 3))
        outcome: dict[str, object] = {}

        def second_upload() -> None:
            with db.unit_of_work() as second:
                outcome["created"] = blobs.store_bytes(second, root, data, max_bytes=MB).created

        with db.sessionmaker() as first:
            blobs.store_bytes(first, root, data, max_bytes=MB)  # row inserted, not committed
            worker = threading.Thread(target=second_upload)
            worker.start()
            worker.join(timeout=0.5)  # it waits on the first transaction's row (or write lock)
            first.commit()
        worker.join(timeout=30)

        assert not worker.is_alive()
        assert outcome == {"created": False}
        with db.sessionmaker() as check:
            assert blob_rows(check) == 1


class TestPartialFiles:
    def test_a_partial_file_in_tmp_never_appears_as_a_blob(
        self, session: Session, root: Path
    ) -> None:
        data = media.jpeg()
        sha = hashlib.sha256(data).hexdigest()
        (root / "tmp").mkdir(parents=True)
        (root / "tmp" / "deadbeef.part").write_bytes(data[:1000])

        with pytest.raises(NotFound):
            blobs.open_path(root, sha)
        assert stored_files(root) == []

        stored = blobs.store_bytes(session, root, data, max_bytes=MB)

        assert stored.created is True
        assert stored.path.read_bytes() == data

    def test_the_sweep_removes_stale_part_files_and_keeps_fresh_ones(self, root: Path) -> None:
        (root / "tmp").mkdir(parents=True)
        stale = root / "tmp" / "old.part"
        fresh = root / "tmp" / "new.part"
        other = root / "tmp" / "notes.txt"
        for path in (stale, fresh, other):
            path.write_bytes(b"x")
        two_days_ago = time.time() - 2 * 86_400
        os.utime(stale, (two_days_ago, two_days_ago))
        os.utime(other, (two_days_ago, two_days_ago))

        removed = blobs.sweep_partials(root, older_than=timedelta(hours=24))

        assert removed == 1
        assert (stale.exists(), fresh.exists(), other.exists()) == (False, True, True)

    def test_the_sweep_of_a_store_without_tmp_removes_nothing(self, root: Path) -> None:
        assert blobs.sweep_partials(root) == 0


class TestSniffing:
    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (media.jpeg(), "image/jpeg"),
            (media.png(), "image/png"),
            (media.webm(), "video/webm"),
            (media.mp4(), "video/mp4"),
            (media.mp4(head=media.FTYP_M4A), "audio/mp4"),
            (media.mp4(head=media.FTYP_ISO5), "video/mp4"),
            (b"%PDF-1.7\n", "application/pdf"),
            (b"hello, world", "application/octet-stream"),
        ],
        ids=["jpeg", "png", "webm", "mp4", "m4a", "iso5-recording", "pdf", "text"],
    )
    def test_the_type_comes_from_the_content(self, data: bytes, expected: str) -> None:
        assert blobs.sniff(data[: blobs.SNIFF_BYTES]) == expected
