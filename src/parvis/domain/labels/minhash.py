"""Near-duplicate text detection: normalization, word shingles, MinHash signatures, LSH banding.

Choices, for French and English alike:

- normalization: Unicode NFKC, casefold, URLs and @mentions removed (link shorteners and
  addressees vary between copies of one message), `#` dropped but the hashtag's word kept,
  accents FOLDED (``État`` = ``etat``: copies edited on a phone often lose them, and whole
  posts differing only by accents are the same message), every run of digits replaced by ``0``
  (numbers are the variable part of templates: "12 °C" and "14 °C" are one template). Words are
  Unicode ``\\w+`` runs, so the French elision ``l'état`` gives ``l`` and ``etat``;
- shingles: runs of `shingle_size` consecutive words (3 by default), hashed with CRC-32 per
  word and a fixed mixing per position; a text shorter than that is one shingle of all its words;
- MinHash: `num_perm` hash functions ``h(x) = ((a·x + b) mod 2⁶⁴) >> 32`` (multiply-add-shift,
  2-universal on 32-bit keys) with ``a``, ``b`` drawn from a fixed seed, computed for all
  shingles of all texts at once with numpy. The share of equal signature positions estimates
  the Jaccard similarity of the shingle sets (standard error ≈ 0.5/√num_perm);
- LSH: the signature is cut into `bands` bands of `rows` rows; texts with an identical band are
  candidates. Candidates are the neighbours of each other in the order of each band's key, then
  verified on the whole signature, so work stays linear in the number of texts even when one
  message is posted a thousand times (a bucket gives a chain of pairs, not all its pairs).

Everything is deterministic: same texts, same seed, same signatures and pairs.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

EMPTY = np.uint32(0xFFFFFFFF)  # every position of the signature of a text without words
_URL = re.compile(r"(?:https?://|www\.)\S+")
_MENTION = re.compile(r"@\w+(?:@[\w.-]+)?")
_DIGITS = re.compile(r"\d+")
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"\w+")
_PAD = 0x9E3779B9  # stands for the missing words of a text shorter than one shingle
_CHUNK = 1 << 12  # shingles hashed at once: a 4 k × num_perm uint64 block stays in cache
_U64 = np.uint64


def normalize(text: str) -> str:
    """The comparable form of a post's text (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    text = text.replace("#", " ")
    if not text.isascii():
        text = unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFKD", text)))
    return _DIGITS.sub("0", text)


def words(text: str) -> list[str]:
    """The words of the normalized text."""
    return _WORD.findall(normalize(text))


