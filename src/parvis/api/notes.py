"""/api/parvis/v1 community notes (issue 8): notes on posts, their ratings, their status and
why, the scoring runs, and the public files in the Community Notes layout.

Reading is public (a token, when given, adds `mine` and `own_rating`; scope read:statuses);
writing a note, rating and deleting need the `write` scope and an eligible account
(parvis.services.notes: age, standing, daily caps); eligibility and notes to rate are the
user's own (`read`). Notes are anonymous: no author is ever in an answer.

- GET  /statuses/{id}/notes, POST /statuses/{id}/notes (JSON or form)
- GET  /notes/{id}, DELETE /notes/{id} (its author), GET /notes/{id}/history
- PUT  /notes/{id}/rating {helpfulness, tags[]}, DELETE /notes/{id}/rating
- GET  /notes/eligibility, GET /notes/to_rate (Link paging with max_id), GET /notes/runs
- GET  /notes/data/{notes,ratings,noteStatusHistory,userEnrollment,scored_notes,
  helpfulness_scores}.tsv — streamed, no token (parvis.services.notes_export)

Every Mastodon status carries the shown note as `community_note` (api/serializers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response, StreamingResponse

from parvis.api import auth, schemas
from parvis.api.auth import RequiredTokenDep, TokenDep
from parvis.api.deps import ERRORS, RuntimeDep, in_thread, json_response, path_id
from parvis.api.errors import ApiError
from parvis.api.pagination import Cursor, Limit, paging
from parvis.api.params import body_schema, read_params, validate
from parvis.api.serializers import ts
from parvis.domain.errors import NotFound
from parvis.domain.notes.tsv_export import INPUTS, OUTPUTS
from parvis.services import notes, notes_export
from parvis.services.context import Work
from parvis.services.notes import NoteView
from parvis.storage.notes import RatingRow, RunRow, StatusChange

router = APIRouter(tags=["community notes"], responses=ERRORS)
BASE = "/api/parvis/v1"
TSV = "text/tab-separated-values"
NO_POST = "Post not found: it does not exist, was deleted, or you cannot see it"
NO_NOTE = "Note not found: it does not exist, was deleted, or its post is not visible to you"
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Daily cap reached (notes or ratings a day)", "model": schemas.Error}
}
T = TypeVar("T")

CLASSIFICATION_KEYS = {v.value: k for k, v in notes.CLASSIFICATIONS.items()}
HELPFULNESS_KEYS = {v.value: k for k, v in notes.HELPFULNESS.items()}


# -- shapes (the OpenAPI document; handlers build plain dicts) ----------------------------------


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SideCounts(_Open):
    side_a: int = Field(description="Ratings by raters on one side of the viewpoint axis")
    side_b: int = Field(description="Ratings by raters on the other side")
    unscored: int = Field(description="Ratings by raters not in the fit (too few ratings yet)")


class NoteRatings(_Open):
    helpful: SideCounts
    somewhat_helpful: SideCounts
    not_helpful: SideCounts


class NoteExplanation(_Open):
    code: str = Field(
        description="helpful_across, not_helpful, one_sided, low_intercept, too_few_ratings "
        "or not_misleading"
    )
    text: str
    helpful_intercept: float = Field(description="Shown from this helpfulness (intercept)")
    max_factor: float = Field(description="Shown below this one-sidedness (|factor|)")
    min_ratings: int = Field(description="Ratings needed from raters in the fit")
    counted_ratings: int = Field(description="Ratings from raters in the fit")
    ratings: NoteRatings


class OwnRating(_Open):
    helpfulness: str
    tags: list[str]
    created_at: str
    updated_at: str


class Note(_Open):
    id: str
    uri: str
    url: str
    status_id: str
    classification: str = Field(description="misleading or not_misleading")
    reasons: list[str]
    summary: str
    sources: list[str]
    language: str
    created_at: str
    rating_status: str
    shown: bool = Field(description="Whether this is the note shown on the post")
    intercept: float | None
    factor: float | None
    explanation: NoteExplanation
    mine: bool
    own_rating: OwnRating | None


class NoteStatusChange(_Open):
    id: str
    status: str
    intercept: float | None
    factor: float | None
    run_id: str | None
    changed_at: str


class Problem(_Open):
    code: str
    message: str


class Eligibility(_Open):
    eligible: bool
    problems: list[Problem]
    eligible_at: str | None
    notes_per_day: int
    ratings_per_day: int


class ScoringRun(_Open):
    id: str
    started_at: str
    finished_at: str
    trigger: str
    ratings: int
    ratings_fitted: int
    notes: int
    raters: int
    helpful: int
    not_helpful: int
    needs_more_ratings: int
    epochs: int
    converged: bool
    warm_started: bool
    loss: float


def _listed(value: Any) -> Any:
    """A form sends one value where JSON sends a list: accept both."""
    return [value] if isinstance(value, str) else value


class NoteForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    classification: str = Field("", max_length=64, description="misleading or not_misleading")
    reasons: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    summary: str = Field("", max_length=10_000)
    sources: list[Annotated[str, Field(max_length=10_000)]] = Field(
        default_factory=list, max_length=20
    )
    language: str = Field("", max_length=64)

    _lists = field_validator("reasons", "sources", mode="before")(_listed)


class RatingForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    helpfulness: str = Field(
        "", max_length=64, description="helpful, somewhat_helpful or not_helpful"
    )
    tags: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=40)

    _lists = field_validator("tags", mode="before")(_listed)


# -- rendering ---------------------------------------------------------------------------------


def _sides(counts: tuple[int, int, int]) -> dict[str, int]:
    return {"side_a": counts[0], "side_b": counts[1], "unscored": counts[2]}


def _own(rating: RatingRow | None) -> dict[str, Any] | None:
    if rating is None:
        return None
    return {
        "helpfulness": HELPFULNESS_KEYS.get(rating.helpfulness, rating.helpfulness),
        "tags": list(rating.tags),
        "created_at": ts(rating.created_at),
        "updated_at": ts(rating.updated_at),
    }


def note_json(work: Work, view: NoteView, shown: bool) -> dict[str, Any]:
    n, why = view.note, view.why
    return {
        "id": str(n.id),
        "uri": n.uri,
        "url": f"{work.settings.base_url}/notes/{n.id}",
        "status_id": str(n.status_id),
        "classification": CLASSIFICATION_KEYS.get(n.classification, n.classification),
        "reasons": list(n.reasons),
        "summary": n.summary,
        "sources": list(n.sources),
        "language": n.language,
        "created_at": ts(n.created_at),
        "rating_status": n.rating_status,
        "shown": shown,
        "intercept": n.intercept,
        "factor": n.factor,
        "explanation": {
            "code": why.code,
            "text": why.text,
            "helpful_intercept": why.helpful_intercept,
            "max_factor": why.max_factor,
            "min_ratings": why.min_ratings,
            "counted_ratings": why.counted_ratings,
            "ratings": {
                "helpful": _sides(view.sides.helpful),
                "somewhat_helpful": _sides(view.sides.somewhat),
                "not_helpful": _sides(view.sides.not_helpful),
            },
        },
        "mine": view.mine,
        "own_rating": _own(view.own_rating),
    }


def render(work: Work, views: list[NoteView]) -> list[dict[str, Any]]:
    """Notes with `shown` from one query for all their posts."""
    shown = notes.shown_on(work, sorted({v.note.status_id for v in views}))
    return [
        note_json(work, v, v.note.status_id in shown and shown[v.note.status_id].id == v.note.id)
        for v in views
    ]


def change_json(c: StatusChange) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "status": c.status,
        "intercept": c.intercept,
        "factor": c.factor,
        "run_id": str(c.run_id) if c.run_id is not None else None,
        "changed_at": ts(c.changed_at),
    }


def run_json(r: RunRow) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "started_at": ts(r.started_at),
        "finished_at": ts(r.finished_at),
        "trigger": r.trigger,
        "ratings": r.ratings,
        "ratings_fitted": r.ratings_fitted,
        "notes": r.notes,
        "raters": r.raters,
        "helpful": r.helpful,
        "not_helpful": r.not_helpful,
        "needs_more_ratings": r.needs_more_ratings,
        "epochs": r.epochs,
        "converged": r.converged,
        "warm_started": r.warm_started,
        "loss": r.loss,
    }


def _viewer(work: Work, token: auth.Token) -> int | None:
    me = auth.maybe_user(work, token, "read:statuses")
    return me.account_id if me else None


def _not_found_as(message: str, use_case: Callable[[Work], T]) -> Callable[[Work], T]:
    """The service's bare "Record not found" said in words of this route."""

    def run(work: Work) -> T:
        try:
            return use_case(work)
        except NotFound as exc:
            if exc.message == "Record not found":
                raise ApiError(404, message) from None
            raise

    return run


