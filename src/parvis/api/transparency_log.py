"""/api/parvis/v1/transparency/log: the public, verifiable moderation log (no token needed).

Every moderation decision and reversal is a leaf of an append-only Merkle tree (RFC 9162
hashing) whose every state is a signed checkpoint (C2SP tlog-checkpoint, Ed25519). Anyone can
download it and check that no past entry was altered, reordered or removed: `parvis log verify
<server URL>` does. Hashes are base64, as in the checkpoints. See docs/transparency-log.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from parvis.api.deps import ERRORS, RuntimeDep, json_response
from parvis.domain.merkle import b64
from parvis.services import transparency_log
from parvis.services.context import Work

router = APIRouter(tags=["transparency"], responses=ERRORS)
PATH = transparency_log.PATH
MAX = transparency_log.MAX_PAGE
BIG = 2**62  # larger than any log; keeps integers inside every backend's BIGINT


class LogHead(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    checkpoint: str
    public_key: str


class LogEntry(BaseModel):
    index: int
    entry: dict[str, Any]
    leaf_hash: str


class LogEntries(BaseModel):
    tree_size: int
    entries: list[LogEntry]


class LogCheckpoint(BaseModel):
    tree_size: int
    root_hash: str
    checkpoint: str
    created_at: str
    previous: int
    consistency: list[str]


class LogCheckpoints(BaseModel):
    checkpoints: list[LogCheckpoint]
    next: str | None


class InclusionProof(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


@router.get(PATH, response_model=LogHead)
def log_head(rt: RuntimeDep) -> Response:
    """The latest signed checkpoint: the log's name (origin), size and root hash, the signed
    note itself and the verifier key that signs it (`<origin>+<key id>+<base64 key>`)."""
    head = rt.read(transparency_log.head)
    return json_response(
        {
            "origin": head.origin,
            "tree_size": head.tree_size,
            "root_hash": b64(head.root_hash),
            "checkpoint": head.checkpoint,
            "public_key": head.public_key,
        }
    )


@router.get(PATH + "/entries", response_model=LogEntries)
def log_entries(
    rt: RuntimeDep,
    start: Annotated[int, Query(ge=0, le=BIG, description="The first entry's index.")] = 0,
    end: Annotated[
        int | None,
        Query(
            ge=1,
            le=BIG,
            description=f"One past the last entry's index (default start + {MAX}); at most "
            f"{MAX} entries a page, fewer at the end of the log.",
        ),
    ] = None,
) -> Response:
    """Entries [start, end) of the log, each with its leaf hash: SHA-256(0x00 || the entry as
    JSON with sorted keys and no spaces, UTF-8)."""
    size, found = rt.read(lambda work: transparency_log.entries(work, start, end))
    return json_response({"tree_size": size, "entries": found})


@router.get(PATH + "/checkpoints", response_model=LogCheckpoints)
def log_checkpoints(
    request: Request,
    rt: RuntimeDep,
    after: Annotated[
        int, Query(ge=0, le=BIG, description="Only checkpoints of larger trees than this.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX, description="Checkpoints per page.")] = 100,
) -> Response:
    """Every signed checkpoint, smallest tree first, each with the consistency proof that its
    tree extends the one of the checkpoint before it (`previous`, 0 for the first)."""

    def run(work: Work) -> list[transparency_log.CheckpointView]:
        return transparency_log.checkpoints(work, after, limit)

    page = rt.read(run)
    nxt = None
    headers: dict[str, str] = {}
    if len(page) == limit:
        base = str(request.url.replace(query=""))
        nxt = f"{base}?after={page[-1].tree_size}&limit={limit}"
        headers["Link"] = f'<{nxt}>; rel="next"'
    body = {
        "checkpoints": [
            {
                "tree_size": c.tree_size,
                "root_hash": b64(c.root_hash),
                "checkpoint": c.checkpoint,
                "created_at": c.created_at.isoformat(),
                "previous": c.previous,
                "consistency": [b64(h) for h in c.consistency],
            }
            for c in page
        ],
        "next": nxt,
    }
    return json_response(body, headers=headers)


@router.get(PATH + "/proof/inclusion", response_model=InclusionProof)
def log_inclusion(
    rt: RuntimeDep,
    index: Annotated[int, Query(ge=0, le=BIG, description="The entry's index.")],
    tree_size: Annotated[int, Query(ge=1, le=BIG, description="The tree's size.")],
) -> Response:
    """The proof (RFC 9162 §2.1.3) that entry `index` is in the tree of `tree_size` entries."""
    leaf, proof, root = rt.read(lambda work: transparency_log.inclusion(work, index, tree_size))
    return json_response(
        {
            "index": index,
            "tree_size": tree_size,
            "leaf_hash": b64(leaf),
            "root_hash": b64(root),
            "proof": [b64(h) for h in proof],
        }
    )


@router.get(PATH + "/proof/consistency", response_model=ConsistencyProof)
def log_consistency(
    rt: RuntimeDep,
    first: Annotated[int, Query(ge=1, le=BIG, description="The earlier tree's size.")],
    second: Annotated[int, Query(ge=1, le=BIG, description="The later tree's size.")],
) -> Response:
    """The proof (RFC 9162 §2.1.4) that the tree of `second` entries extends the tree of
    `first` entries: the same first entries, unchanged and in the same order."""
    r1, r2, proof = rt.read(lambda work: transparency_log.consistency(work, first, second))
    return json_response(
        {
            "first": first,
            "second": second,
            "first_root": b64(r1),
            "second_root": b64(r2),
            "proof": [b64(h) for h in proof],
        }
    )
