"""File digests: SHA-256 and 国密 SM3 known answers, and one streaming pass over a file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from zhifa.ledger.digests import CHUNK_SIZE, file_digests, sha256_hex, sm3_hex

# GB/T 32905-2016, Appendix A: examples 1 and 2.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD_X16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


class TestKnownAnswers:
    def test_sm3_of_abc_is_the_gbt_32905_example(self) -> None:
        assert sm3_hex(b"abc") == SM3_ABC

    def test_sm3_of_a_full_512_bit_block_is_the_second_gbt_32905_example(self) -> None:
        assert sm3_hex(b"abcd" * 16) == SM3_ABCD_X16

    def test_sha256_of_abc_is_the_fips_180_example(self) -> None:
        assert sha256_hex(b"abc") == SHA256_ABC


class TestFileDigests:
    def test_a_file_spanning_several_chunks_gets_the_one_shot_digests_and_its_size(
        self, tmp_path: Path
    ) -> None:
        data = bytes(range(256)) * ((2 * CHUNK_SIZE + 4099) // 256)
        path = tmp_path / "evidence.bin"
        path.write_bytes(data)
        assert file_digests(path) == (hashlib.sha256(data).hexdigest(), sm3_hex(data), len(data))

    def test_an_empty_file_has_the_digests_of_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "empty"
        path.touch()
        assert file_digests(str(path)) == (sha256_hex(b""), sm3_hex(b""), 0)

    def test_the_abc_file_matches_both_known_answers(self, tmp_path: Path) -> None:
        path = tmp_path / "abc.txt"
        path.write_bytes(b"abc")
        assert file_digests(path) == (SHA256_ABC, SM3_ABC, 3)
