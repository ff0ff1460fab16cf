"""The public, verifiable moderation log: every decision (and every reversal on appeal) is a
leaf of an append-only Merkle tree (RFC 9162 hashing, parvis.domain.merkle) with signed
checkpoints, published at /api/parvis/v1/transparency/log and checked by `parvis log verify`.

What an entry may hold (the allow-list `FIELDS`; anything else is refused with Invalid):

    type                "decision" | "reversal"                                  (required)
    puid                the decision's platform unique identifier (DSA)          (required)
    created_at          ISO 8601 time with its offset                            (required)
    action, ground      parvis.domain.moderation ACTIONS, GROUNDS
    rule_id             a rule's id (letters, digits, ".", "-", "_"; "" for none)
    rule_version        a positive integer, or null
    category            a DSA Transparency Database category
    keywords            a list of KEYWORD_* values
    territorial_scope   a list of EU/EEA country codes
    source_type         a DSA source type (notice, trusted flagger, other, own initiative)
    automated_detection true | false
    automated_decision  a DSA automated-decision value
    subject_type        "status" | "account"
    starts_at, ends_at  ISO 8601 times (ends_at may be null)
    appellant_role      "author" | "notifier" (reversals)
    misuse              a DSA art. 23 misuse kind, or ""

Every value is a closed vocabulary, a number, a time or an identifier: no names, e-mail
addresses, usernames, account or post ids, addresses or free text (a moderator's explanation
is published with the statement of reasons, never in the log), so an entry never has to be
erased for data protection, and the log can stay append-only forever.

A checkpoint is signed on every append, in the same transaction: the published log never has
an unsigned tail, and a decision commits together with the signed tree that contains it. The
cost is one Ed25519 signature (tens of microseconds) per decision, which a human took minutes
to make; batching would only save that, and would leave recent decisions unsigned.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from parvis.config import Settings
from parvis.domain import merkle
from parvis.domain.errors import Invalid, NotFound
from parvis.domain.moderation import ACTIONS, DSA_CATEGORIES, EEA_STATES, GROUNDS, MISUSE
from parvis.domain.statement_schema import AUTOMATED_DECISIONS, PUID, SOURCE_TYPES
from parvis.services.context import Work

MAX_PAGE = 1000  # entries or checkpoints per page
PATH = "/api/parvis/v1/transparency/log"

_RULE_ID = re.compile(r"[A-Za-z0-9_.-]{0,16}")
_KEYWORD = re.compile(r"KEYWORD_[A-Z0-9_]{1,80}")

# Keys that mean personal data: refused with a message that says so (anything else not in
# FIELDS is refused too).
PERSONAL = frozenset(
    {
        "name",
        "display_name",
        "username",
        "acct",
        "email",
        "e_mail",
        "account_id",
        "user_id",
        "status_id",
        "moderator_id",
        "reporter_id",
        "reporter_name",
        "reporter_email",
        "notice_id",
        "ip",
        "ip_address",
        "address",
        "uri",
        "url",
        "text",
        "explanation",
        "facts",
        "reply",
        "legal_ground",
        "label",
    }
)


def _one_of(*choices: str) -> Callable[[object], bool]:
    allowed = frozenset(choices)
    return lambda v: isinstance(v, str) and v in allowed


def _time(v: object) -> bool:
    if not isinstance(v, str) or len(v) > 40:
        return False
    try:
        return datetime.fromisoformat(v).tzinfo is not None
    except ValueError:
        return False


def _list_of(check: Callable[[object], bool], most: int) -> Callable[[object], bool]:
    return lambda v: isinstance(v, list) and len(v) <= most and all(check(x) for x in v)


def _matches(pattern: re.Pattern[str]) -> Callable[[object], bool]:
    return lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None


# key -> (check, what it must be: said when the check fails)
FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "type": (_one_of("decision", "reversal"), '"decision" or "reversal"'),
    "puid": (
        lambda v: isinstance(v, str) and len(v) <= 100 and PUID.fullmatch(v) is not None,
        "a platform unique identifier (letters, digits, - and _)",
    ),
    "created_at": (_time, "an ISO 8601 time with its offset"),
    "action": (_one_of(*ACTIONS), "one of " + ", ".join(ACTIONS)),
    "ground": (_one_of(*GROUNDS), "one of " + ", ".join(GROUNDS)),
    "rule_id": (_matches(_RULE_ID), "a rule id (up to 16 letters, digits, ., - or _)"),
    "rule_version": (
        lambda v: v is None or (type(v) is int and 0 < v < 2**31),
        "a positive integer or null",
    ),
    "category": (_one_of(*DSA_CATEGORIES), "a DSA Transparency Database category"),
    "keywords": (_list_of(_matches(_KEYWORD), 20), "a list of KEYWORD_* values"),
    "territorial_scope": (_list_of(_one_of(*EEA_STATES), 30), "a list of EU/EEA codes"),
    "source_type": (_one_of(*SOURCE_TYPES), "a DSA source type"),
    "automated_detection": (lambda v: type(v) is bool, "true or false"),
    "automated_decision": (_one_of(*AUTOMATED_DECISIONS), "a DSA automated-decision value"),
    "subject_type": (_one_of("status", "account"), '"status" or "account"'),
    "starts_at": (_time, "an ISO 8601 time with its offset"),
    "ends_at": (lambda v: v is None or _time(v), "an ISO 8601 time with its offset, or null"),
    "appellant_role": (_one_of("author", "notifier"), '"author" or "notifier"'),
    "misuse": (_one_of("", *MISUSE), "a DSA art. 23 misuse kind, or empty"),
}
REQUIRED = ("type", "puid", "created_at")


def check_entry(entry: Mapping[str, object]) -> bytes:
    """The entry's canonical bytes, or Invalid naming every key or value the log refuses."""
    problems: list[str] = []
    for key in entry:
        if not isinstance(key, str):
            problems.append(f"{key!r}: keys are strings")
        elif key.lower() in PERSONAL:
            problems.append(f"{key}: personal data or free text never goes into the public log")
        elif key not in FIELDS:
            problems.append(f"{key}: not a field of the log (see parvis.services.transparency_log)")
        else:
            check, wanted = FIELDS[key]
            if not check(entry[key]):
                problems.append(f"{key}: must be {wanted}")
    problems += [f"{key}: required" for key in REQUIRED if key not in entry]
    if problems:
        raise Invalid("Transparency log entry refused: " + "; ".join(problems))
    return merkle.canonical(entry)


