"""The Merkle tree of the public moderation log (RFC 9162 §2.1, the hashing of RFC 6962) and its
signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519).

Pure functions, shared by the server (which appends and proves) and by `parvis log verify`
(which checks), so that both sides hash exactly the same way:

- a leaf is SHA-256(0x00 || entry bytes), an inner node SHA-256(0x01 || left || right); the
  root of zero leaves is SHA-256 of nothing;
- entry bytes are the canonical JSON of the entry: sorted keys, no spaces, UTF-8;
- a tree is addressed by aligned, complete subtrees: `(level, index)` covers the leaves
  `[index * 2**level, (index + 1) * 2**level)`. The server stores every complete subtree once
  (a leaf's hash at level 0), so any root and any proof needs O(log n) of them
  (`range_nodes`), and an append only touches the tree's right edge (`Frontier`);
- inclusion and consistency proofs are generated (as the subtrees they are made of, then from
  their hashes) and verified with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2;
- a checkpoint is the note `<origin>\\n<tree size>\\n<base64 root>\\n`, signed with Ed25519 as a
  signed note: a blank line, then `— <key name> <base64(key id || signature)>`, where the key id
  is the first 4 bytes of SHA-256(key name || "\\n" || 0x01 || public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_ED25519 = b"\x01"  # the signed-note signature type of Ed25519
_DASH = "\N{EM DASH}"

Node = tuple[int, int]  # (level, index): the complete subtree over leaves [i * 2**l, (i+1) * 2**l)


class ProofError(ValueError):
    """A proof, a checkpoint or a signature that does not verify (the message says why)."""


# --- hashing ---------------------------------------------------------------------------------


def canonical(entry: Mapping[str, object]) -> bytes:
    """An entry's bytes in the log: JSON, keys sorted, no spaces, UTF-8 (no ASCII escapes)."""
    return json.dumps(
        entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 from the leaves' hashes (O(n); see Frontier for appends)."""
    frontier = Frontier()
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


@dataclass
class Frontier:
    """The right edge of a tree: the roots of its complete subtrees, largest first, one per set
    bit of its size. Appending a leaf is O(log n) and yields the subtrees it completes, so the
    server stores each node once and never recomputes the tree."""

    size: int = 0
    hashes: list[bytes] | None = None

    def __post_init__(self) -> None:
        if self.hashes is None:
            self.hashes = []
        if len(self.hashes) != self.size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of the tree size")

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf hash; return the subtrees this completes (level >= 1), lowest first."""
        assert self.hashes is not None
        made: list[tuple[Node, bytes]] = []
        h, n, level = leaf, self.size, 0
        while n & 1:  # the new leaf completes the subtrees at each low set bit of the size
            h = node_hash(self.hashes.pop(), h)
            n, level = n >> 1, level + 1
            made.append(((level, self.size >> level), h))
        self.hashes.append(h)
        self.size += 1
        return made

    def root(self) -> bytes:
        assert self.hashes is not None
        if not self.hashes:
            return EMPTY_ROOT
        h = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            h = node_hash(left, h)
        return h

    def nodes(self) -> list[Node]:
        return frontier_nodes(self.size)

    def pack(self) -> bytes:
        assert self.hashes is not None
        return b"".join(self.hashes)

    @classmethod
    def unpack(cls, size: int, packed: bytes) -> Frontier:
        if len(packed) != HASH_SIZE * size.bit_count():
            raise ValueError("the stored frontier does not match the tree size")
        return cls(size, [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)])


def frontier_nodes(size: int) -> list[Node]:
    """The complete subtrees that make up a tree of `size` leaves, left to right."""
    return range_nodes(0, size)


def range_nodes(start: int, end: int) -> list[Node]:
    """The aligned complete subtrees whose hashes give MTH(D[start:end]), left to right.

    Only for the ranges a Merkle tree is split into (every range of RFC 9162's recursions):
    each piece must start at a multiple of its own size."""
    out: list[Node] = []
    while start < end:
        size = end - start
        # A power of two is one subtree; otherwise the largest power of two below comes first.
        level = (size if size & (size - 1) == 0 else _split(size)).bit_length() - 1
        if start % (1 << level):
            raise ValueError(f"[{start}, {end}) is not a range of a Merkle tree")
        out.append((level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its `range_nodes`, left to right."""
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


# --- proofs: which subtrees, then their hashes ------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1, as the ranges whose roots form the proof."""
    if not 0 <= index < size:
        raise ValueError("the leaf index must be inside the tree")
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()  # the recursion appends on the way out: innermost (leaf side) first
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1, as the ranges whose roots form the proof."""
    if not 0 < first <= second:
        raise ValueError("a consistency proof needs 0 < first <= second")
    out: list[tuple[int, int]] = []
    start, end, whole = 0, second, True
    m = first
    while True:
        n = end - start
        if m == n:
            if not whole:
                out.append((start, end))
            break
        k = _split(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, whole = start + k, m - k, False
    out.reverse()
    return out


def proof_nodes(ranges: Iterable[tuple[int, int]]) -> list[Node]:
    """Every subtree the ranges need, each once (ask the store for these, then `build`)."""
    seen: dict[Node, None] = {}
    for start, end in ranges:
        for node in range_nodes(start, end):
            seen[node] = None
    return list(seen)


def build(ranges: Iterable[tuple[int, int]], lookup: Callable[[Node], bytes]) -> list[bytes]:
    """The proof's hashes: each range's root from its subtrees' hashes."""
    return [fold([lookup(n) for n in range_nodes(s, e)]) for s, e in ranges]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError unless `leaf` is leaf `index` of that tree."""
    if not 0 <= index < size:
        raise ProofError("the leaf index is outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != expected_root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the tree of `second` leaves extends the
    tree of `first` leaves (every one of its first leaves unchanged, in the same order)."""
    if not 0 < first <= second:
        raise ProofError("a consistency proof needs 0 < first <= second")
    if first == second:
        if proof:
            raise ProofError("trees of the same size need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("two different roots for the same tree size")
        return
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, first_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != first_root:
        raise ProofError("the consistency proof does not lead to the earlier root")
    if sr != second_root:
        raise ProofError("the consistency proof does not lead to the later root")


# --- checkpoints (C2SP tlog-checkpoint, signed note, Ed25519) --------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str, what: str, length: int | None = None) -> bytes:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ProofError(f"{what} is not base64") from None
    if length is not None and len(data) != length:
        raise ProofError(f"{what} is not {length} bytes long")
    return data


def valid_origin(origin: str) -> bool:
    return bool(origin) and origin.isprintable() and not any(c in origin for c in " +\n")


def public_key(seed: bytes) -> bytes:
    """The raw Ed25519 public key of a 32-byte private seed."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + key).digest()[:4]


def verifier_key(name: str, key: bytes) -> str:
    """The signed-note verifier key: `<name>+<key id, hex>+<base64(0x01 || public key)>`."""
    return f"{name}+{key_id(name, key).hex()}+{b64(_ED25519 + key)}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, raw public key) of a verifier key; a bare base64 key gives an empty name."""
    text = text.strip()
    parts = text.split("+", 2)  # base64 may hold "+" too: name and key id come first
    if len(parts) != 3 or len(parts[1]) != 8 or not valid_origin(parts[0]):
        try:
            return "", unb64(text, "the public key", 32)
        except ProofError:
            raise ProofError(
                "a key is <name>+<key id>+<base64 key> (as the log publishes it) or 32 bytes "
                "in base64"
            ) from None
    name, hex_id, encoded = parts
    raw = unb64(encoded, "the public key", 33)
    if raw[:1] != _ED25519:
        raise ProofError("the verifier key is not an Ed25519 key")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise ProofError("the verifier key's id does not match its name and key")
    return name, raw[1:]


def sign(checkpoint: Checkpoint, seed: bytes | Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note, signed by the key named after its origin."""
    if not valid_origin(checkpoint.origin):
        raise ValueError("the origin must be a non-empty line without spaces or '+'")
    key = (
        seed if isinstance(seed, Ed25519PrivateKey) else Ed25519PrivateKey.from_private_bytes(seed)
    )
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = checkpoint.body()
    signature = key.sign(body.encode())
    stamp = b64(key_id(checkpoint.origin, raw) + signature)
    return f"{body}\n{_DASH} {checkpoint.origin} {stamp}\n"


def open_checkpoint(note: str, key: bytes) -> Checkpoint:
    """Parse a signed checkpoint and check its Ed25519 signature by `key` (the signer's name
    is the checkpoint's origin); raises ProofError with the reason otherwise."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not body:
        raise ProofError("the checkpoint is not a signed note (no blank line before signatures)")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise ProofError("the checkpoint needs an origin, a tree size and a root hash")
    origin, size_text, root_text = lines[:3]
    if not valid_origin(origin):
        raise ProofError("the checkpoint's origin line is malformed")
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise ProofError("the checkpoint's tree size is not a decimal number")
    checkpoint = Checkpoint(origin, int(size_text), unb64(root_text, "the root hash", HASH_SIZE))
    wanted = key_id(origin, key)
    public = Ed25519PublicKey.from_public_bytes(key)
    if not signatures.endswith("\n"):
        raise ProofError("the checkpoint's signature lines must end with a newline")
    for line in signatures[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise ProofError("the checkpoint has a malformed signature line")
        if parts[1] != origin:
            continue
        stamp = unb64(parts[2], "the signature")
        if stamp[:4] != wanted:
            continue
        try:
            public.verify(stamp[4:], body.encode())
        except InvalidSignature:
            raise ProofError("the checkpoint's signature is not valid for this key") from None
        return checkpoint
    raise ProofError("the checkpoint is not signed by this key")
