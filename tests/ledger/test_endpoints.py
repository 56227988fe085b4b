"""The ledger's public JSON API: checkpoints, entries, proofs, the verifier key, cosignatures.

Proofs served by the API are checked with ``merkle.verify_*`` against roots computed here from
the entries' own bytes (an independent in-memory tree), not against what the server says.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.ledger.conftest import WITNESS
from zhifa import ledger
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, merkle, note
from zhifa.models.ledger import LedgerCosignature

API = "/api/v1/ledger"


@pytest.fixture
def verifier_key(keyed_settings: Settings) -> str:
    keys = checkpoints.load_keys(keyed_settings)
    assert keys is not None
    return keys.verifier_key


@pytest.fixture
def api(keyed_settings: Settings, db: Database) -> Iterator[TestClient]:
    """A client without the app's lifespan: no background signing, checkpoints come from
    ``sign`` below, so every test knows exactly which checkpoints exist."""
    client = TestClient(create_app(keyed_settings, db), base_url="https://testserver")
    yield client
    client.close()


def record(db: Database, count: int, subject: tuple[str, str] = ("thing", "1")) -> None:
    with db.unit_of_work() as session:
        for n in range(count):
            ledger.record(session, "test.event", subject, {"n": n}, actor_id=None,
                          district_code=None)  # fmt: skip


def sign(db: Database, settings: Settings) -> int:
    keys = checkpoints.load_keys(settings)
    assert keys is not None
    with db.unit_of_work() as session:
        row = checkpoints.sign(session, keys)
        assert row is not None
        return row.size


def independent_tree(client: TestClient, size: int) -> merkle.MemoryTree:
    """The tree rebuilt from the entries' bytes as served, one entry at a time."""
    tree = merkle.MemoryTree()
    for index in range(size):
        tree.append(base64.b64decode(client.get(f"{API}/entries/{index}").json()["body"]))
    return tree


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def error_code(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    return str(body["error"]["code"])


class TestCheckpoint:
    def test_there_is_none_before_the_first_signing(self, api: TestClient) -> None:
        response = api.get(f"{API}/checkpoint")
        assert response.status_code == 404
        assert error_code(response) == "not_found"
        assert response.json()["error"]["message"] == "尚未签署任何检查点。"

    def test_the_latest_is_a_signed_note_that_opens_with_the_verifier_key(
        self, api: TestClient, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        record(db, 5)
        sign(db, keyed_settings)
        response = api.get(f"{API}/checkpoint")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        body, signers = note.open_note(response.text, [verifier_key])
        checkpoint = note.Checkpoint.parse_body(body)
        assert signers == [keyed_settings.ledger_origin]
        assert (checkpoint.origin, checkpoint.size) == (keyed_settings.ledger_origin, 5)
        assert checkpoint.root == independent_tree(api, 5).root()

    def test_json_gives_the_fields_of_the_signed_body(
        self, api: TestClient, db: Database, keyed_settings: Settings
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        data = api.get(f"{API}/checkpoint", params={"format": "json"}).json()
        assert data["origin"] == keyed_settings.ledger_origin
        assert data["size"] == 3
        assert unb64(data["root"]) == independent_tree(api, 3).root()
        assert data["note"] == api.get(f"{API}/checkpoint").text
        assert data["cosignatures"] == []

    def test_an_unknown_format_is_refused(self, api: TestClient) -> None:
        response = api.get(f"{API}/checkpoint", params={"format": "xml"})
        assert response.status_code == 422

    def test_older_checkpoints_stay_available_by_size(
        self, api: TestClient, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        record(db, 4)
        sign(db, keyed_settings)
        older = api.get(f"{API}/checkpoints/3")
        body, _ = note.open_note(older.text, [verifier_key])
        assert note.Checkpoint.parse_body(body).size == 3
        assert api.get(f"{API}/checkpoint", params={"format": "json"}).json()["size"] == 7
        assert api.get(f"{API}/checkpoints/7", params={"format": "json"}).json()["size"] == 7

    def test_a_size_never_signed_is_not_found(
        self, api: TestClient, db: Database, keyed_settings: Settings
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        missing = api.get(f"{API}/checkpoints/2")
        assert missing.status_code == 404
        assert "2" in missing.json()["error"]["message"]
        assert api.get(f"{API}/checkpoints/0").status_code == 422
        assert api.get(f"{API}/checkpoints/-1").status_code == 422
        assert api.get(f"{API}/checkpoints/abc").status_code == 422


class TestEntries:
    def test_an_entry_carries_its_exact_bytes_hash_chain_and_envelope(
        self, api: TestClient, db: Database
    ) -> None:
        record(db, 2, ("officer", "12"))
        first = api.get(f"{API}/entries/0").json()
        second = api.get(f"{API}/entries/1").json()
        assert first["index"] == 0
        assert unb64(first["leaf_hash"]) == merkle.leaf_hash(unb64(first["body"]))
        assert first["prev_hash"] is None
        assert second["prev_hash"] == first["leaf_hash"]
        envelope = second["envelope"]
        assert envelope["subject"] == {"type": "officer", "id": "12"}
        assert (envelope["kind"], envelope["payload"]) == ("test.event", {"n": 1})
        assert envelope["prev"] == first["leaf_hash"]

    def test_entries_beyond_the_latest_checkpoint_are_served(
        self, api: TestClient, db: Database, keyed_settings: Settings
    ) -> None:
        record(db, 2)
        sign(db, keyed_settings)
        record(db, 1)
        assert api.get(f"{API}/entries/2").status_code == 200

    def test_an_index_past_the_end_or_negative_is_refused(
        self, api: TestClient, db: Database
    ) -> None:
        record(db, 2)
        past = api.get(f"{API}/entries/2")
        assert past.status_code == 404
        assert past.json()["error"]["message"] == "日志中没有条目 2。"
        assert api.get(f"{API}/entries/-1").status_code == 422


class TestInclusionProofs:
    def test_every_entry_verifies_in_every_tree_size(self, api: TestClient, db: Database) -> None:
        record(db, 9)
        tree = independent_tree(api, 9)
        for tree_size in range(1, 10):
            for index in range(tree_size):
                response = api.get(
                    f"{API}/proof/inclusion", params={"index": index, "tree_size": tree_size}
                )
                data = response.json()
                assert (data["index"], data["tree_size"]) == (index, tree_size)
                proof = [unb64(h) for h in data["proof"]]
                merkle.verify_inclusion(
                    tree.read(0, index), index, tree_size, proof, tree.root(tree_size)
                )
                assert unb64(data["root"]) == tree.root(tree_size)

    def test_a_proof_verifies_against_the_signed_checkpoint_root(
        self, api: TestClient, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        record(db, 6)
        sign(db, keyed_settings)
        body, _ = note.open_note(api.get(f"{API}/checkpoint").text, [verifier_key])
        checkpoint = note.Checkpoint.parse_body(body)
        entry = api.get(f"{API}/entries/4").json()
        params = {"index": 4, "tree_size": checkpoint.size}
        proof = [unb64(h) for h in api.get(f"{API}/proof/inclusion", params=params).json()["proof"]]
        leaf = merkle.leaf_hash(unb64(entry["body"]))
        merkle.verify_inclusion(leaf, 4, checkpoint.size, proof, checkpoint.root)

    @pytest.mark.parametrize(
        ("params", "status"),
        [
            ({"index": 3, "tree_size": 3}, 422),  # index ≥ tree size
            ({"index": 0, "tree_size": 5}, 404),  # the log has only 4 entries
            ({"index": -1, "tree_size": 2}, 422),
            ({"index": 0, "tree_size": 0}, 422),
            ({"index": 0}, 422),
            ({"index": "x", "tree_size": 2}, 422),
        ],
    )
    def test_bad_parameters_are_refused_with_a_message(
        self, api: TestClient, db: Database, params: dict[str, object], status: int
    ) -> None:
        record(db, 4)
        response = api.get(f"{API}/proof/inclusion", params=params)
        assert response.status_code == status
        assert response.json()["error"]["message"]

    def test_a_tree_larger_than_the_log_names_both_sizes(
        self, api: TestClient, db: Database
    ) -> None:
        record(db, 4)
        response = api.get(f"{API}/proof/inclusion", params={"index": 0, "tree_size": 5})
        assert response.json()["error"]["message"] == "日志目前只有 4 个条目，尚无规模为 5 的树。"


class TestConsistencyProofs:
    def test_every_pair_of_sizes_verifies(self, api: TestClient, db: Database) -> None:
        record(db, 9)
        tree = independent_tree(api, 9)
        for second in range(1, 10):
            for first in range(1, second + 1):
                response = api.get(
                    f"{API}/proof/consistency", params={"first": first, "second": second}
                )
                data = response.json()
                assert (data["first"], data["second"]) == (first, second)
                proof = [unb64(h) for h in data["proof"]]
                merkle.verify_consistency(first, second, tree.root(first), tree.root(second), proof)

    def test_two_signed_checkpoints_are_consistent(
        self, api: TestClient, db: Database, keyed_settings: Settings, verifier_key: str
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        record(db, 5)
        sign(db, keyed_settings)
        old = note.Checkpoint.parse_body(
            note.open_note(api.get(f"{API}/checkpoints/3").text, [verifier_key])[0]
        )
        new = note.Checkpoint.parse_body(
            note.open_note(api.get(f"{API}/checkpoint").text, [verifier_key])[0]
        )
        params = {"first": old.size, "second": new.size}
        proof = api.get(f"{API}/proof/consistency", params=params).json()["proof"]
        merkle.verify_consistency(old.size, new.size, old.root, new.root, [unb64(h) for h in proof])

    @pytest.mark.parametrize(
        ("params", "status"),
        [
            ({"first": 3, "second": 2}, 422),  # first > second
            ({"first": 0, "second": 2}, 422),  # from an empty tree
            ({"first": -1, "second": 2}, 422),
            ({"first": 1, "second": 5}, 404),  # the log has only 4 entries
            ({"second": 2}, 422),
        ],
    )
    def test_bad_parameters_are_refused_with_a_message(
        self, api: TestClient, db: Database, params: dict[str, object], status: int
    ) -> None:
        record(db, 4)
        response = api.get(f"{API}/proof/consistency", params=params)
        assert response.status_code == status
        assert response.json()["error"]["message"]

    def test_equal_sizes_have_an_empty_proof(self, api: TestClient, db: Database) -> None:
        record(db, 4)
        response = api.get(f"{API}/proof/consistency", params={"first": 4, "second": 4})
        assert response.json()["proof"] == []


class TestVerifierKey:
    def test_it_is_the_key_that_checks_the_checkpoints(
        self, api: TestClient, verifier_key: str
    ) -> None:
        response = api.get(f"{API}/verifier-key")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text == verifier_key
        assert note.parse_verifier(response.text).key_type == note.ED25519

    def test_without_a_key_there_is_none(self, client: TestClient) -> None:
        response = client.get(f"{API}/verifier-key")
        assert response.status_code == 404
        assert error_code(response) == "not_found"


class TestCosignatures:
    def _cosign(self, api: TestClient, witness_signer: str, size: int, when: int) -> str:
        text = api.get(f"{API}/checkpoints/{size}").text
        body, _ = note.parse_note(text)
        return note.cosign(body, witness_signer, when)

    def test_a_configured_witness_cosignature_is_kept_and_served(
        self,
        api: TestClient,
        db: Database,
        keyed_settings: Settings,
        verifier_key: str,
        witness_keys: tuple[str, str],
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        line = self._cosign(api, witness_keys[0], 3, 1_760_000_000)
        response = api.post(f"{API}/cosignatures", json={"size": 3, "line": line})
        assert response.status_code == 201
        assert response.json() == {
            "witness": WITNESS,
            "timestamp": 1_760_000_000,
            "line": line.strip(),
        }
        published = api.get(f"{API}/checkpoint").text
        assert published.endswith(line)
        _, signers = note.open_note(published, [verifier_key, witness_keys[1]])
        assert signers == [keyed_settings.ledger_origin, WITNESS]
        data = api.get(f"{API}/checkpoints/3", params={"format": "json"}).json()
        assert data["cosignatures"] == [response.json()]

    def test_a_witness_that_is_not_configured_is_refused(
        self, api: TestClient, db: Database, keyed_settings: Settings
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        stranger, _ = note.generate_cosigner("stranger.example/w")
        line = self._cosign(api, stranger, 3, 1_760_000_000)
        response = api.post(f"{API}/cosignatures", json={"size": 3, "line": line})
        assert response.status_code == 422
        assert error_code(response) == "invalid_input"
        with db.sessionmaker() as session:
            assert checkpoints.cosignatures(session, 3) == []

    def test_a_cosignature_of_another_size_does_not_verify(
        self, api: TestClient, db: Database, keyed_settings: Settings, witness_keys: tuple[str, str]
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        record(db, 1)
        sign(db, keyed_settings)
        line = self._cosign(api, witness_keys[0], 3, 1_760_000_000)
        response = api.post(f"{API}/cosignatures", json={"size": 4, "line": line})
        assert response.status_code == 422

    def test_a_second_cosignature_by_the_same_witness_conflicts(
        self, api: TestClient, db: Database, keyed_settings: Settings, witness_keys: tuple[str, str]
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        line = self._cosign(api, witness_keys[0], 3, 1_760_000_000)
        assert api.post(f"{API}/cosignatures", json={"size": 3, "line": line}).status_code == 201
        again = self._cosign(api, witness_keys[0], 3, 1_760_000_099)
        response = api.post(f"{API}/cosignatures", json={"size": 3, "line": again})
        assert response.status_code == 409
        assert error_code(response) == "conflict"
        with db.sessionmaker() as session:
            rows = session.query(LedgerCosignature).all()
            assert [(r.size, r.timestamp) for r in rows] == [(3, 1_760_000_000)]

    def test_an_unknown_size_is_not_found(
        self, api: TestClient, db: Database, keyed_settings: Settings, witness_keys: tuple[str, str]
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        line = self._cosign(api, witness_keys[0], 3, 1_760_000_000)
        response = api.post(f"{API}/cosignatures", json={"size": 9, "line": line})
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "payload",
        [{"size": 3}, {"line": "— x AAAA"}, {"size": 0, "line": "x"}, {"size": 3, "line": "junk"}],
    )
    def test_a_malformed_body_is_refused(
        self, api: TestClient, db: Database, keyed_settings: Settings, payload: dict[str, object]
    ) -> None:
        record(db, 3)
        sign(db, keyed_settings)
        response = api.post(f"{API}/cosignatures", json=payload)
        assert response.status_code == 422
        assert error_code(response) == "invalid_input"


class TestOpenApi:
    def test_the_routes_are_documented_under_the_ledger_tag(self, api: TestClient) -> None:
        spec = api.get("/api/v1/openapi.json").json()
        ledger_paths = {
            path
            for path, ops in spec["paths"].items()
            if any("ledger" in op.get("tags", []) for op in ops.values())
        }
        assert ledger_paths == {
            f"{API}/checkpoint",
            f"{API}/checkpoints/{{size}}",
            f"{API}/entries/{{index}}",
            f"{API}/proof/inclusion",
            f"{API}/proof/consistency",
            f"{API}/verifier-key",
            f"{API}/cosignatures",
        }