@lru_cache(maxsize=4)
def _private_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def origin(settings: Settings) -> str:
    """The log's name in its checkpoints (and its signing key's name)."""
    return f"{settings.domain}/transparency-log"


def public_key(settings: Settings) -> str:
    """The signed-note verifier key: `<origin>+<key id>+<base64 key>`."""
    return merkle.verifier_key(origin(settings), merkle.public_key(settings.log_key_seed()))


def append(work: Work, entry: Mapping[str, object]) -> int:
    """Append a decision (or reversal) to the log and sign the new tree; returns its index."""
    data = check_entry(entry)
    leaf = merkle.leaf_hash(data)
    log = work.store.transparency_log
    frontier = log.lock_frontier()
    completed = frontier.append(leaf)
    index = frontier.size - 1
    now = work.now()
    log.append(index, data.decode(), leaf, now, completed, frontier)
    root = frontier.root()
    key = _private_key(work.settings.log_key_seed())
    note = merkle.sign(merkle.Checkpoint(origin(work.settings), frontier.size, root), key)
    log.add_checkpoint(frontier.size, root, note, now)
    return index


# --- reading (the public API) -----------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: str
    public_key: str


@dataclass(frozen=True)
class CheckpointView:
    tree_size: int
    root_hash: bytes
    checkpoint: str
    created_at: datetime
    previous: int  # the tree size of the checkpoint before (0: none)
    consistency: list[bytes]  # the proof that this tree extends that one


def head(work: Work) -> Head:
    """The latest signed checkpoint (an empty log has a freshly signed one of size 0)."""
    latest = work.store.transparency_log.latest_checkpoint()
    name = origin(work.settings)
    if latest is None:
        key = _private_key(work.settings.log_key_seed())
        note = merkle.sign(merkle.Checkpoint(name, 0, merkle.EMPTY_ROOT), key)
        return Head(name, 0, merkle.EMPTY_ROOT, note, public_key(work.settings))
    return Head(name, latest.tree_size, latest.root_hash, latest.note, public_key(work.settings))


