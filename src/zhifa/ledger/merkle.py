"""RFC 6962 / RFC 9162 Merkle tree math: hashes, roots, proofs and their verification.

This module owns the shape of the ledger's tree and nothing else: it never touches a database.

Invariants:

- ``leaf_hash = SHA-256(0x00 ‖ data)``, ``node_hash = SHA-256(0x01 ‖ left ‖ right)``, and a tree of
  ``n > 1`` leaves splits at the largest power of two smaller than ``n`` (RFC 6962 §2.1), so peer
  vectors and other CT-style verifiers apply unchanged.
- Storage keeps only *perfect* subtrees: node ``(level, index)`` is the hash of the ``2**level``
  leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes. Every root
  and proof is assembled from those nodes with O(log n) reads through a ``NodeReader``.
- Proofs come out in RFC 9162 order (the sibling nearest the leaf first), exactly as RFC 6962's
  PATH and SUBPROOF produce them; verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and raises
  ``ProofError`` with the reason instead of returning a boolean someone might forget to check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""``read(level, index)``: the stored hash of the perfect subtree at (level, index)."""


class ProofError(ValueError):
    """A proof, a size or a root does not check out; the message says which and why."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 6962 §2.1: the largest power of two strictly smaller than n."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes, computed by the recursive definition (reference only)."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = largest_power_of_two_below(len(hashes))
    return node_hash(root_from_leaves(hashes[:k]), root_from_leaves(hashes[k:]))


# --- Reading the tree from stored perfect subtrees ---


def _perfect_pieces(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) as perfect nodes (level, index), largest first, left to right."""
    pieces = []
    while start < end:
        level = (end - start).bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


