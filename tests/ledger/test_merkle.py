"""RFC 6962 tree math: peer vectors, exhaustive round trips up to 64 leaves, O(log n) reads."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhifa.ledger import merkle
from zhifa.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
    perfect_nodes_completed_by,
    root,
    root_from_leaves,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc6962"
VECTOR_FILES = sorted(VECTORS.rglob("*.json")) if VECTORS.is_dir() else []
# The tree every numbered vector folder describes (see the vectors' README).
STANDARD_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
MAX_EXHAUSTIVE = 64


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"leaf {i}".encode())
    return tree


TREE_64 = _tree(MAX_EXHAUSTIVE)
LEAF_HASHES = [TREE_64.read(0, i) for i in range(MAX_EXHAUSTIVE)]


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[(bit // 8) % len(data)] ^= 1 << (bit % 8)
    return bytes(flipped)


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _check_vector(vector: dict[str, Any]) -> None:
    if "leafIdx" in vector:
        verify_inclusion(
            _b64(vector["leafHash"]),
            vector["leafIdx"],
            vector["treeSize"],
            _b64_list(vector["proof"]),
            _b64(vector["root"]),
        )
    else:
        verify_consistency(
            vector["size1"],
            vector["size2"],
            _b64(vector["root1"]),
            _b64(vector["root2"]),
            _b64_list(vector["proof"]),
        )


# Reference PATH and SUBPROOF, written as RFC 6962 §2.1.1/§2.1.2 state them.


def _reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = largest_power_of_two_below(len(leaves))
    if m < k:
        return [*_reference_path(m, leaves[:k]), root_from_leaves(leaves[k:])]
    return [*_reference_path(m - k, leaves[k:]), root_from_leaves(leaves[:k])]


def _reference_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    if m == len(leaves):
        return [] if whole else [root_from_leaves(leaves)]
    k = largest_power_of_two_below(len(leaves))
    if m <= k:
        return [*_reference_subproof(m, leaves[:k], whole), root_from_leaves(leaves[k:])]
    return [*_reference_subproof(m - k, leaves[k:], False), root_from_leaves(leaves[:k])]


class TestPeerVectors:
    def test_the_vector_directory_is_present_with_every_kind_of_probe(self) -> None:
        assert VECTORS.is_dir(), f"RFC 6962 vectors missing at {VECTORS}"
        folders = {p.parent.relative_to(VECTORS).as_posix() for p in VECTOR_FILES}
        assert {"consistency/additional", "inclusion/single-entry"} <= folders
        assert any(f.startswith("inclusion/additional/") for f in folders)
        assert len(VECTOR_FILES) >= 196

    @pytest.mark.parametrize(
        "path", VECTOR_FILES, ids=[p.relative_to(VECTORS).as_posix() for p in VECTOR_FILES]
    )
    def test_every_vector_is_accepted_or_rejected_as_it_says(self, path: Path) -> None:
        vector = _load(path)
        if vector["wantErr"]:
            with pytest.raises(ProofError):
                _check_vector(vector)
        else:
            _check_vector(vector)

    @pytest.mark.parametrize(
        "path",
        [p for p in VECTOR_FILES if p.name == "happy-path.json"],
        ids=lambda p: p.relative_to(VECTORS).as_posix(),
    )
    def test_our_proofs_of_the_standard_tree_equal_the_peer_proofs(self, path: Path) -> None:
        vector = _load(path)
        tree = MemoryTree()
        for leaf in STANDARD_LEAVES:
            tree.append(bytes.fromhex(leaf))
        if "leafIdx" in vector:
            size = vector["treeSize"]
            assert tree.inclusion_proof(vector["leafIdx"], size) == _b64_list(vector["proof"])
            assert tree.root(size) == _b64(vector["root"])
        else:
            first, second = vector["size1"], vector["size2"]
            assert tree.consistency_proof(first, second) == _b64_list(vector["proof"])
            assert (tree.root(first), tree.root(second)) == (
                _b64(vector["root1"]),
                _b64(vector["root2"]),
            )


class TestHashing:
    def test_leaf_and_node_hashes_are_domain_separated_sha256(self) -> None:
        assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
        assert (
            node_hash(b"L" * 32, b"R" * 32)
            == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
        )

    def test_the_empty_tree_hashes_to_sha256_of_nothing(self) -> None:
        assert (
            EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        assert root_from_leaves([]) == EMPTY_ROOT
        assert root(TREE_64.read, 0) == EMPTY_ROOT

    @pytest.mark.parametrize(
        ("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (2**20 + 1, 2**20)]
    )
    def test_the_split_is_the_largest_power_of_two_below_n(self, n: int, k: int) -> None:
        assert largest_power_of_two_below(n) == k

    @pytest.mark.parametrize("n", [-1, 0, 1])
    def test_trees_of_fewer_than_two_leaves_have_no_split(self, n: int) -> None:
        with pytest.raises(ValueError, match="no split point"):
            largest_power_of_two_below(n)


class TestRootsAndSubtrees:
    def test_the_root_from_stored_nodes_equals_the_recursive_definition_for_sizes_1_to_64(
        self,
    ) -> None:
        for n in range(1, MAX_EXHAUSTIVE + 1):
            assert root(TREE_64.read, n) == root_from_leaves(LEAF_HASHES[:n]), n

    def test_every_rfc6962_subtree_hash_equals_the_recursive_definition(self) -> None:
        for start in range(MAX_EXHAUSTIVE):
            for end in range(start + 1, MAX_EXHAUSTIVE + 1):
                if start % (1 << (end - start - 1).bit_length()) == 0:
                    expected = root_from_leaves(LEAF_HASHES[start:end])
                    assert subtree_hash(TREE_64.read, start, end) == expected

    @pytest.mark.parametrize(("start", "end"), [(1, 3), (2, 5), (4, 9), (3, 4 + 3)])
    def test_ranges_that_are_no_subtree_are_refused(self, start: int, end: int) -> None:
        with pytest.raises(ValueError, match="not a subtree"):
            subtree_hash(TREE_64.read, start, end)

    @pytest.mark.parametrize(("start", "end"), [(3, 3), (5, 2), (-1, 1)])
    def test_empty_and_negative_ranges_are_refused(self, start: int, end: int) -> None:
        with pytest.raises(ValueError, match="empty or negative range"):
            subtree_hash(TREE_64.read, start, end)


class TestPerfectNodesCompletedByAnAppend:
    @pytest.mark.parametrize(
        ("index", "nodes"),
        [
            (0, []),
            (1, [(1, 0)]),
            (2, []),
            (3, [(1, 1), (2, 0)]),
            (5, [(1, 2)]),
            (7, [(1, 3), (2, 1), (3, 0)]),
            (11, [(1, 5), (2, 2)]),
        ],
    )
    def test_worked_examples(self, index: int, nodes: list[tuple[int, int]]) -> None:
        assert perfect_nodes_completed_by(index) == nodes

    def test_after_n_appends_exactly_the_perfect_subtrees_inside_n_leaves_exist(self) -> None:
        stored: set[tuple[int, int]] = set()
        for n in range(1, MAX_EXHAUSTIVE + 1):
            stored |= {(0, n - 1), *perfect_nodes_completed_by(n - 1)}
            expected = {
                (level, i)
                for level in range(7)
                for i in range(n >> level)  # (i + 1) · 2^level ≤ n
            }
            assert stored == expected, n

    def test_each_completed_node_is_the_hash_of_its_two_children(self) -> None:
        for (level, i), value in TREE_64.nodes.items():
            if level:
                children = TREE_64.read(level - 1, 2 * i), TREE_64.read(level - 1, 2 * i + 1)
                assert value == node_hash(*children)
                assert value == root_from_leaves(LEAF_HASHES[i << level : (i + 1) << level])


class TestInclusionProofs:
    def test_every_proof_up_to_64_leaves_equals_rfc6962_path_and_verifies(self) -> None:
        for size in range(1, MAX_EXHAUSTIVE + 1):
            tree_root = root(TREE_64.read, size)
            for index in range(size):
                proof = inclusion_proof(TREE_64.read, index, size)
                assert proof == _reference_path(index, LEAF_HASHES[:size])
                verify_inclusion(LEAF_HASHES[index], index, size, proof, tree_root)

    def test_every_single_bit_flip_in_a_proof_hash_is_caught(self) -> None:
        for size in range(1, MAX_EXHAUSTIVE + 1):
            tree_root = root(TREE_64.read, size)
            for index in range(size):
                proof = inclusion_proof(TREE_64.read, index, size)
                for position in range(len(proof)):
                    for bit in range(position % 8, 256, 31):  # bits spread over the hash
                        tampered = list(proof)
                        tampered[position] = _flip(proof[position], bit)
                        with pytest.raises(ProofError, match="yields root"):
                            verify_inclusion(LEAF_HASHES[index], index, size, tampered, tree_root)

    def test_every_bit_of_every_hash_matters_in_one_ragged_tree(self) -> None:
        size, index = 13, 9
        proof = inclusion_proof(TREE_64.read, index, size)
        tree_root = root(TREE_64.read, size)
        leaf = LEAF_HASHES[index]
        for bit in range(256):
            for position in range(len(proof)):
                tampered = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(leaf, index, size, tampered, tree_root)
            with pytest.raises(ProofError):
                verify_inclusion(_flip(leaf, bit), index, size, proof, tree_root)
            with pytest.raises(ProofError):
                verify_inclusion(leaf, index, size, proof, _flip(tree_root, bit))

    def test_a_flipped_leaf_or_root_is_caught_for_every_index_and_size(self) -> None:
        for size in range(1, MAX_EXHAUSTIVE + 1):
            tree_root = root(TREE_64.read, size)
            for index in range(size):
                proof = inclusion_proof(TREE_64.read, index, size)
                bit = (index * 31 + size) % 256
                with pytest.raises(ProofError):
                    verify_inclusion(_flip(LEAF_HASHES[index], bit), index, size, proof, tree_root)
                with pytest.raises(ProofError):
                    verify_inclusion(LEAF_HASHES[index], index, size, proof, _flip(tree_root, bit))

    def test_a_proof_is_refused_at_every_other_index(self) -> None:
        for size in range(1, MAX_EXHAUSTIVE + 1):
            tree_root = root(TREE_64.read, size)
            for index in range(size):
                proof = inclusion_proof(TREE_64.read, index, size)
                for other in [*range(size + 2), 2**64 - 1]:
                    if other != index:
                        with pytest.raises(ProofError):
                            verify_inclusion(LEAF_HASHES[index], other, size, proof, tree_root)

    def test_a_proof_is_refused_against_the_checkpoint_of_another_size(self) -> None:
        # The size alone cannot be checked (sizes with the same path shape share proofs); what
        # matters is that the proof does not lead to another size's signed root.
        for size in range(1, MAX_EXHAUSTIVE + 1):
            for index in range(size):
                proof = inclusion_proof(TREE_64.read, index, size)
                for other in {size + 1, 2 * size, max(size - 1, index + 1)} - {size}:
                    if other <= MAX_EXHAUSTIVE:
                        with pytest.raises(ProofError):
                            verify_inclusion(
                                LEAF_HASHES[index], index, other, proof, root(TREE_64.read, other)
                            )

    def test_a_proof_with_a_hash_added_or_removed_is_refused_for_its_length(self) -> None:
        proof = inclusion_proof(TREE_64.read, 5, 8)
        tree_root = root(TREE_64.read, 8)
        for tampered in (proof[:-1], [*proof, proof[0]], [EMPTY_ROOT, *proof]):
            with pytest.raises(ProofError, match=r"the proof has \d+ hashes, but 3 are needed"):
                verify_inclusion(LEAF_HASHES[5], 5, 8, tampered, tree_root)

    def test_a_garbage_hash_of_the_wrong_length_is_named(self) -> None:
        proof = inclusion_proof(TREE_64.read, 5, 8)
        with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes, not 32"):
            verify_inclusion(LEAF_HASHES[5], 5, 8, [proof[0], proof[1][:31], proof[2]], EMPTY_ROOT)

    def test_an_index_outside_the_tree_is_named(self) -> None:
        with pytest.raises(ProofError, match="leaf index 8 is outside a tree of size 8"):
            verify_inclusion(LEAF_HASHES[0], 8, 8, [], EMPTY_ROOT)
        with pytest.raises(ProofError, match="leaf index -1 is outside"):
            verify_inclusion(LEAF_HASHES[0], -1, 8, [], EMPTY_ROOT)

    def test_a_wrong_root_is_reported_with_both_hashes(self) -> None:
        proof = inclusion_proof(TREE_64.read, 2, 3)
        with pytest.raises(ProofError, match=f"but {EMPTY_ROOT.hex()} was given"):
            verify_inclusion(LEAF_HASHES[2], 2, 3, proof, EMPTY_ROOT)

    @pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 4)])
    def test_no_proof_is_generated_for_a_leaf_outside_the_tree(self, index: int, size: int) -> None:
        with pytest.raises(ValueError, match="outside a tree"):
            inclusion_proof(TREE_64.read, index, size)


class TestConsistencyProofs:
    def test_every_proof_up_to_64_leaves_equals_rfc6962_subproof_and_verifies(self) -> None:
        for second in range(1, MAX_EXHAUSTIVE + 1):
            second_root = root(TREE_64.read, second)
            for first in range(1, second + 1):
                proof = consistency_proof(TREE_64.read, first, second)
                assert proof == _reference_subproof(first, LEAF_HASHES[:second], True)
                verify_consistency(first, second, root(TREE_64.read, first), second_root, proof)

    def test_every_tampered_proof_or_root_is_caught(self) -> None:
        for second in range(2, MAX_EXHAUSTIVE + 1):
            second_root = root(TREE_64.read, second)
            for first in range(1, second):
                first_root = root(TREE_64.read, first)
                proof = consistency_proof(TREE_64.read, first, second)
                for tampered in _tampered_proofs(proof, first + second):
                    with pytest.raises(ProofError):
                        verify_consistency(first, second, first_root, second_root, tampered)
                bit = (first * 7 + second) % 256
                with pytest.raises(ProofError):
                    verify_consistency(first, second, _flip(first_root, bit), second_root, proof)
                with pytest.raises(ProofError):
                    verify_consistency(first, second, first_root, _flip(second_root, bit), proof)
                with pytest.raises(ProofError):
                    verify_consistency(first, second, second_root, first_root, proof)

    def test_a_proof_is_refused_for_the_checkpoints_of_neighbouring_sizes(self) -> None:
        for second in range(2, MAX_EXHAUSTIVE + 1):
            for first in range(1, second):
                proof = consistency_proof(TREE_64.read, first, second)
                for f, s in _neighbours(first, second):
                    roots = root(TREE_64.read, f), root(TREE_64.read, s)
                    with pytest.raises(ProofError):
                        verify_consistency(f, s, *roots, proof)

    def test_equal_sizes_need_an_empty_proof_and_equal_roots(self) -> None:
        same = root(TREE_64.read, 5)
        verify_consistency(5, 5, same, same, [])
        with pytest.raises(ProofError, match=r"sizes are equal \(5\) but the proof is not empty"):
            verify_consistency(5, 5, same, same, [same])
        with pytest.raises(ProofError, match=r"sizes are equal \(5\) but the roots differ"):
            verify_consistency(5, 5, same, EMPTY_ROOT, [])

    def test_a_shrinking_tree_is_named(self) -> None:
        with pytest.raises(ProofError, match="the tree shrank from size 8 to size 5"):
            verify_consistency(8, 5, EMPTY_ROOT, EMPTY_ROOT, [])

    def test_consistency_from_an_empty_tree_is_refused(self) -> None:
        with pytest.raises(ProofError, match="from an empty tree"):
            verify_consistency(0, 5, EMPTY_ROOT, root(TREE_64.read, 5), [])
        with pytest.raises(ValueError, match="no consistency proof from size 0"):
            consistency_proof(TREE_64.read, 0, 5)

    def test_a_proof_of_the_wrong_length_is_refused_before_hashing(self) -> None:
        proof = consistency_proof(TREE_64.read, 6, 8)
        with pytest.raises(ProofError, match="the proof has 2 hashes, but 3 are needed"):
            verify_consistency(6, 8, root(TREE_64.read, 6), root(TREE_64.read, 8), proof[:2])

    def test_no_proof_is_generated_from_a_bigger_to_a_smaller_tree(self) -> None:
        with pytest.raises(ValueError, match="no consistency proof from size 9 to size 8"):
            consistency_proof(TREE_64.read, 9, 8)


def _tampered_proofs(proof: list[bytes], seed: int) -> list[list[bytes]]:
    variants = [proof[:-1], [*proof, proof[-1]], [EMPTY_ROOT, *proof], proof[::-1]]
    for position in range(len(proof)):
        variants.append(
            [*proof[:position], _flip(proof[position], seed + position), *proof[position + 1 :]]
        )
    return [v for v in variants if v != proof]


def _neighbours(first: int, second: int) -> list[tuple[int, int]]:
    pairs = [(first - 1, second), (first + 1, second), (first, second - 1), (first, second + 1)]
    return [(f, s) for f, s in pairs if 0 < f < s <= MAX_EXHAUSTIVE]


class CountingReader:
    """A synthetic tree of any size: node (level, i) is SHA-256 of its coordinates."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.reads += 1
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


