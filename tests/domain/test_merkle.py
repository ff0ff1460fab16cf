"""The moderation log's Merkle tree (RFC 9162 / RFC 6962) and signed checkpoints: RFC 6962 test
vectors, a naive reference tree, and properties: every proof verifies for every size, and any
alteration, reordering, deletion or truncation of the entries is detected."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain import merkle as m
from parvis.domain.merkle import ProofError

# The leaves of the RFC 6962 test vectors (certificate-transparency's merkle test data).
VECTOR_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "96a2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f08": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca85": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "0ebc": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
}
INCLUSION_VECTORS = [  # (leaf index, tree size, proof)
    (0, 8, ["96a2", "5f08", "6b47"]),
    (5, 8, ["bc1a", "ca85", "d37e"]),
    (2, 3, ["fac5"]),
    (1, 5, ["6e34", "5f08", "bc1a"]),
]
CONSISTENCY_VECTORS = [  # (first size, second size, proof)
    (1, 8, ["96a2", "5f08", "6b47"]),
    (6, 8, ["0ebc", "ca85", "d37e"]),
    (2, 5, ["5f08", "bc1a"]),
]
for _root in VECTOR_ROOTS:
    H[_root[:4]] = _root


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it, recursively, over the entries."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    left, right = reference_root(leaves[:k]), reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """A whole tree in memory, answering subtree lookups like the server's store does."""

    def __init__(self, data: Sequence[bytes]) -> None:
        self.leaves = [m.leaf_hash(d) for d in data]
        self.stored: dict[m.Node, bytes] = {(0, i): h for i, h in enumerate(self.leaves)}
        frontier = m.Frontier()
        for h in self.leaves:
            self.stored.update(frontier.append(h))
        self.frontier = frontier

    def root(self, size: int) -> bytes:
        return m.fold([self.stored[n] for n in m.range_nodes(0, size)])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return m.build(m.inclusion_ranges(index, size), self.stored.__getitem__)

    def consistency(self, first: int, second: int) -> list[bytes]:
        return m.build(m.consistency_ranges(first, second), self.stored.__getitem__)


VECTOR_TREE = Tree(VECTOR_LEAVES)


