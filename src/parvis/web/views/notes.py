"""Community notes in the web app (issue 8): the page of a note (its status and why, in the
reader's language from the scorer's numbers; its history; the rating form), the notes on a post
with "Add a note", the form that writes one, and "Help rate notes" (the notes that need
ratings). The box "Readers added context" on every post card is status_card.html's, from the
page's flags (`ViewerFlags.notes`, read once for a page of posts by services/timelines.py).

Notes are anonymous: no page shows who wrote a note or who rated it. Every form is a plain
form with its CSRF token; every refusal is a page that says why (the eligibility problems by
code, in the reader's language)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from babel.dates import format_date
from babel.numbers import format_decimal
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parvis.domain.errors import DomainError, NotFound
from parvis.domain.ids import parse_id
from parvis.domain.models import Status, ViewerFlags
from parvis.domain.notes.model import (
    HELPFUL_TAGS,
    MISLEADING_REASONS,
    NOT_HELPFUL_TAGS,
    NOT_MISLEADING_REASONS,
)
from parvis.domain.visibility import Visibility
from parvis.services import notes, posting, timelines
from parvis.services.context import Work
from parvis.storage.notes import NoteRow, StatusChange
from parvis.web import i18n, service_messages
from parvis.web.pages import (
    Visitor,
    error_message,
    form,
    read,
    redirect,
    render,
    text,
    visitor,
    write,
)

PAGE = 20
# Languages offered for a note (the visitor's own and the post's are added when missing).
LANGUAGES = (
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("pt", "Português"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("ar", "العربية"),
    ("br", "Brezhoneg"),
    ("ca", "Català"),
    ("eu", "Euskara"),
    ("oc", "Occitan"),
)
# The rating form's tag groups: the answer decides which groups count ("somewhat": both).
TAG_GROUPS = {
    "helpful": ("tags_helpful",),
    "somewhat_helpful": ("tags_helpful", "tags_not_helpful"),
    "not_helpful": ("tags_not_helpful",),
}


# -- localized helpers -------------------------------------------------------------------------


def _formatters(locale: str) -> dict[str, Any]:
    return {
        "decimal": lambda x: format_decimal(x, "0.000", locale=locale),
        "threshold": lambda x: format_decimal(x, "0.00", locale=locale),
        "day": lambda moment: format_date(moment, format="long", locale=locale),
    }


def _not_found(request: Request, who: Visitor) -> Response:
    return render(request, who, "not_found.html", code=404)


def _login(request: Request, then: str | None = None) -> Response:
    """To the login page, then back to `then` (a form's page: not the POST route itself)."""
    return redirect(f"/login?next={quote(then or request.url.path, safe='/')}")


def _original(work: Work, viewer_id: int | None, status_id: int) -> Status:
    status = posting.visible_status(work, viewer_id, status_id)
    return status.reblog or status


def _noteable(status: Status) -> bool:
    return status.visibility in (Visibility.PUBLIC, Visibility.UNLISTED)


# -- a note ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotePage:
    view: notes.NoteView
    status: Status
    flags: ViewerFlags
    history: list[StatusChange]
    eligibility: notes.Eligibility


def _note_page(work: Work, viewer_id: int | None, note_id: int) -> NotePage:
    view = notes.view(work, viewer_id, note_id)
    status = _original(work, viewer_id, view.note.status_id)
    _, flags = timelines.filtered(work, viewer_id, [status], None)
    return NotePage(
        view,
        status,
        flags,
        notes.history(work, viewer_id, note_id),
        notes.eligibility(work, viewer_id),
    )


@dataclass(frozen=True)
class Rating:
    """The rating form as it was sent, to show it again when it was refused."""

    helpfulness: str = ""
    tags: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)


