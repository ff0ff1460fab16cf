"""The authority register (DSA arts. 9, 10 and 18): orders to act against illegal content and
orders to provide information received from judicial or administrative authorities, with when
each was received, acknowledged and carried out and what was done or handed over; and the
server's own escalations of threats to life or safety to law enforcement (art. 18).

Every order to provide information and every escalation states what the server cannot hand over
because it does not hold it (`not_held`): a fixed text completed from the settings, so the
register never promises data that does not exist."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from parvis.config import Settings
from parvis.domain import moderation as vocab
from parvis.domain.errors import Conflict, Invalid, NotFound
from parvis.domain.ids import new_id
from parvis.services.context import Work
from parvis.storage.registers import AuthorityRow

Order = AuthorityRow

KINDS = ("act", "info", "escalation")
EUROPOL = "EU"  # art. 18(2): when no member state can be identified, Europol is told
ART_18 = "Regulation (EU) 2022/2065 (Digital Services Act), art. 18"
MAX_AUTHORITY = 300
MAX_REFERENCE = 200
MAX_TEXT = 5000
MAX_ITEMS = 100
MAX_URL = 2048


def not_held(settings: Settings) -> str:
    """What the server cannot hand over because it does not have it."""
    days = settings.access_log_retention_days
    logs = (
        "the access logs of the web server in front of it are not kept"
        if days == 0
        else f"the access logs of the web server in front of it are kept {days} days, so "
        "connections older than that are not held"
    )
    ip_days = settings.ip_retention_days
    addresses = (
        "the database stores none"
        if ip_days == 0
        else "the database keeps only the address each account signed up and signed in "
        f"from, {ip_days} days after it was last seen, so older ones are not held, nor the "
        "address of any other request"
    )
    return "\n".join(
        (
            "What this server cannot hand over because it does not hold it:",
            "- the contents of end-to-end encrypted messages: the server only ever receives "
            "ciphertext, never the keys;",
            f"- IP addresses: {addresses}; rate limiting forgets an address after at most "
            f"30 minutes; {logs};",
            "- deleted data: posts, media and accounts deleted by their authors are erased "
            "from the database, and Parvis keeps no copy of them;",
            "- passwords and access tokens: only their hashes are stored.",
        )
    )


@dataclass(frozen=True)
class NewOrder:
    kind: str  # act (art. 9) | info (art. 10) | escalation (art. 18)
    authority: str
    member_state: str
    dsa_category: str
    legal_basis: str = ""
    reference: str = ""
    items: tuple[str, ...] = ()  # URLs on this server
    received_at: datetime | None = None  # default: now; for an escalation, when it was sent
    provided: str = ""  # escalation: the data transmitted
    case_id: int | None = None


def _text(value: str, name: str, maximum: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"Validation failed: {name}: cannot be blank")
    if len(value) > maximum:
        raise Invalid(f"Validation failed: {name}: at most {maximum} characters")
    return value


def _moment(work: Work, value: datetime | None, name: str) -> datetime:
    now = work.now()
    if value is None:
        return now
    if value.tzinfo is None:
        raise Invalid(f"Validation failed: {name}: a date and time with its time zone")
    if value > now:
        raise Invalid(f"Validation failed: {name}: cannot be in the future")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"Validation failed: {name}: not a plausible date") from None


def _items(settings: Settings, items: Iterable[str]) -> tuple[str, ...]:
    prefix = settings.base_url.rstrip("/") + "/"
    out: list[str] = []
    for raw in items:
        url = raw.strip()
        if not url:
            continue
        if len(url) > MAX_URL or any(c.isspace() for c in url) or not url.startswith(prefix):
            raise Invalid(
                f"Validation failed: items: {url[:100]!r} is not a URL of this server "
                f"(they start with {prefix})"
            )
        if url not in out:
            out.append(url)
    if len(out) > MAX_ITEMS:
        raise Invalid(f"Validation failed: items: at most {MAX_ITEMS} URLs per entry")
    return tuple(out)


def record(work: Work, actor_id: int | None, new: NewOrder) -> Order:
    """Enter an order received (act, info) or an escalation sent (escalation)."""
    if new.kind not in KINDS:
        raise Invalid(f"Validation failed: kind: one of {', '.join(KINDS)}")
    escalation = new.kind == "escalation"
    authority = _text(new.authority, "authority", MAX_AUTHORITY, required=True)
    state = new.member_state.strip().upper()
    allowed = (*vocab.EU_STATES, EUROPOL) if escalation else vocab.EU_STATES
    if state not in allowed:
        europol = f" (or {EUROPOL} for Europol)" if escalation else ""
        raise Invalid(
            f"Validation failed: member_state: an EU member state{europol}, "
            f"one of {' '.join(vocab.EU_STATES)}"
        )
    if new.dsa_category not in vocab.DSA_CATEGORIES:
        raise Invalid(
            "Validation failed: dsa_category: one of the DSA categories "
            f"({', '.join(vocab.DSA_CATEGORIES)})"
        )
    legal_basis = _text(new.legal_basis, "legal_basis", MAX_TEXT, required=not escalation)
    reference = _text(new.reference, "reference", MAX_REFERENCE, required=not escalation)
    items = _items(work.settings, new.items)
    if not items and not escalation:
        raise Invalid(
            "Validation failed: items: the URLs on this server the order is about (at least one)"
        )
    received_at = _moment(work, new.received_at, "received_at")
    provided = _text(new.provided, "provided", MAX_TEXT, required=escalation)
    if new.provided.strip() and not escalation:
        raise Invalid(
            "Validation failed: provided: say what was provided when the order is carried out"
        )
    if new.case_id is not None and work.store.cases.get(new.case_id) is None:
        raise NotFound("No moderation case with this id")
    row = AuthorityRow(
        id=new_id(),
        kind=new.kind,
        authority=authority,
        member_state=state,
        legal_basis=legal_basis or ART_18,
        dsa_category=new.dsa_category,
        reference=reference,
        items=items,
        received_at=received_at,
        acknowledged_at=None,
        carried_out_at=received_at if escalation else None,
        effect="",
        provided=provided,
        not_held=not_held(work.settings) if new.kind != "act" else "",
        case_id=new.case_id,
        created_by=actor_id,
    )
    work.store.authority.insert(row)
    return row


def escalate(
    work: Work,
    actor_id: int | None,
    *,
    authority: str,
    member_state: str,
    transmitted: str,
    reference: str = "",
    items: tuple[str, ...] = (),
    dsa_category: str = "STATEMENT_CATEGORY_VIOLENCE",
    sent_at: datetime | None = None,
    case_id: int | None = None,
) -> Order:
    """Record a threat to life or safety passed to law enforcement (art. 18): to whom, their
    reference, and the data transmitted."""
    return record(
        work,
        actor_id,
        NewOrder(
            kind="escalation",
            authority=authority,
            member_state=member_state,
            dsa_category=dsa_category,
            reference=reference,
            items=items,
            received_at=sent_at,
            provided=transmitted,
            case_id=case_id,
        ),
    )


def get(work: Work, order_id: int) -> Order:
    found = work.store.authority.get(order_id)
    if found is None:
        raise NotFound("No entry of the authority register with this id")
    return found


def acknowledge(work: Work, order_id: int, at: datetime | None = None) -> Order:
    """The authority was told the order was received."""
    order = get(work, order_id)
    if order.kind == "escalation":
        raise Conflict("An escalation is sent by this server: there is nothing to acknowledge")
    if order.acknowledged_at is not None:
        raise Conflict("This order was already acknowledged")
    moment = _moment(work, at, "acknowledged_at")
    if moment < order.received_at:
        raise Invalid("Validation failed: acknowledged_at: cannot come before received_at")
    work.store.authority.update(order_id, {"acknowledged_at": moment})
    return get(work, order_id)


def carry_out(
    work: Work,
    order_id: int,
    *,
    effect: str = "",
    provided: str = "",
    at: datetime | None = None,
) -> Order:
    """The order was given effect: what was done (act) or handed over (info). An order not yet
    acknowledged is acknowledged at the same time (one answer to the authority)."""
    order = get(work, order_id)
    if order.kind == "escalation":
        raise Conflict("An escalation is recorded as sent: there is nothing to carry out")
    if order.carried_out_at is not None:
        raise Conflict("This order was already carried out")
    effect = _text(effect, "effect", MAX_TEXT, required=order.kind == "act")
    provided = _text(provided, "provided", MAX_TEXT, required=order.kind == "info")
    moment = _moment(work, at, "carried_out_at")
    if moment < (order.acknowledged_at or order.received_at):
        raise Invalid(
            "Validation failed: carried_out_at: cannot come before the order was received "
            "or acknowledged"
        )
    values: dict[str, object] = {"carried_out_at": moment, "effect": effect, "provided": provided}
    if order.acknowledged_at is None:
        values["acknowledged_at"] = moment
    work.store.authority.update(order_id, values)
    return get(work, order_id)


def every(
    work: Work, *, kind: str | None = None, open_only: bool = False, limit: int = 100
) -> list[Order]:
    """The register, the most recently received first."""
    if kind is not None and kind not in KINDS:
        raise Invalid(f"Validation failed: kind: one of {', '.join(KINDS)}")
    return work.store.authority.newest(
        kind=kind, open_only=open_only, limit=max(1, min(limit, 500))
    )