def test_rfc6962_roots() -> None:
    assert m.root([]) == m.EMPTY_ROOT == hashlib.sha256(b"").digest()
    for n, expected in enumerate(VECTOR_ROOTS, start=1):
        leaves = [m.leaf_hash(x) for x in VECTOR_LEAVES[:n]]
        assert m.root(leaves).hex() == expected
        assert VECTOR_TREE.root(n).hex() == expected
        assert reference_root(VECTOR_LEAVES[:n]).hex() == expected


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_rfc6962_inclusion_proofs(index: int, size: int, proof: list[str]) -> None:
    got = VECTOR_TREE.inclusion(index, size)
    assert [h.hex() for h in got] == [H[p] for p in proof]
    leaf = m.leaf_hash(VECTOR_LEAVES[index])
    m.verify_inclusion(index, size, leaf, got, bytes.fromhex(VECTOR_ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_rfc6962_consistency_proofs(first: int, second: int, proof: list[str]) -> None:
    got = VECTOR_TREE.consistency(first, second)
    assert [h.hex() for h in got] == [H[p] for p in proof]
    r1, r2 = (bytes.fromhex(VECTOR_ROOTS[n - 1]) for n in (first, second))
    m.verify_consistency(first, second, r1, r2, got)


entries = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(entries)
def test_frontier_roots_match_the_reference_for_every_prefix(data: list[bytes]) -> None:
    tree = Tree(data)
    frontier = m.Frontier()
    for n, leaf in enumerate(tree.leaves, start=1):
        completed = frontier.append(leaf)
        for (level, index), h in completed:  # each completed subtree, at its place
            assert h == reference_root(data[index << level : (index + 1) << level])
        assert frontier.root() == tree.root(n) == reference_root(data[:n])
        assert m.Frontier.unpack(n, frontier.pack()).root() == frontier.root()
    # every stored subtree is complete and stored once: about one per leaf
    assert len(tree.stored) == 2 * len(data) - len(data).bit_count()


@settings(max_examples=40, deadline=None)
@given(entries, st.data())
def test_every_inclusion_proof_verifies(data: list[bytes], draw: st.DataObject) -> None:
    tree = Tree(data)
    size = draw.draw(st.integers(1, len(data)))
    index = draw.draw(st.integers(0, size - 1))
    proof = tree.inclusion(index, size)
    root = tree.root(size)
    m.verify_inclusion(index, size, tree.leaves[index], proof, root)
    # the wrong leaf, the wrong place, a tampered proof, a wrong root: refused
    wrong = m.leaf_hash(data[index] + b"x")
    with pytest.raises(ProofError):
        m.verify_inclusion(index, size, wrong, proof, root)
    if size > 1:
        other = (index + 1) % size
        if tree.leaves[other] != tree.leaves[index]:
            with pytest.raises(ProofError):
                m.verify_inclusion(other, size, tree.leaves[index], proof, root)
        bad = list(proof)
        spot = draw.draw(st.integers(0, len(bad) - 1))
        bad[spot] = hashlib.sha256(bad[spot]).digest()
        with pytest.raises(ProofError):
            m.verify_inclusion(index, size, tree.leaves[index], bad, root)
        with pytest.raises(ProofError):
            m.verify_inclusion(index, size, tree.leaves[index], proof[:-1], root)
    with pytest.raises(ProofError):
        m.verify_inclusion(index, size, tree.leaves[index], [*proof, root], root)


@settings(max_examples=40, deadline=None)
@given(entries, st.data())
def test_every_consistency_proof_verifies(data: list[bytes], draw: st.DataObject) -> None:
    tree = Tree(data)
    second = draw.draw(st.integers(1, len(data)))
    first = draw.draw(st.integers(1, second))
    proof = tree.consistency(first, second)
    r1, r2 = tree.root(first), tree.root(second)
    m.verify_consistency(first, second, r1, r2, proof)
    if first < second:
        for bad_first in (hashlib.sha256(r1).digest(), r2):
            if bad_first != r1:
                with pytest.raises(ProofError):
                    m.verify_consistency(first, second, bad_first, r2, proof)
        with pytest.raises(ProofError):
            m.verify_consistency(first, second, r1, hashlib.sha256(r2).digest(), proof)
        if proof:
            spot = draw.draw(st.integers(0, len(proof) - 1))
            bad = list(proof)
            bad[spot] = hashlib.sha256(bad[spot]).digest()
            with pytest.raises(ProofError):
                m.verify_consistency(first, second, r1, r2, bad)
            with pytest.raises(ProofError):
                m.verify_consistency(first, second, r1, r2, proof[:-1])


def _changed(data: list[bytes], draw: st.DataObject) -> tuple[str, list[bytes]]:
    """The entries with one rewrite of history: altered, reordered, deleted or truncated."""
    how = draw.draw(st.sampled_from(["alter", "swap", "delete", "truncate", "insert"]))
    out = list(data)
    i = draw.draw(st.integers(0, len(out) - 1))
    if how == "alter":
        out[i] = out[i] + b"!"
    elif how == "swap":
        j = draw.draw(st.integers(0, len(out) - 1).filter(lambda j: out[j] != out[i]))
        out[i], out[j] = out[j], out[i]
    elif how == "delete":
        del out[i]
    elif how == "insert":
        out.insert(i, b"forged")
    else:
        out = out[:i]
    return how, out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=6), min_size=2, max_size=40, unique=True), st.data())
def test_any_rewrite_of_history_is_detected(data: list[bytes], draw: st.DataObject) -> None:
    """A verifier who checked a signed root of size n, shown rewritten entries: the rewritten
    log's first n entries no longer give that root, and no consistency proof from the old root
    to the rewritten log's root verifies."""
    original = Tree(data)
    n = len(data)
    how, rewritten_data = _changed(data, draw)
    rewritten = Tree(rewritten_data)
    size = len(rewritten_data)
    if size >= n:
        assert rewritten.root(n) != original.root(n), how
    if size == 0:
        return
    if size >= n:
        honest = rewritten.consistency(n, size)
        with pytest.raises(ProofError):
            m.verify_consistency(n, size, original.root(n), rewritten.root(size), honest)
    else:  # shorter: no proof can go from a larger tree to a smaller one
        with pytest.raises(ProofError):
            m.verify_consistency(n, size, original.root(n), rewritten.root(size), [])
    # and an inclusion proof of an original entry at its place fails against the new root
    i = draw.draw(st.integers(0, min(n, size) - 1))
    if rewritten_data[i] != data[i]:
        proof = rewritten.inclusion(i, size)
        with pytest.raises(ProofError):
            m.verify_inclusion(i, size, original.leaves[i], proof, rewritten.root(size))