async def _show_note(
    request: Request,
    who: Visitor,
    note_id: int,
    *,
    code: int = 200,
    problem: str | None = None,
    rating: Rating | None = None,
) -> Response:
    viewer = who.account_id
    try:
        page = await read(request, lambda work: _note_page(work, viewer, note_id))
    except NotFound:
        return _not_found(request, who)
    own = page.view.own_rating
    if rating is None:
        rating = Rating(own.helpfulness.lower(), own.tags) if own is not None else Rating()
    return render(
        request,
        who,
        "notes_note.html",
        code=code,
        page=page,
        view=page.view,
        note=page.view.note,
        status=page.status,
        flags=page.flags,
        problem=problem,
        rating=rating,
        done=request.query_params.get("done", ""),
        helpful_tags=HELPFUL_TAGS,
        not_helpful_tags=NOT_HELPFUL_TAGS,
        **_formatters(who.locale),
    )


async def note_page(request: Request) -> Response:
    who = await visitor(request)
    note_id = parse_id(request.path_params["id"])
    if note_id is None:
        return _not_found(request, who)
    return await _show_note(request, who, note_id)


def _tags(data: FormData, helpfulness: str) -> tuple[str, ...]:
    """The tags of the groups that go with the answer (a group for another answer is labelled
    so, and does not count)."""
    found: list[str] = []
    for group in TAG_GROUPS.get(helpfulness, ()):
        found += [t[:60] for t in data.getlist(group)[:20] if isinstance(t, str)]
    return tuple(dict.fromkeys(found))


async def rate(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request, f"/notes/{request.path_params['id']}"[:40])
    data = await form(request)
    note_id = parse_id(request.path_params["id"])
    if note_id is None:
        return _not_found(request, who)
    helpfulness = text(data, "helpfulness", limit=40)
    tags = _tags(data, helpfulness)
    if helpfulness not in TAG_GROUPS:
        gettext = i18n.translations(who.locale).gettext
        ticked = _tags(data, "somewhat_helpful")  # every group: the form comes back as sent
        refused = Rating(helpfulness, ticked, {"helpfulness": gettext("Choose an answer.")})
        return await _show_note(request, who, note_id, code=422, rating=refused)
    rater = who.account_id
    try:
        await write(request, lambda work: notes.rate(work, rater, note_id, helpfulness, tags))
    except NotFound:
        return _not_found(request, who)
    except DomainError as exc:
        refused = Rating(helpfulness, tags)
        return await _show_note(
            request, who, note_id, code=exc.status, problem=error_message(exc), rating=refused
        )
    return redirect(f"/notes/{note_id}?done=rated#rating")


async def unrate(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request, f"/notes/{request.path_params['id']}"[:40])
    await form(request)
    note_id = parse_id(request.path_params["id"])
    if note_id is None:
        return _not_found(request, who)
    rater = who.account_id
    try:
        await write(request, lambda work: notes.unrate(work, rater, note_id))
    except DomainError as exc:
        if exc.status == 404 and exc.message == "Record not found":
            return _not_found(request, who)
        return await _show_note(request, who, note_id, code=exc.status, problem=error_message(exc))
    return redirect(f"/notes/{note_id}?done=unrated#rating")


async def delete(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request, f"/notes/{request.path_params['id']}"[:40])
    await form(request)
    note_id = parse_id(request.path_params["id"])
    if note_id is None:
        return _not_found(request, who)
    author = who.account_id

    def run(work: Work) -> int:
        note = work.store.notes.get(note_id)
        notes.delete(work, author, note_id)
        assert note is not None  # delete() refuses a note that does not exist
        return note.status_id

    try:
        status_id = await write(request, run)
    except NotFound:
        return _not_found(request, who)
    except DomainError as exc:
        return await _show_note(request, who, note_id, code=exc.status, problem=error_message(exc))
    return redirect(f"/posts/{status_id}/notes?done=deleted")


# -- the notes on a post -----------------------------------------------------------------------


@dataclass(frozen=True)
class PostNotes:
    status: Status
    flags: ViewerFlags
    views: list[notes.NoteView]
    eligibility: notes.Eligibility
    written: NoteRow | None  # the viewer's own note on this post