def shingles(text: str, size: int = 3) -> frozenset[int]:
    """The set of hashed word shingles of one text (for exact Jaccard, evidence and tests)."""
    hashes = _shingle_hashes([words(text)], size)[0]
    return frozenset(int(h) for h in hashes)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """The exact Jaccard similarity of two shingle sets (0 when both are empty)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass(frozen=True)
class Pairs:
    """Verified near-duplicate pairs: indexes `left` < `right` and their estimated similarity."""

    left: NDArray[np.int64]
    right: NDArray[np.int64]
    similarity: NDArray[np.float64]


@dataclass(frozen=True)
class MinHasher:
    """MinHash with a fixed seed; `bands` × `rows` must not exceed `num_perm`."""

    num_perm: int = 128
    shingle_size: int = 3
    bands: int = 42
    rows: int = 3
    seed: int = 0x5041525649  # "PARVI"
    _a: NDArray[np.uint64] = field(init=False, repr=False, compare=False)
    _b: NDArray[np.uint64] = field(init=False, repr=False, compare=False)
    _band_mix: NDArray[np.uint64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if min(self.num_perm, self.shingle_size, self.bands, self.rows) < 1:
            raise ValueError("num_perm, shingle_size, bands and rows must be positive")
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands × rows must not exceed num_perm")
        rng = np.random.default_rng(self.seed)
        top = np.iinfo(np.uint64).max
        object.__setattr__(
            self, "_a", rng.integers(0, top, self.num_perm, dtype=np.uint64, endpoint=True) | 1
        )
        object.__setattr__(
            self, "_b", rng.integers(0, top, self.num_perm, dtype=np.uint64, endpoint=True)
        )
        object.__setattr__(
            self, "_band_mix", rng.integers(0, top, self.rows, dtype=np.uint64, endpoint=True) | 1
        )

    def signatures(self, texts: Sequence[str]) -> NDArray[np.uint32]:
        """One MinHash signature per text, shape (len(texts), num_perm); a text without words
        gets a row of `EMPTY`."""
        return self.signatures_of_words([words(t) for t in texts])

    def signatures_of_words(self, texts: Sequence[list[str]]) -> NDArray[np.uint32]:
        """`signatures` of texts already split by `words`."""
        per_text = _shingle_hashes(texts, self.shingle_size)
        counts = np.fromiter((len(h) for h in per_text), dtype=np.int64, count=len(per_text))
        out = np.full((len(texts), self.num_perm), EMPTY, dtype=np.uint32)
        if not counts.sum():
            return out
        flat = np.concatenate([h for h in per_text if len(h)])
        nonempty = np.flatnonzero(counts)
        ends = np.cumsum(counts[nonempty])
        starts = ends - counts[nonempty]
        first = 0
        while first < len(nonempty):  # whole texts per block, about _CHUNK shingles each
            last = max(int(np.searchsorted(ends, starts[first] + _CHUNK, side="right")), first + 1)
            block = flat[starts[first] : ends[last - 1]]
            hashed = np.multiply(self._a[:, None], block[None, :])  # one row per function
            hashed += self._b[:, None]
            hashed >>= _U64(32)
            offsets = starts[first:last] - starts[first]
            out[nonempty[first:last]] = np.minimum.reduceat(hashed, offsets, axis=1).T
            first = last
        return out

    def near_duplicates(self, signatures: NDArray[np.uint32], threshold: float) -> Pairs:
        """Pairs of rows whose estimated Jaccard similarity is at least `threshold`, found by
        LSH banding (rows of `EMPTY` never pair)."""
        n = signatures.shape[0]
        live = ~np.all(signatures == EMPTY, axis=1)
        lefts: list[NDArray[np.int64]] = []
        rights: list[NDArray[np.int64]] = []
        for band in range(self.bands):
            cols = signatures[:, band * self.rows : (band + 1) * self.rows].astype(np.uint64)
            keys = (cols * self._band_mix[None, :]).sum(axis=1, dtype=np.uint64)
            order = np.argsort(keys, kind="stable")
            same = keys[order[1:]] == keys[order[:-1]]
            lefts.append(order[:-1][same])
            rights.append(order[1:][same])
        left = np.concatenate(lefts) if lefts else np.empty(0, np.int64)
        right = np.concatenate(rights) if rights else np.empty(0, np.int64)
        keep = live[left] & live[right]
        left, right = np.minimum(left, right)[keep], np.maximum(left, right)[keep]
        codes = np.unique(left * n + right)
        left, right = codes // n, codes % n
        similarity = np.mean(signatures[left] == signatures[right], axis=1)
        ok = similarity >= threshold
        return Pairs(left[ok].astype(np.int64), right[ok].astype(np.int64), similarity[ok])


def estimate(a: NDArray[np.uint32], b: NDArray[np.uint32]) -> float:
    """The Jaccard similarity estimated from two signatures (0 if either text had no words)."""
    if np.all(a == EMPTY) or np.all(b == EMPTY):
        return 0.0
    return float(np.mean(a == b))


def _shingle_hashes(texts: Sequence[list[str]], size: int) -> list[NDArray[np.uint64]]:
    """The 32-bit shingle hashes (as uint64) of each tokenized text, all texts at once."""
    if not texts:
        return []
    cache: dict[str, int] = {}
    lengths = [len(ws) for ws in texts]
    padded: list[int] = []
    for ws in texts:
        for w in ws:
            h = cache.get(w)
            if h is None:
                h = cache[w] = zlib.crc32(w.encode())
            padded.append(h)
        padded.extend([_PAD] * (size - 1))
    tokens = np.array(padded, dtype=np.uint64)
    length = np.array(lengths, dtype=np.int64)
    count = np.where(length > 0, np.maximum(length - size + 1, 1), 0)
    start = np.concatenate(([0], np.cumsum(length + size - 1)[:-1])).astype(np.int64)
    first = np.repeat(start, count) + (
        np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    )
    mixed = np.zeros(len(first), dtype=np.uint64)
    for position in range(size):
        multiplier = _U64((0x9E3779B97F4A7C15 * (2 * position + 1)) % (1 << 64) | 1)
        mixed = (mixed ^ tokens[first + position]) * multiplier
    mixed ^= mixed >> _U64(31)
    return np.split(mixed >> _U64(32), np.cumsum(count)[:-1])