def test_canonical_entry_bytes() -> None:
    entry = {"b": [1, "é"], "a": None, "c": True}
    assert m.canonical(entry) == '{"a":null,"b":[1,"é"],"c":true}'.encode()
    with pytest.raises(ValueError):
        m.canonical({"x": float("nan")})


def test_ranges_refuse_what_is_not_a_subtree() -> None:
    with pytest.raises(ValueError):
        m.range_nodes(1, 3)
    with pytest.raises(ValueError):
        m.inclusion_ranges(3, 3)
    with pytest.raises(ValueError):
        m.consistency_ranges(0, 3)
    with pytest.raises(ProofError):
        m.verify_consistency(4, 3, m.EMPTY_ROOT, m.EMPTY_ROOT, [])


# --- checkpoints ---------------------------------------------------------------------------

SEED = bytes(range(32))
HASHES = st.binary(min_size=32, max_size=32)
ORIGIN = "parvis.example/transparency-log"


def test_checkpoint_note_shape_and_signature() -> None:
    checkpoint = m.Checkpoint(ORIGIN, 8, bytes.fromhex(VECTOR_ROOTS[7]))
    note = m.sign(checkpoint, SEED)
    body, signature = note.split("\n\n")
    assert body == f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    name, stamp = signature.removeprefix("\N{EM DASH} ").removesuffix("\n").split(" ")
    assert name == ORIGIN
    key = m.public_key(SEED)
    assert m.unb64(stamp, "stamp")[:4] == m.key_id(ORIGIN, key)
    assert m.open_checkpoint(note, key) == checkpoint
    vkey = m.verifier_key(ORIGIN, key)
    assert vkey.startswith(f"{ORIGIN}+{m.key_id(ORIGIN, key).hex()}+")
    assert m.parse_verifier_key(vkey) == (ORIGIN, key)
    assert m.parse_verifier_key(m.b64(key)) == ("", key)
    assert m.sign(checkpoint, SEED) == note  # Ed25519 is deterministic


@pytest.mark.parametrize(
    "tamper",
    [
        lambda note: note.replace("\n8\n", "\n9\n"),
        lambda note: note.replace("Xcna", "Xcnb"),
        lambda note: note.replace("parvis.example", "parvis.exampl3", 1),
        lambda note: note.replace("\n\n", "\n"),
        lambda note: note.rstrip("\n"),
        lambda note: note.split("\n\n")[0] + "\n\n",
    ],
)
def test_tampered_checkpoints_are_refused(tamper: object) -> None:
    note = m.sign(m.Checkpoint(ORIGIN, 8, bytes.fromhex(VECTOR_ROOTS[7])), SEED)
    assert callable(tamper)
    with pytest.raises(ProofError):
        m.open_checkpoint(tamper(note), m.public_key(SEED))


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    note = m.sign(m.Checkpoint(ORIGIN, 1, m.EMPTY_ROOT), bytes(32))
    with pytest.raises(ProofError, match="not signed by this key"):
        m.open_checkpoint(note, m.public_key(SEED))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**40), HASHES, HASHES)
def test_checkpoints_round_trip(size: int, root: bytes, seed: bytes) -> None:
    checkpoint = m.Checkpoint(ORIGIN, size, root)
    assert m.open_checkpoint(m.sign(checkpoint, seed), m.public_key(seed)) == checkpoint


def test_bad_verifier_keys() -> None:
    key = m.public_key(SEED)
    vkey = m.verifier_key(ORIGIN, key)
    name, hex_id, rest = vkey.split("+", 2)
    for bad in (f"{name}+00000000+{rest}", "not a key", m.b64(key[:31]), f"{name}+{hex_id}+AAAA"):
        with pytest.raises(ProofError):
            m.parse_verifier_key(bad)