def entries(work: Work, start: int, end: int | None) -> tuple[int, list[dict[str, Any]]]:
    """(tree size, entries [start, end)): at most MAX_PAGE, clamped to the tree."""
    size = work.store.transparency_log.size()
    if start < 0:
        raise Invalid("Validation failed: start must be 0 or more")
    if end is None:
        end = start + MAX_PAGE
    if end <= start:
        raise Invalid("Validation failed: end must be greater than start")
    if end - start > MAX_PAGE:
        raise Invalid(f"Validation failed: at most {MAX_PAGE} entries per page")
    rows = work.store.transparency_log.entries(start, min(end, size))
    return size, [
        {"index": r.index, "entry": json.loads(r.data), "leaf_hash": merkle.b64(r.leaf_hash)}
        for r in rows
    ]


def checkpoints(work: Work, after: int, limit: int) -> list[CheckpointView]:
    """Signed checkpoints of trees larger than `after`, smallest first, each with the
    consistency proof from the checkpoint before it."""
    if after < 0:
        raise Invalid("Validation failed: after must be 0 or more")
    if not 0 < limit <= MAX_PAGE:
        raise Invalid(f"Validation failed: limit must be between 1 and {MAX_PAGE}")
    log = work.store.transparency_log
    page = log.checkpoints(after, limit)
    if not page:
        return []
    before = log.checkpoint_before(page[0].tree_size)
    sizes = [before.tree_size if before else 0] + [c.tree_size for c in page]
    plans = [
        merkle.consistency_ranges(first, second) if first else []
        for first, second in itertools.pairwise(sizes)
    ]
    found = log.nodes(merkle.proof_nodes(r for plan in plans for r in plan))
    return [
        CheckpointView(
            c.tree_size,
            c.root_hash,
            c.note,
            c.created_at,
            previous,
            merkle.build(plan, _lookup(found)),
        )
        for c, previous, plan in zip(page, sizes[:-1], plans, strict=True)
    ]


def _lookup(found: dict[merkle.Node, bytes]) -> Callable[[merkle.Node], bytes]:
    def get(node: merkle.Node) -> bytes:
        if node not in found:  # only a damaged database lacks one: say so, not a 500
            level, index = node
            first, last = index << level, ((index + 1) << level) - 1
            raise NotFound(f"The log's storage lacks the hashes of entries {first} to {last}")
        return found[node]

    return get


def _size(work: Work) -> int:
    return work.store.transparency_log.size()


def root_at(work: Work, tree_size: int) -> bytes:
    nodes = merkle.range_nodes(0, tree_size)
    found = work.store.transparency_log.nodes(nodes)
    return merkle.fold([_lookup(found)(n) for n in nodes])


def inclusion(work: Work, index: int, tree_size: int) -> tuple[bytes, list[bytes], bytes]:
    """(leaf hash, proof, root) showing that leaf `index` is in the tree of `tree_size`."""
    size = _size(work)
    if not 0 < tree_size <= size:
        raise Invalid(f"Validation failed: tree_size must be between 1 and {size}")
    if not 0 <= index < tree_size:
        raise Invalid("Validation failed: index must be at least 0 and below tree_size")
    ranges = merkle.inclusion_ranges(index, tree_size)
    roots = merkle.range_nodes(0, tree_size)
    found = work.store.transparency_log.nodes([(0, index), *roots, *merkle.proof_nodes(ranges)])
    proof = merkle.build(ranges, _lookup(found))
    return _lookup(found)((0, index)), proof, merkle.fold([_lookup(found)(n) for n in roots])


def consistency(work: Work, first: int, second: int) -> tuple[bytes, bytes, list[bytes]]:
    """(first root, second root, proof) showing the tree of `second` extends that of `first`."""
    size = _size(work)
    if not 0 < second <= size:
        raise Invalid(f"Validation failed: second must be between 1 and {size}")
    if not 0 < first <= second:
        raise Invalid("Validation failed: first must be at least 1 and at most second")
    ranges = merkle.consistency_ranges(first, second)
    wanted = [*merkle.range_nodes(0, first), *merkle.range_nodes(0, second)]
    found = work.store.transparency_log.nodes([*wanted, *merkle.proof_nodes(ranges)])
    proof = merkle.build(ranges, _lookup(found))

    def root(n: int) -> bytes:
        return merkle.fold([_lookup(found)(x) for x in merkle.range_nodes(0, n)])

    return root(first), root(second), proof