def _post_notes(work: Work, viewer_id: int | None, status_id: int) -> PostNotes:
    status = _original(work, viewer_id, status_id)
    _, flags = timelines.filtered(work, viewer_id, [status], None)
    views = notes.on_status(work, viewer_id, status.id)
    return PostNotes(
        status,
        flags,
        views,
        notes.eligibility(work, viewer_id),
        next((v.note for v in views if v.mine), None),
    )


async def post_notes(request: Request) -> Response:
    who = await visitor(request)
    status_id, viewer = parse_id(request.path_params["id"]), who.account_id
    if status_id is None:
        return _not_found(request, who)
    try:
        page = await read(request, lambda work: _post_notes(work, viewer, status_id))
    except NotFound:
        return _not_found(request, who)
    return render(
        request,
        who,
        "notes_post.html",
        page=page,
        status=page.status,
        flags=page.flags,
        noteable=_noteable(page.status),
        done=request.query_params.get("done", ""),
        **_formatters(who.locale),
    )


# -- writing a note ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """The note form as it was sent (or empty), with its errors by field."""

    classification: str = ""
    reasons: tuple[str, ...] = ()
    summary: str = ""
    sources: tuple[str, ...] = ("",) * notes.SOURCES_MAX
    language: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def _draft(data: FormData) -> Draft:
    classification = text(data, "classification", limit=40)
    group = {"misleading": "reasons_misleading", "not_misleading": "reasons_not_misleading"}
    reasons = [
        r[:60] for r in data.getlist(group.get(classification, "-"))[:20] if isinstance(r, str)
    ]
    typed = [
        text(data, f"source_{i}", limit=notes.SOURCE_MAX_CHARS + 1).strip()
        for i in range(1, notes.SOURCES_MAX + 1)
    ]
    return Draft(
        classification,
        tuple(dict.fromkeys(reasons)),
        text(data, "summary", limit=notes.SUMMARY_MAX * 4),
        tuple(typed),
        text(data, "language", limit=notes.LANGUAGE_MAX + 1).strip(),
    )


def _field_errors(draft: Draft, locale: str) -> dict[str, list[str]]:
    """The service's checks of a draft, by field, in the visitor's language."""
    gettext = i18n.translations(locale).gettext
    found: dict[str, list[str]] = {}
    problems = notes.draft_errors(
        notes.Draft(
            draft.classification,
            draft.reasons,
            draft.summary,
            [s for s in draft.sources if s],
            draft.language,
        )
    )
    for problem in problems:
        name, _, message = problem.partition(": ")
        said = service_messages.translate(message, locale, gettext)
        found.setdefault(name, []).append(said)
    return found


@dataclass(frozen=True)
class NewNote:
    status: Status
    flags: ViewerFlags
    eligibility: notes.Eligibility
    written: NoteRow | None


def _new_note(work: Work, viewer_id: int, status_id: int) -> NewNote:
    status = _original(work, viewer_id, status_id)
    _, flags = timelines.filtered(work, viewer_id, [status], None)
    return NewNote(
        status,
        flags,
        notes.eligibility(work, viewer_id),
        work.store.notes.by_author_on(viewer_id, status.id),
    )


def _refusal(page: NewNote, who: Visitor) -> tuple[str, int] | None:
    """Why this visitor may not write a note on this post, if they may not: a code for the
    template and the HTTP status."""
    if not page.eligibility.allowed:
        return "ineligible", 403
    if not _noteable(page.status):
        return "not_public", 422
    if who.account_id == page.status.account.id:
        return "own_post", 403
    if page.written is not None:
        return "written", 409
    return None


