"""Signed notes, checkpoints and cosignatures: known answers, round trips and every refusal."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from zhifa.ledger import note
from zhifa.ledger.note import (
    Checkpoint,
    NoteError,
    NoteSignature,
    Verifier,
    cosign,
    generate_cosigner,
    generate_signer,
    key_id,
    open_note,
    parse_note,
    parse_signer,
    parse_verifier,
    sign,
    verify_cosignature,
)

# The example of golang.org/x/mod/sumdb/note (Ed25519 is deterministic: the signature is fixed).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
# The example of the C2SP signed-note specification.
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ON"
    "ncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

LOG_SIGNER, LOG_VERIFIER = generate_signer("zhifa.example/ledger")
OTHER_SIGNER, OTHER_VERIFIER = generate_signer("zhifa.example/ledger")
WITNESS_SIGNER, WITNESS_VERIFIER = generate_cosigner("jiwei.example/witness")
OTHER_WITNESS_SIGNER, OTHER_WITNESS_VERIFIER = generate_cosigner("jiwei.example/witness")

BODY = "崇州市综合行政执法局\n第 2 行\n"
CHECKPOINT = Checkpoint("zhifa.example/ledger", 20852163, bytes(range(32)))
CHECKPOINT_BODY = CHECKPOINT.to_body()
TIME = 1_732_838_400


def _swap_key_id(text: str, new_id: bytes) -> str:
    body, signatures = parse_note(text)
    moved = [NoteSignature(s.name, new_id, s.payload).line for s in signatures]
    return body + "\n" + "".join(moved)


class TestKnownAnswers:
    def test_signing_the_go_example_reproduces_its_signature_byte_for_byte(self) -> None:
        assert sign(GO_TEXT, GO_SIGNER) == GO_TEXT + "\n" + GO_SIGNATURE

    def test_the_go_example_opens_with_its_verifier_key(self) -> None:
        assert open_note(GO_TEXT + "\n" + GO_SIGNATURE, [GO_VERIFIER]) == (
            GO_TEXT,
            ["PeterNeumann"],
        )

    def test_the_c2sp_specification_example_opens(self) -> None:
        assert open_note(SPEC_NOTE, [SPEC_VERIFIER]) == (
            "This is an example message.\n",
            ["example.com/foo"],
        )

    def test_the_go_signer_key_parses_to_its_verifier_key(self) -> None:
        signer = parse_signer(GO_SIGNER)
        verifier = parse_verifier(GO_VERIFIER)
        public = signer.private_key.public_key().public_bytes_raw()
        assert public == verifier.public_key.public_bytes_raw()
        assert signer.key_id == verifier.key_id == bytes.fromhex("c74f20a3")


class TestKeys:
    def test_generated_keys_have_the_sumdb_note_shape(self) -> None:
        assert re.fullmatch(r"PRIVATE\+KEY\+zhifa\.example/ledger\+[0-9a-f]{8}\+\S{44}", LOG_SIGNER)
        assert re.fullmatch(r"zhifa\.example/ledger\+[0-9a-f]{8}\+\S{44}", LOG_VERIFIER)
        assert LOG_SIGNER.split("+")[3] == LOG_VERIFIER.split("+")[1]

    def test_the_key_id_is_sha256_of_name_newline_type_and_public_key(self) -> None:
        verifier = parse_verifier(LOG_VERIFIER)
        public = verifier.public_key.public_bytes_raw()
        expected = hashlib.sha256(b"zhifa.example/ledger\n\x01" + public).digest()[:4]
        assert verifier.key_id == key_id("zhifa.example/ledger", 0x01, public) == expected
        assert base64.b64decode(LOG_VERIFIER.split("+", 2)[2]) == b"\x01" + public

    def test_witness_keys_use_type_0x04_in_their_key_id_and_encoding(self) -> None:
        verifier = parse_verifier(WITNESS_VERIFIER)
        public = verifier.public_key.public_bytes_raw()
        assert verifier.key_type == 0x04
        assert (
            verifier.key_id == hashlib.sha256(b"jiwei.example/witness\n\x04" + public).digest()[:4]
        )
        assert base64.b64decode(WITNESS_VERIFIER.split("+", 2)[2])[0] == 0x04

    def test_a_verifier_key_whose_id_does_not_match_its_key_is_refused(self) -> None:
        name, _, encoded = LOG_VERIFIER.split("+", 2)
        with pytest.raises(NoteError, match="key ID 00000000 does not match the key"):
            parse_verifier(f"{name}+00000000+{encoded}")

    def test_a_signer_key_whose_id_does_not_match_its_key_is_refused(self) -> None:
        parts = LOG_SIGNER.split("+", 4)
        parts[3] = "00000000"
        with pytest.raises(NoteError, match="key ID 00000000 does not match the key"):
            parse_signer("+".join(parts))

    @pytest.mark.parametrize(
        "vkey",
        [
            "",
            "name+c74f20a3",
            "na me+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
            "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ],
    )
    def test_malformed_verifier_keys_are_refused(self, vkey: str) -> None:
        with pytest.raises(NoteError):
            parse_verifier(vkey)

    @pytest.mark.parametrize(
        "skey", ["PRIVATE+KEY+x", GO_VERIFIER, "private+key+" + GO_SIGNER[12:]]
    )
    def test_malformed_signer_keys_are_refused(self, skey: str) -> None:
        with pytest.raises(NoteError, match="a signer key is PRIVATE"):
            parse_signer(skey)

    @pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u3000b", "a\x01b"])
    def test_invalid_key_names_are_refused_at_generation(self, name: str) -> None:
        with pytest.raises(NoteError, match="key name"):
            generate_signer(name)


class TestSignedNoteRoundTrip:
    def test_a_signed_note_opens_to_its_body_and_signer(self) -> None:
        assert open_note(sign(BODY, LOG_SIGNER), [LOG_VERIFIER]) == (BODY, ["zhifa.example/ledger"])

    def test_a_note_may_be_opened_from_utf8_bytes(self) -> None:
        text = sign(BODY, LOG_SIGNER).encode()
        assert open_note(text, [parse_verifier(LOG_VERIFIER)])[0] == BODY

    def test_a_body_with_blank_lines_survives_because_the_last_blank_line_splits(self) -> None:
        body = "first\n\n— looks like a signature AAAA\n\n"
        assert open_note(sign(body, LOG_SIGNER), [LOG_VERIFIER])[0] == body

    def test_unknown_signatures_are_ignored_when_a_known_key_verifies(self) -> None:
        text = sign(BODY, LOG_SIGNER) + sign(BODY, OTHER_SIGNER).split("\n\n")[-1]
        assert open_note(text, [LOG_VERIFIER]) == (BODY, ["zhifa.example/ledger"])

    def test_every_known_key_that_signed_is_named_once(self) -> None:
        extra = sign(BODY, GO_SIGNER).split("\n\n")[-1]
        text = sign(BODY, LOG_SIGNER) + extra + extra
        _, names = open_note(text, [LOG_VERIFIER, GO_VERIFIER])
        assert names == ["zhifa.example/ledger", "PeterNeumann"]


class TestSignedNoteRejections:
    def test_a_note_signed_by_another_key_with_the_same_name_is_refused(self) -> None:
        with pytest.raises(NoteError, match="no known key signed this note"):
            open_note(sign(BODY, OTHER_SIGNER), [LOG_VERIFIER])

    def test_a_signature_under_a_wrong_key_id_is_treated_as_unknown_and_refused(self) -> None:
        text = _swap_key_id(sign(BODY, LOG_SIGNER), b"\xde\xad\xbe\xef")
        with pytest.raises(NoteError, match=r"signed by zhifa\.example/ledger\+deadbeef"):
            open_note(text, [LOG_VERIFIER])

    def test_a_known_name_and_key_id_with_a_bad_signature_rejects_the_whole_note(self) -> None:
        impostor = parse_verifier(OTHER_VERIFIER)
        genuine = parse_verifier(LOG_VERIFIER)
        confused = Verifier(genuine.name, genuine.key_id, 0x01, impostor.public_key)
        with pytest.raises(
            NoteError, match="the signature by zhifa.example/ledger does not verify"
        ):
            open_note(sign(BODY, LOG_SIGNER), [confused])

    def test_a_modified_body_is_refused(self) -> None:
        text = sign(BODY, LOG_SIGNER).replace("第 2 行", "第 3 行")
        with pytest.raises(NoteError, match="does not verify"):
            open_note(text, [LOG_VERIFIER])

    def test_a_bad_signature_next_to_a_good_one_rejects_the_note(self) -> None:
        good = sign(BODY, LOG_SIGNER)
        bad = sign(BODY + "x\n", GO_SIGNER).split("\n\n")[-1]
        with pytest.raises(NoteError, match="PeterNeumann does not verify"):
            open_note(good + bad, [LOG_VERIFIER, GO_VERIFIER])

    @pytest.mark.parametrize(
        ("mangle", "reason"),
        [
            (lambda t: t.replace("\n\n", "\n"), "no blank line"),
            (lambda t: t.replace("\n\n", "\n \n"), "no blank line"),
            (lambda t: t + "\n", "signature block is empty or lacks its final newline"),
            (lambda t: t[:-1], "signature block is empty or lacks its final newline"),
            (lambda t: t.replace("— ", " — "), "must start with '— '"),
            (lambda t: t.replace("— ", "—  "), "key name ''"),
            (lambda t: t.replace("— ", "- "), "must start with '— '"),
            (lambda t: t.replace("ledger ", "ledger  "), "not valid base64"),
            (lambda t: t[:-1] + " \n", "not valid base64"),
            (lambda t: t.replace("\n", "\r\n"), "control character"),
            (lambda t: t.replace("崇州", "崇\x00州"), "control character"),
            (lambda t: t.replace("ledger ", "ledger\t"), "control character"),
            (lambda t: t.replace("ledger ", "ledger"), "no space after the key name"),
            (lambda t: t.replace("=\n", "\n"), "not valid base64"),
            (lambda t: t.split("\n\n")[0] + "\n\n— zhifa.example/ledger AAAA\n", "too short"),
        ],
    )
    def test_malformed_notes_are_refused(self, mangle: Callable[[str], str], reason: str) -> None:
        with pytest.raises(NoteError, match=re.escape(reason)):
            open_note(mangle(sign(BODY, LOG_SIGNER)), [LOG_VERIFIER])

    def test_non_canonical_base64_is_refused(self) -> None:
        text = sign(BODY, LOG_SIGNER)
        last = text.rstrip("\n").rsplit(" ", 1)[1]
        # The final character before "=" carries two unused bits; setting one keeps it decodable.
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        twisted = last[:-2] + alphabet[alphabet.index(last[-2]) ^ 1] + "="
        with pytest.raises(NoteError, match="not canonical base64"):
            open_note(text.replace(last, twisted), [LOG_VERIFIER])

    def test_invalid_utf8_is_refused(self) -> None:
        with pytest.raises(NoteError, match="not valid UTF-8"):
            open_note(sign(BODY, LOG_SIGNER).encode() + b"\xff", [LOG_VERIFIER])

    def test_too_many_signatures_are_refused(self) -> None:
        line = sign(BODY, LOG_SIGNER).split("\n\n")[-1]
        with pytest.raises(NoteError, match="more than 100 signatures"):
            open_note(BODY + "\n" + line * 101, [LOG_VERIFIER])

    def test_sixteen_signatures_are_accepted(self) -> None:
        line = sign(BODY, LOG_SIGNER).split("\n\n")[-1]
        assert open_note(BODY + "\n" + line * 16, [LOG_VERIFIER])[1] == ["zhifa.example/ledger"]

    @pytest.mark.parametrize("body", ["no final newline", "tab\there\n", "\ud800\n"])
    def test_bodies_that_cannot_be_a_note_are_not_signed(self, body: str) -> None:
        with pytest.raises(NoteError, match="a note's text must"):
            sign(body, LOG_SIGNER)

    def test_a_witness_key_cannot_sign_a_plain_note(self) -> None:
        with pytest.raises(NoteError, match="has type 0x04, not 0x01"):
            sign(BODY, WITNESS_SIGNER)


class TestCheckpoints:
    def test_the_body_is_origin_size_and_base64_root_each_ending_in_a_newline(self) -> None:
        root = base64.b64encode(bytes(range(32))).decode()
        body = CHECKPOINT.to_body()
        assert body == f"zhifa.example/ledger\n20852163\n{root}\n"

    def test_a_body_parses_back_to_the_same_checkpoint(self) -> None:
        assert Checkpoint.parse_body(CHECKPOINT_BODY) == CHECKPOINT

    def test_extension_lines_round_trip(self) -> None:
        checkpoint = Checkpoint("o", 0, bytes(32), ("ext one", "ext two"))
        assert checkpoint.to_body().endswith("=\next one\next two\n")
        assert Checkpoint.parse_body(checkpoint.to_body()) == checkpoint

    def test_the_empty_tree_has_size_zero(self) -> None:
        assert Checkpoint.parse_body("o\n0\n" + "A" * 43 + "=\n").size == 0

    @pytest.mark.parametrize(
        ("size", "reason"),
        [
            ("05", "not a decimal"),
            ("+5", "not a decimal"),
            (" 5", "not a decimal"),
            ("5 ", "not a decimal"),
            ("5_0", "not a decimal"),
            ("٥", "not a decimal"),
            ("0x5", "not a decimal"),
            ("-1", "not a decimal"),
            ("", "not a decimal"),
            (str(2**64), "outside 0"),
        ],
    )
    def test_sizes_are_strict_decimals(self, size: str, reason: str) -> None:
        with pytest.raises(NoteError, match=reason):
            Checkpoint.parse_body(f"origin\n{size}\n{'A' * 43}=\n")

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (f"\n1\n{'A' * 43}=\n", "origin must be one non-empty line"),
            (f"o\n1\n{'A' * 42}==\n", "root is 31 bytes"),
            (f"o\n1\n{'A' * 43}\n", "not valid base64"),
            (f"o\n1\n{'A' * 42}B=\n", "not canonical base64"),
            ("o\n1\n", "an origin, a size and a root hash line"),
            (f"o\n1\n{'A' * 43}=", "must end with a newline"),
            (f"o\n1\n{'A' * 43}=\n\n", "extension lines must be non-empty"),
            (f"o\n1\n{'A' * 43}=\r\n", "control characters"),
        ],
    )
    def test_malformed_bodies_are_refused(self, body: str, reason: str) -> None:
        with pytest.raises(NoteError, match=reason):
            Checkpoint.parse_body(body)

    @pytest.mark.parametrize(
        ("origin", "size", "root"),
        [("", 1, bytes(32)), ("a\nb", 1, bytes(32)), ("o", -1, bytes(32)), ("o", 1, bytes(33))],
    )
    def test_invalid_checkpoints_cannot_be_built(self, origin: str, size: int, root: bytes) -> None:
        with pytest.raises(NoteError):
            Checkpoint(origin, size, root)

    def test_a_signed_checkpoint_opens_and_parses(self) -> None:
        body, _ = open_note(sign(CHECKPOINT_BODY, LOG_SIGNER), [LOG_VERIFIER])
        assert Checkpoint.parse_body(body) == CHECKPOINT


class TestCosignatures:
    def test_a_cosignature_round_trips_to_its_timestamp(self) -> None:
        line = cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME)
        assert verify_cosignature(CHECKPOINT_BODY, line, WITNESS_VERIFIER) == TIME

    def test_the_line_carries_key_id_big_endian_time_and_a_signature_over_the_v1_message(
        self,
    ) -> None:
        line = cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME)
        assert line.startswith("— jiwei.example/witness ")
        assert line.endswith("\n")
        raw = base64.b64decode(line.split(" ")[-1])
        verifier = parse_verifier(WITNESS_VERIFIER)
        assert len(raw) == 4 + 8 + 64
        assert raw[:4] == verifier.key_id
        assert raw[4:12] == TIME.to_bytes(8, "big")
        message = f"cosignature/v1\ntime {TIME}\n{CHECKPOINT_BODY}".encode()
        verifier.public_key.verify(raw[12:], message)  # raises if the message differs

    def test_a_cosigned_checkpoint_opens_with_the_log_and_the_witness_keys(self) -> None:
        text = sign(CHECKPOINT_BODY, LOG_SIGNER) + cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME)
        assert open_note(text, [LOG_VERIFIER])[1] == ["zhifa.example/ledger"]
        assert open_note(text, [LOG_VERIFIER, WITNESS_VERIFIER])[1] == [
            "zhifa.example/ledger",
            "jiwei.example/witness",
        ]

    def test_a_cosignature_by_another_witness_key_is_refused(self) -> None:
        line = cosign(CHECKPOINT_BODY, OTHER_WITNESS_SIGNER, TIME)
        with pytest.raises(NoteError, match=r"the cosignature is by jiwei\.example/witness\+"):
            verify_cosignature(CHECKPOINT_BODY, line, WITNESS_VERIFIER)

    def test_a_cosignature_with_a_rewritten_timestamp_is_refused(self) -> None:
        raw = base64.b64decode(cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME).split(" ")[-1])
        forged = raw[:4] + (TIME + 1).to_bytes(8, "big") + raw[12:]
        line = f"— jiwei.example/witness {base64.b64encode(forged).decode()}\n"
        with pytest.raises(NoteError, match="does not verify"):
            verify_cosignature(CHECKPOINT_BODY, line, WITNESS_VERIFIER)

    def test_a_cosignature_over_a_modified_body_is_refused(self) -> None:
        line = cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME)
        other = Checkpoint(CHECKPOINT.origin, CHECKPOINT.size + 1, CHECKPOINT.root).to_body()
        with pytest.raises(NoteError, match="does not verify"):
            verify_cosignature(other, line, WITNESS_VERIFIER)

    def test_a_log_signature_is_not_a_cosignature(self) -> None:
        line = sign(CHECKPOINT_BODY, LOG_SIGNER).split("\n\n")[-1]
        with pytest.raises(NoteError, match="is not a witness"):
            verify_cosignature(CHECKPOINT_BODY, line, LOG_VERIFIER)

    def test_a_log_key_cannot_cosign(self) -> None:
        with pytest.raises(NoteError, match="has type 0x01, not 0x04"):
            cosign(CHECKPOINT_BODY, LOG_SIGNER, TIME)

    @pytest.mark.parametrize("timestamp", [-1, 2**63])
    def test_timestamps_outside_0_to_2_to_the_63_are_refused(self, timestamp: int) -> None:
        with pytest.raises(NoteError, match="cosignature time"):
            cosign(CHECKPOINT_BODY, WITNESS_SIGNER, timestamp)

    def test_only_checkpoints_are_cosigned(self) -> None:
        with pytest.raises(NoteError, match="an origin, a size and a root hash line"):
            cosign("just a note\n", WITNESS_SIGNER, TIME)

    def test_a_truncated_cosignature_is_refused(self) -> None:
        raw = base64.b64decode(cosign(CHECKPOINT_BODY, WITNESS_SIGNER, TIME).split(" ")[-1])
        line = f"— jiwei.example/witness {base64.b64encode(raw[:-1]).decode()}\n"
        with pytest.raises(NoteError, match="does not verify"):
            verify_cosignature(CHECKPOINT_BODY, line, WITNESS_VERIFIER)

    def test_a_fresh_key_pair_is_independent_of_the_module_constants(self) -> None:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        encoded = base64.b64encode(b"\x04" + seed).decode()
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        hex_id = note.key_id("w", 0x04, public).hex()
        signer = parse_signer(f"PRIVATE+KEY+w+{hex_id}+{encoded}")
        verifier = "+".join(["w", hex_id, base64.b64encode(b"\x04" + public).decode()])
        line = cosign(CHECKPOINT_BODY, signer, 0)
        assert verify_cosignature(CHECKPOINT_BODY, line, verifier) == 0