def _reads(operation: Callable[[CountingReader, int, int], object], a: int, b: int) -> int:
    reader = CountingReader()
    operation(reader, a, b)
    return reader.reads


def _bound(n: int) -> int:
    return 2 * (n - 1).bit_length() + 2  # 2·⌈log2 n⌉ + 2


SIZES = sorted(
    {
        *range(1, 1025),
        *(2**k + d for k in range(9, 21) for d in (-1, 0, 1)),
        2**20,
        699_051,
        1_000_003,
    }
)


class TestLogarithmicReads:
    def test_a_root_costs_popcount_n_reads_within_2_log_n_plus_2(self) -> None:
        for size in SIZES:
            assert _reads(lambda r, _, n: root(r, n), 0, size) == size.bit_count() <= _bound(size)

    def test_an_inclusion_proof_costs_at_most_2_log_n_plus_2_reads(self) -> None:
        for size in SIZES:
            for index in {0, 1 % size, size // 3, size // 2, max(size - 2, 0), size - 1}:
                assert _reads(inclusion_proof, index, size) <= _bound(size), (index, size)

    def test_a_consistency_proof_costs_at_most_2_log_n_plus_2_reads(self) -> None:
        for size in SIZES:
            for first in {1, size // 3 or 1, size // 2 or 1, max(size - 1, 1), size}:
                assert _reads(consistency_proof, first, size) <= _bound(size), (first, size)

    @given(size=st.integers(1, 2**20), data=st.data())
    def test_any_proof_in_a_tree_of_up_to_a_million_leaves_is_logarithmic(
        self, size: int, data: st.DataObject
    ) -> None:
        index = data.draw(st.integers(0, size - 1))
        assert _reads(inclusion_proof, index, size) <= _bound(size)
        assert _reads(consistency_proof, index + 1, size) <= _bound(size)


BIG_TREE = _tree(2048)


class TestLargerTreesByProperty:
    @given(size=st.integers(1, 2048), data=st.data())
    def test_any_inclusion_proof_verifies(self, size: int, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, size - 1))
        proof = BIG_TREE.inclusion_proof(index, size)
        verify_inclusion(BIG_TREE.read(0, index), index, size, proof, BIG_TREE.root(size))

    @given(second=st.integers(1, 2048), data=st.data())
    def test_any_consistency_proof_verifies(self, second: int, data: st.DataObject) -> None:
        first = data.draw(st.integers(1, second))
        proof = BIG_TREE.consistency_proof(first, second)
        verify_consistency(first, second, BIG_TREE.root(first), BIG_TREE.root(second), proof)


class TestMemoryTree:
    def test_append_returns_contiguous_indices_and_hashes_the_leaf(self) -> None:
        tree = MemoryTree()
        assert [tree.append(b"a"), tree.append(b"b"), tree.append_hash(EMPTY_ROOT)] == [0, 1, 2]
        assert tree.size == 3
        assert tree.read(0, 1) == leaf_hash(b"b")
        assert tree.root() == root_from_leaves([leaf_hash(b"a"), leaf_hash(b"b"), EMPTY_ROOT])

    def test_an_incomplete_node_cannot_be_read(self) -> None:
        with pytest.raises(LookupError, match=r"node \(1, 1\) is not a complete subtree yet"):
            _tree(3).read(1, 1)

    def test_sizes_beyond_the_tree_are_refused(self) -> None:
        tree = _tree(3)
        with pytest.raises(ValueError, match="the tree has 3 leaves, not 4"):
            tree.root(4)
        with pytest.raises(ValueError, match="the tree has 3 leaves, not 4"):
            tree.consistency_proof(1, 4)

    def test_the_empty_tree_has_the_empty_root(self) -> None:
        assert MemoryTree().root() == EMPTY_ROOT

    def test_the_module_exports_the_node_reader_alias(self) -> None:
        reader: merkle.NodeReader = TREE_64.read
        assert reader(0, 0) == LEAF_HASHES[0]