async def _note_form(
    request: Request,
    who: Visitor,
    status_id: int,
    draft: Draft,
    *,
    code: int = 200,
    problem: str | None = None,
) -> Response:
    viewer = who.account_id
    assert viewer is not None
    try:
        page = await read(request, lambda work: _new_note(work, viewer, status_id))
    except NotFound:
        return _not_found(request, who)
    refused = _refusal(page, who)
    language = draft.language or who.locale
    languages = list(LANGUAGES)
    for extra in (language, page.status.language or ""):
        if extra and extra not in dict(languages):
            languages.insert(0, (extra, extra))
    return render(
        request,
        who,
        "notes_new.html",
        code=refused[1] if refused else code,  # a refusal is all the page shows
        page=page,
        status=page.status,
        flags=page.flags,
        refused=refused[0] if refused else None,
        draft=draft,
        language=language,
        languages=languages,
        problem=problem,
        misleading_reasons=MISLEADING_REASONS,
        not_misleading_reasons=NOT_MISLEADING_REASONS,
        summary_max=notes.SUMMARY_MAX,
        **_formatters(who.locale),
    )


async def new_note_page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request)
    status_id = parse_id(request.path_params["id"])
    if status_id is None:
        return _not_found(request, who)
    return await _note_form(request, who, status_id, Draft())


async def write_note(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request, f"/posts/{request.path_params['id']}/notes/new"[:40])
    data = await form(request)
    status_id = parse_id(request.path_params["id"])
    if status_id is None:
        return _not_found(request, who)
    draft = _draft(data)
    errors = _field_errors(draft, who.locale)
    if errors:
        return await _note_form(request, who, status_id, replace(draft, errors=errors), code=422)
    author = who.account_id
    sources = [s for s in draft.sources if s]
    given = notes.Draft(draft.classification, draft.reasons, draft.summary, sources, draft.language)
    try:
        note = await write(request, lambda work: notes.write(work, author, status_id, given))
    except NotFound:
        return _not_found(request, who)
    except DomainError as exc:
        return await _note_form(
            request, who, status_id, draft, code=exc.status, problem=error_message(exc)
        )
    return redirect(f"/notes/{note.id}?done=written")


# -- help rate notes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    eligibility: notes.Eligibility
    views: list[notes.NoteView]
    posts: dict[int, Status]  # the posts the notes are on, by id
    flags: ViewerFlags


def _queue(work: Work, viewer_id: int, max_id: int | None) -> Queue:
    found = notes.eligibility(work, viewer_id)
    if not found.allowed:
        return Queue(found, [], {}, ViewerFlags())
    views = notes.to_rate(work, viewer_id, PAGE, max_id)
    posts = timelines.visible(work, viewer_id, [v.note.status_id for v in views])
    _, flags = timelines.filtered(work, viewer_id, posts, None)
    return Queue(found, views, {p.id: p for p in posts}, flags)


async def queue_page(request: Request) -> Response:
    who = await visitor(request)
    if who.account_id is None:
        return _login(request)
    viewer, max_id = who.account_id, parse_id(request.query_params.get("max_id", ""))
    page = await read(request, lambda work: _queue(work, viewer, max_id))
    views: Sequence[notes.NoteView] = page.views
    return render(
        request,
        who,
        "notes_queue.html",
        code=200 if page.eligibility.allowed else 403,
        page=page,
        flags=page.flags,
        more=views[-1].note.id if len(views) == PAGE else None,
        **_formatters(who.locale),
    )


routes = [
    Route("/notes", queue_page, methods=["GET"]),
    Route("/notes/{id}", note_page, methods=["GET"]),
    Route("/notes/{id}/rating", rate, methods=["POST"]),
    Route("/notes/{id}/rating/delete", unrate, methods=["POST"]),
    Route("/notes/{id}/delete", delete, methods=["POST"]),
    Route("/posts/{id}/notes", post_notes, methods=["GET"]),
    Route("/posts/{id}/notes", write_note, methods=["POST"]),
    Route("/posts/{id}/notes/new", new_note_page, methods=["GET"]),
]