# -- notes on a post ---------------------------------------------------------------------------


@router.get(f"{BASE}/statuses/{{id}}/notes", response_model=list[Note])
def status_notes(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    """Every note on a post the caller may see, the shown one first, each with its status and
    why. A boost: the notes of the boosted post."""
    status_id = path_id(id)

    def run(work: Work) -> list[dict[str, Any]]:
        return render(work, notes.on_status(work, _viewer(work, token), status_id))

    return json_response(rt.read(_not_found_as(NO_POST, run)))


@router.post(
    f"{BASE}/statuses/{{id}}/notes",
    response_model=Note,
    responses=LIMITED,
    openapi_extra=body_schema(NoteForm),
)
async def write_note(
    id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep
) -> Response:
    """Write a note on a public post (a boost: on the boosted post): `classification`
    (misleading or not_misleading), `reasons[]` (keys of that classification), `summary`,
    `sources[]` (web links; at least one for a misleading post), `language`. 422 lists every
    field in error; 403 says why the account may not take part; 429 at the daily cap."""
    status_id = path_id(id)
    form = validate(NoteForm, await read_params(request, include_query=False))
    draft = notes.Draft(
        form.classification, form.reasons, form.summary, form.sources, form.language
    )

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write")
        note = notes.write(work, me.account_id, status_id, draft)
        return render(work, [notes.view(work, me.account_id, note.id)])[0]

    return json_response(await in_thread(rt.write, _not_found_as(NO_POST, run)))


# -- the user's own: eligibility, notes to rate (before /notes/{id}) ---------------------------


@router.get(f"{BASE}/notes/eligibility", response_model=Eligibility)
def eligibility(rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Whether the user may write and rate notes; if not, every reason (`code`, `message`) and,
    for a new account, when it will be old enough."""

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "read")
        found = notes.eligibility(work, me.account_id)
        return {
            "eligible": found.allowed,
            "problems": [{"code": c, "message": m} for c, m in found.problems],
            "eligible_at": ts(found.eligible_at),
            "notes_per_day": work.settings.notes_per_day,
            "ratings_per_day": work.settings.note_ratings_per_day,
        }

    return json_response(rt.read(run))


def _next_link(request: Request, next_max_id: int | None) -> dict[str, str]:
    if next_max_id is None:
        return {}
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "max_id"]
    url = f"{request.url.replace(query='')}?{urlencode([*kept, ('max_id', str(next_max_id))])}"
    return {"Link": f'<{url}>; rel="next"'}


@router.get(f"{BASE}/notes/to_rate", response_model=list[Note])
def to_rate(
    request: Request,
    rt: RuntimeDep,
    token: RequiredTokenDep,
    max_id: Cursor = None,
    limit: Limit = None,
) -> Response:
    """Notes that need more ratings, not the user's own nor already rated by them, newest first;
    `limit` 20 by default, 40 at most; the Link header pages on with `max_id`. 403 when the
    account may not rate (the message says why)."""
    page = paging(max_id, None, None, limit)

    def run(work: Work) -> tuple[list[dict[str, Any]], dict[str, str]]:
        me = auth.user(work, token, "read")
        found = notes.to_rate(work, me.account_id, page.limit, page.max_id)
        last = found[-1].note.id if len(found) == page.limit else None
        return render(work, found), _next_link(request, last)

    body, headers = rt.read(run)
    return json_response(body, headers=headers)


@router.get(f"{BASE}/notes/runs", response_model=list[ScoringRun])
def scoring_runs(
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first")] = 20,
) -> Response:
    """The scorer's recent runs, public: what went in, what came out, how many epochs."""
    return json_response(rt.read(lambda work: [run_json(r) for r in notes.runs(work, limit)]))


# -- one note ----------------------------------------------------------------------------------


@router.get(f"{BASE}/notes/{{id}}", response_model=Note)
def get_note(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    """A note, its status and why (its post must be visible to the caller)."""
    note_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        return render(work, [notes.view(work, _viewer(work, token), note_id)])[0]

    return json_response(rt.read(_not_found_as(NO_NOTE, run)))


@router.delete(f"{BASE}/notes/{{id}}", response_model=dict[str, Any])
def delete_note(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """The author takes their note back, with its ratings and history: answers {}."""
    note_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write")
        notes.delete(work, me.account_id, note_id)
        return {}

    return json_response(rt.write(_not_found_as(NO_NOTE, run)))


@router.get(f"{BASE}/notes/{{id}}/history", response_model=list[NoteStatusChange])
def note_history(id: str, rt: RuntimeDep, token: TokenDep) -> Response:
    """Every status the note has had, oldest first, with the fit that gave it."""
    note_id = path_id(id)

    def run(work: Work) -> list[dict[str, Any]]:
        return [change_json(c) for c in notes.history(work, _viewer(work, token), note_id)]

    return json_response(rt.read(_not_found_as(NO_NOTE, run)))


@router.put(
    f"{BASE}/notes/{{id}}/rating",
    response_model=Note,
    responses=LIMITED,
    openapi_extra=body_schema(RatingForm),
)
async def rate_note(id: str, request: Request, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Rate a note (or change one's rating): `helpfulness` (helpful, somewhat_helpful or
    not_helpful) and `tags[]` (keys allowed for that answer). Answers the note."""
    note_id = path_id(id)
    form = validate(RatingForm, await read_params(request, include_query=False))

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write")
        notes.rate(work, me.account_id, note_id, form.helpfulness, form.tags)
        return render(work, [notes.view(work, me.account_id, note_id)])[0]

    return json_response(await in_thread(rt.write, _not_found_as(NO_NOTE, run)))


@router.delete(f"{BASE}/notes/{{id}}/rating", response_model=Note)
def unrate_note(id: str, rt: RuntimeDep, token: RequiredTokenDep) -> Response:
    """Take one's rating back. Answers the note."""
    note_id = path_id(id)

    def run(work: Work) -> dict[str, Any]:
        me = auth.user(work, token, "write")
        notes.unrate(work, me.account_id, note_id)
        return render(work, [notes.view(work, me.account_id, note_id)])[0]

    return json_response(rt.write(_not_found_as(NO_NOTE, run)))


# -- the public files --------------------------------------------------------------------------


def _export(name: str) -> Callable[..., Response]:
    def endpoint(rt: RuntimeDep) -> Response:
        body: Iterator[str] = notes_export.lines(rt.read, name)
        return StreamingResponse(
            body,
            media_type=f"{TSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.tsv"'},
        )

    endpoint.__doc__ = (
        f"{name}.tsv in the public Community Notes layout, streamed; participants named by "
        "the server's pseudonyms (docs/client-api.md, Community notes)."
    )
    return endpoint


for _name in INPUTS + OUTPUTS:
    router.add_api_route(
        f"{BASE}/notes/data/{_name}.tsv",
        _export(_name),
        methods=["GET"],
        response_class=Response,
        name=f"notes_data_{_name}",
        responses={
            200: {
                "description": f"{_name}.tsv (tab-separated, a header row first)",
                "content": {TSV: {"schema": {"type": "string"}}},
            }
        },
    )
