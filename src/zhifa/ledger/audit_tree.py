"""The auditor's rebuilt tree: every perfect-subtree hash, packed level by level.

``merkle.MemoryTree`` keeps a dict entry per node, several hundred bytes each; the auditor rebuilds
trees of millions of leaves, so it packs each level into one ``bytearray`` instead: level ``k``
holds the ``size >> k`` complete nodes of 2**k leaves, 32 bytes each, about 64 bytes per leaf in
all. Roots and proofs come from the same ``merkle`` functions the log itself uses.

Invariant: after ``append_hash`` of leaf ``n - 1``, every perfect subtree within the first ``n``
leaves is stored, exactly the nodes the database's ``ledger_node`` table must hold.
"""

from __future__ import annotations

from zhifa.ledger import merkle

_SIZE = merkle.HASH_SIZE


class PackedTree:
    """An append-only RFC 6962 tree held as packed hashes (see the module docstring)."""

    def __init__(self) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.size = 0

    def append_hash(self, leaf: bytes) -> None:
        levels = self.levels
        levels[0] += leaf
        count, level, node = self.size + 1, 1, leaf
        # Leaf ``count - 1`` completes the node above it at each level whose 2**level divides
        # ``count``; its children are the last two nodes of the level below (the right one is
        # the node just made).
        while count % (1 << level) == 0:
            if len(levels) == level:
                levels.append(bytearray())
            left = bytes(levels[level - 1][-2 * _SIZE : -_SIZE])
            node = merkle.node_hash(left, node)
            levels[level] += node
            level += 1
        self.size = count

    def read(self, level: int, index: int) -> bytes:
        start = index * _SIZE
        if level >= len(self.levels) or start + _SIZE > len(self.levels[level]) or index < 0:
            raise LookupError(f"node ({level}, {index}) is not a complete subtree")
        return bytes(self.levels[level][start : start + _SIZE])

    def root(self, size: int) -> bytes:
        self._within(size)
        return merkle.root(self.read, size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self._within(second)
        return merkle.consistency_proof(self.read, first, second)

    def _within(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