def subtree_hash(read: NodeReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for any subtree RFC 6962 ever builds, in popcount(end - start) reads.

    Those subtrees start at a multiple of the smallest power of two ≥ their size; any other range
    has no hash in the tree and is refused.
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    if start % (1 << (end - start - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree of any RFC 6962 tree")
    pieces = [read(level, index) for level, index in _perfect_pieces(start, end)]
    # The tree is right-heavy in its ragged edge: fold the smaller right pieces in first.
    result = pieces.pop()
    while pieces:
        result = node_hash(pieces.pop(), result)
    return result


def root(read: NodeReader, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    return EMPTY_ROOT if size == 0 else subtree_hash(read, 0, size)


def inclusion_proof(read: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size]), nearest sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    proof = []
    start, end = 0, size
    while end - start > 1:
        middle = start + largest_power_of_two_below(end - start)
        if index < middle:
            proof.append(subtree_hash(read, middle, end))
            end = middle
        else:
            proof.append(subtree_hash(read, start, middle))
            start = middle
    proof.reverse()
    return proof


def consistency_proof(read: NodeReader, first: int, second: int) -> list[bytes]:
    """RFC 6962 PROOF(first, D[0:second]) = SUBPROOF(first, D[0:second], true), nearest first."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    proof: list[bytes] = []
    start, end, remaining, whole = 0, second, first, True
    while remaining != end - start:
        split = largest_power_of_two_below(end - start)
        if remaining <= split:
            proof.append(subtree_hash(read, start + split, end))
            end = start + split
        else:
            proof.append(subtree_hash(read, start, start + split))
            start, remaining, whole = start + split, remaining - split, False
    # SUBPROOF(m, D[m], false) contributes MTH(D[m]); with b still true the old root is known.
    if not whole:
        proof.append(subtree_hash(read, start, end))
    proof.reverse()
    return proof


def perfect_nodes_completed_by(index: int) -> list[tuple[int, int]]:
    """The (level ≥ 1, index) nodes that appending leaf ``index`` completes, lowest first.

    Store them in this order: node (k, i) = node_hash(node(k-1, 2i), node(k-1, 2i+1)).
    """
    if index < 0:
        raise ValueError(f"negative leaf index {index}")
    nodes = []
    level, count = 1, index + 1
    while count % (1 << level) == 0:
        nodes.append((level, index >> level))
        level += 1
    return nodes


class MemoryTree:
    """An append-only tree kept in memory (tests, the witness, the offline auditor)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.size = 0

    def append(self, data: bytes) -> int:
        """Append the leaf whose bytes are ``data``; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, hashed_leaf: bytes) -> int:
        index = self.size
        self.nodes[(0, index)] = hashed_leaf
        for level, node in perfect_nodes_completed_by(index):
            below = level - 1
            self.nodes[(level, node)] = node_hash(
                self.nodes[(below, 2 * node)], self.nodes[(below, 2 * node + 1)]
            )
        self.size += 1
        return index

    def read(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise LookupError(f"node ({level}, {index}) is not a complete subtree yet") from None

    def root(self, size: int | None = None) -> bytes:
        return root(self.read, self.size if size is None else self._within(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.read, index, self.size if size is None else self._within(size))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(
            self.read, first, self.size if second is None else self._within(second)
        )

    def _within(self, size: int) -> int:
        if size > self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2), no tree needed ---


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes], expected_length: int) -> None:
    if len(proof) != expected_length:
        raise ProofError(f"the proof has {len(proof)} hashes, but {expected_length} are needed")
    for position, element in enumerate(proof):
        _check_hash(f"proof[{position}]", element)


def _inclusion_proof_length(index: int, size: int) -> int:
    # Levels where the path and the tree's last leaf diverge, plus the ragged right border.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _check_root(name: str, computed: bytes, expected: bytes) -> None:
    if computed != expected:
        raise ProofError(
            f"the proof yields {name} {computed.hex()}, but {expected.hex() or 'nothing'} was given"
        )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` sits at ``index`` in the tree of ``size`` leaves with ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash("the leaf hash", leaf_hash)
    _check_proof_hashes(proof, _inclusion_proof_length(index, size))
    _check_root("root", _fold_inclusion(index, size, leaf_hash, proof), root)


def _fold_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Steps 2–5 of RFC 9162 §2.1.3.2: recompute the root from the leaf and its path."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the root")
    return r


def _check_consistency_sizes(first: int, second: int, proof: Sequence[bytes]) -> None:
    if first < 0 or second < 0:
        raise ProofError(f"negative tree size in {first} → {second}")
    if first > second:
        raise ProofError(f"the tree shrank from size {first} to size {second}")
    if first == 0:
        # RFC 9162 §2.1.4 defines consistency only for 0 < first: an empty tree proves nothing.
        raise ProofError("consistency from an empty tree (size 0) is meaningless")
    if first == second and proof:
        raise ProofError(f"sizes are equal ({first}) but the proof is not empty")


def _consistency_proof_length(first: int, second: int) -> int:
    # The proof starts at the largest perfect subtree ending at ``first`` (given separately when
    # ``first`` is a power of two, then it is the old root), then climbs like an inclusion proof.
    level = (first & -first).bit_length() - 1
    index = (first - 1) >> level
    seed = 0 if index == 0 else 1
    return seed + _inclusion_proof_length(index, ((second - 1) >> level) + 1)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``second`` leaves with ``second_root`` extends the ``first`` one."""
    _check_consistency_sizes(first, second, proof)
    if first == second:
        if first_root != second_root:
            raise ProofError(f"sizes are equal ({first}) but the roots differ")
        return
    _check_hash("the first root", first_root)
    _check_hash("the second root", second_root)
    _check_proof_hashes(proof, _consistency_proof_length(first, second))
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    first_computed, second_computed = _fold_consistency(first, second, path)
    _check_root("first root", first_computed, first_root)
    _check_root("second root", second_computed, second_root)


def _fold_consistency(first: int, second: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Steps 3–7 of RFC 9162 §2.1.4.2: recompute both roots from the path."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the path to the second root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the second root")
    return fr, sr
