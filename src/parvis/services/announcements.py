"""Announcements: operators publish them (`parvis announce`), users read, dismiss and react."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from parvis.domain.content import RenderedText, render_plain_text
from parvis.domain.errors import Invalid, NotFound
from parvis.services.context import Work
from parvis.services.mentions import resolver, tag_url

MAX_TEXT = 5_000
MAX_REACTIONS = 8  # distinct emoji per announcement, as in Mastodon


@dataclass(frozen=True)
class Reaction:
    name: str
    count: int
    me: bool


@dataclass(frozen=True)
class Announcement:
    id: int
    text: str
    rendered: RenderedText
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    published_at: datetime
    updated_at: datetime
    read: bool | None
    reactions: tuple[Reaction, ...]


def _render(work: Work, text: str) -> RenderedText:
    return render_plain_text(
        text, resolver(work.store, work.settings), tag_url=tag_url(work.settings)
    )


def publish(
    work: Work,
    text: str,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    all_day: bool = False,
) -> int:
    text = text.strip()
    if not text:
        raise Invalid("Validation failed: text: an announcement cannot be empty")
    if len(text) > MAX_TEXT:
        raise Invalid(f"Validation failed: text: at most {MAX_TEXT} characters")
    if starts_at and ends_at and ends_at <= starts_at:
        raise Invalid("Validation failed: ends_at: must come after starts_at")
    if all_day and not (starts_at and ends_at):
        raise Invalid("Validation failed: all_day: needs both starts_at and ends_at")
    content = _render(work, text).html
    return work.store.announcements.add(
        text, content, starts_at=starts_at, ends_at=ends_at, all_day=all_day, now=work.now()
    )


def active(
    work: Work, account_id: int | None, *, with_dismissed: bool = True
) -> list[Announcement]:
    rows = work.store.announcements.active(work.now())
    return _build(work, rows, account_id, with_dismissed=with_dismissed)


def every(work: Work) -> list[Announcement]:
    return _build(work, work.store.announcements.all(), None)


def _build(
    work: Work,
    rows: list[dict[str, object]],
    account_id: int | None,
    *,
    with_dismissed: bool = True,
) -> list[Announcement]:
    store = work.store.announcements
    ids = [int(str(r["id"])) for r in rows]
    read = store.read_ids(account_id, ids) if account_id is not None else set()
    reactions = store.reactions(ids, account_id)
    out = []
    for r, aid in zip(rows, ids, strict=True):
        if not with_dismissed and aid in read:
            continue
        out.append(
            Announcement(
                id=aid,
                text=str(r["text"]),
                rendered=_render(work, str(r["text"])),
                starts_at=r["starts_at"],  # type: ignore[arg-type]
                ends_at=r["ends_at"],  # type: ignore[arg-type]
                all_day=bool(r["all_day"]),
                published_at=r["published_at"],  # type: ignore[arg-type]
                updated_at=r["updated_at"],  # type: ignore[arg-type]
                read=(aid in read) if account_id is not None else None,
                reactions=tuple(Reaction(n, c, m) for n, c, m in reactions.get(aid, [])),
            )
        )
    return out


def _existing(work: Work, announcement_id: int) -> None:
    row = work.store.announcements.get(announcement_id)
    if row is None or (row["ends_at"] is not None and row["ends_at"] <= work.now()):
        raise NotFound("Record not found")


def dismiss(work: Work, account_id: int, announcement_id: int) -> None:
    _existing(work, announcement_id)
    work.store.announcements.mark_read(account_id, announcement_id)


def is_emoji(name: str) -> bool:
    """One unicode emoji (with its modifiers, joiners and variation selectors); custom
    `:shortcode:` emoji are not supported."""
    if not name or len(name) > 32:
        return False
    pictographic = False
    for char in name:
        cat = unicodedata.category(char)
        code = ord(char)
        if code in (0x200D, 0xFE0F, 0xFE0E, 0x20E3) or 0x1F3FB <= code <= 0x1F3FF:
            continue  # joiner, variation selectors, keycap, skin tones
        if 0xE0020 <= code <= 0xE007F or 0x1F1E6 <= code <= 0x1F1FF:
            pictographic = True  # tag sequences and regional indicators (flags)
            continue
        if cat == "So" or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
            pictographic = True
            continue
        if char in "#*0123456789" and "\u20e3" in name:
            continue
        return False
    return pictographic


def react(work: Work, account_id: int, announcement_id: int, name: str) -> None:
    _existing(work, announcement_id)
    if not is_emoji(name):
        raise Invalid(
            "Validation failed: name: must be a unicode emoji (custom emoji are not supported)"
        )
    store = work.store.announcements
    existing = {n for n, _, _ in store.reactions([announcement_id], None).get(announcement_id, [])}
    if name not in existing and len(existing) >= MAX_REACTIONS:
        raise Invalid(f"Validation failed: name: at most {MAX_REACTIONS} different reactions")
    store.react(account_id, announcement_id, name, work.now())


def unreact(work: Work, account_id: int, announcement_id: int, name: str) -> None:
    _existing(work, announcement_id)
    work.store.announcements.unreact(account_id, announcement_id, name)


def remove(work: Work, announcement_id: int) -> None:
    if not work.store.announcements.delete(announcement_id):
        raise NotFound(f"No announcement {announcement_id}")
