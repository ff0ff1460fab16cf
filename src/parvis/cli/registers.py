"""The moderation registers: `parvis flaggers`, `authority`, `moderators`, `rules`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from parvis.cli import (
    account_of,
    app,
    parse_moment,
    say,
    when,
    write_use_case,
)

if TYPE_CHECKING:  # kept light: uvicorn's worker processes import this module on start
    from parvis.services.context import Work

T = TypeVar("T")


# --- moderation registers: trusted flaggers, authority register, roster, rules ----------------

flaggers_app = typer.Typer(
    help="Trusted flaggers, whose notices take the priority lane (DSA article 22).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(flaggers_app, name="flaggers")
authority_app = typer.Typer(
    help="The authority register: orders received, escalations sent (DSA articles 9, 10, 18).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(authority_app, name="authority")
moderators_app = typer.Typer(
    help="The moderator roster: languages, country, training, paid or volunteer.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(moderators_app, name="moderators")
rules_app = typer.Typer(
    help="The server's rules, versioned; users are told of every change (DSA article 14).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(rules_app, name="rules")


@flaggers_app.command("add")
def flaggers_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The entity's name (never a person).")],
    coordinator: Annotated[
        str, typer.Option(help="The Digital Services Coordinator that awarded the status.")
    ],
    member_state: Annotated[str, typer.Option(help="That coordinator's member state (FR, DE, …).")],
    area: Annotated[
        list[str] | None,
        typer.Option(help="An area of expertise, as an offence key (repeat); none: all areas."),
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="The account it reports from (user@domain for remote).")
    ] = None,
) -> None:
    """Register a trusted flagger."""
    from parvis.services import trusted_flaggers

    def add(work: Work) -> Any:
        account_id = account_of(work, account) if account else None
        new = trusted_flaggers.NewFlagger(
            name=name,
            coordinator=coordinator,
            member_state=member_state,
            areas=tuple(area or ()),
            account_id=account_id,
        )
        return trusted_flaggers.register(work, new)

    made = write_use_case(ctx, add)
    say(f"Registered trusted flagger {made.id}: {made.name}.")


@flaggers_app.command("list")
def flaggers_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked flaggers.")] = False,
) -> None:
    """List the trusted flaggers with their accuracy over the misuse window."""
    from parvis.services import trusted_flaggers

    def run(work: Work) -> Any:
        scores = trusted_flaggers.accuracies(work)
        return [(f, scores[f.id]) for f in trusted_flaggers.every(work, with_revoked=all_)]

    found = write_use_case(ctx, run)
    if not found:
        say("No trusted flaggers.")
    for f, score in found:
        state = f"revoked {when(f.revoked_at)}" if f.revoked_at else "active"
        precision = "-" if score.precision is None else f"{score.precision:.0%}"
        review = "  REVIEW: many unsubstantiated notices (art. 22(6))" if score.review else ""
        say(
            f"{f.id}  {f.name}  ({f.coordinator}, {f.member_state})  {state}  "
            f"areas: {', '.join(f.areas) or 'all'}  notices {score.notices}: "
            f"{score.restricted} acted on, {score.rejected} rejected, {score.pending} pending, "
            f"precision {precision}{review}"
        )


@flaggers_app.command("revoke")
def flaggers_revoke(
    ctx: typer.Context,
    flagger_id: Annotated[int, typer.Argument(help="The id shown by `flaggers list`.")],
) -> None:
    """End a trusted flagger's status; its later notices take the ordinary lanes."""
    from parvis.services import trusted_flaggers

    write_use_case(ctx, lambda work: trusted_flaggers.revoke(work, flagger_id))
    say(f"Trusted flagger {flagger_id} revoked.")


class OrderKind(StrEnum):
    act = "act"
    info = "info"
    escalation = "escalation"


def _category(value: str) -> str:
    value = value.strip().upper()
    return value if value.startswith("STATEMENT_CATEGORY_") else f"STATEMENT_CATEGORY_{value}"


@authority_app.command("record")
def authority_record(
    ctx: typer.Context,
    kind: Annotated[
        OrderKind,
        typer.Argument(
            help="act: an order to act (art. 9); info: to provide information (art. 10); "
            "escalation: a threat to life or safety we reported (art. 18)."
        ),
    ],
    authority_name: Annotated[
        str, typer.Argument(metavar="AUTHORITY", help="The issuing (or informed) authority.")
    ],
    member_state: Annotated[
        str, typer.Option(help="Its member state (FR, DE, …; EU for Europol, escalations).")
    ],
    category: Annotated[
        str, typer.Option(help="The DSA category, e.g. ILLEGAL_OR_HARMFUL_SPEECH.")
    ],
    legal_basis: Annotated[
        str, typer.Option(help="The legal basis the order cites (orders only).")
    ] = "",
    reference: Annotated[str, typer.Option(help="The authority's reference number.")] = "",
    item: Annotated[
        list[str] | None, typer.Option(help="A URL on this server it concerns (repeat).")
    ] = None,
    received: Annotated[
        str | None,
        typer.Option(help="When received (escalation: sent), ISO 8601; default now."),
    ] = None,
    provided: Annotated[str, typer.Option(help="Escalations: the data transmitted.")] = "",
) -> None:
    """Enter an order received, or an escalation sent, in the authority register."""
    from parvis.services import authority

    new = authority.NewOrder(
        kind=kind.value,
        authority=authority_name,
        member_state=member_state,
        dsa_category=_category(category),
        legal_basis=legal_basis,
        reference=reference,
        items=tuple(item or ()),
        received_at=parse_moment(received, "--received"),
        provided=provided,
    )
    made = write_use_case(ctx, lambda work: authority.record(work, None, new))
    say(f"Recorded {made.kind} {made.id} from {made.authority}.")
    if made.not_held:
        say(made.not_held)


@authority_app.command("ack")
def authority_ack(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The id shown by `authority list`.")],
    at: Annotated[
        str | None, typer.Option(help="When the authority was told (ISO 8601); default now.")
    ] = None,
) -> None:
    """Record that the issuing authority was told the order was received."""
    from parvis.services import authority

    moment = parse_moment(at, "--at")
    write_use_case(ctx, lambda work: authority.acknowledge(work, order_id, moment))
    say(f"Order {order_id} acknowledged.")


@authority_app.command("carry-out")
def authority_carry_out(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The id shown by `authority list`.")],
    effect: Annotated[str, typer.Option(help="What was done (orders to act).")] = "",
    provided: Annotated[
        str, typer.Option(help="What was handed over (orders to provide information).")
    ] = "",
    at: Annotated[
        str | None, typer.Option(help="When it was given effect (ISO 8601); default now.")
    ] = None,
) -> None:
    """Record that an order was given effect, and what was done or handed over."""
    from parvis.services import authority

    moment = parse_moment(at, "--at")
    write_use_case(
        ctx,
        lambda work: authority.carry_out(
            work, order_id, effect=effect, provided=provided, at=moment
        ),
    )
    say(f"Order {order_id} carried out.")


@authority_app.command("respond")
def authority_respond(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(help="The id shown by `authority list`.")],
    out: Annotated[Path, typer.Option(help="Where to write the ZIP archive.")],
) -> None:
    """Assemble the response to an order to provide information from what the server holds
    (never message contents, never deleted data), write it to --out and record the order as
    carried out with what was handed over."""
    from parvis.services import authority_response

    if out.exists() or not out.parent.is_dir():
        raise typer.BadParameter(
            f"{out} exists already, or its folder does not", param_hint="--out"
        )
    handed = write_use_case(ctx, lambda work: authority_response.hand_over(work, order_id))
    out.write_bytes(handed.archive)
    say(f"Order {order_id} carried out; the response is in {out}.")
    say(handed.order.provided)


@authority_app.command("list")
def authority_list(
    ctx: typer.Context,
    kind: Annotated[OrderKind | None, typer.Option(help="Only this kind.")] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only orders not carried out yet.")
    ] = False,
) -> None:
    """List the authority register, the most recently received first."""
    from parvis.services import authority

    found = write_use_case(
        ctx,
        lambda work: authority.every(work, kind=kind.value if kind else None, open_only=open_only),
    )
    if not found:
        say("The register is empty.")
    for o in found:
        say(
            f"{o.id}  {o.kind}  {o.authority} ({o.member_state})  ref {o.reference or '-'}  "
            f"{o.dsa_category.removeprefix('STATEMENT_CATEGORY_')}  received "
            f"{when(o.received_at)}  acknowledged {when(o.acknowledged_at)}  "
            f"carried out {when(o.carried_out_at)}"
        )
        for url in o.items:
            say(f"    {url}")
        if o.effect:
            say(f"    effect: {o.effect}")
        if o.provided:
            say(f"    provided: {o.provided}")


@moderators_app.command("set")
def moderators_set(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A local moderator's or admin's name.")],
    language: Annotated[list[str], typer.Option(help="A language they read, ISO 639-1 (repeat).")],
    country: Annotated[str, typer.Option(help="Where they work from, ISO 3166 (FR, DE…).")],
    training: Annotated[str, typer.Option(help="The training they received (empty: none).")] = "",
    paid: Annotated[
        bool, typer.Option("--paid/--volunteer", help="Paid staff, or a volunteer.")
    ] = False,
) -> None:
    """Put a moderator on the roster, or update their entry."""
    from parvis.services import roster

    write_use_case(
        ctx,
        lambda work: roster.set_entry(
            work,
            account_of(work, username),
            languages=language,
            country=country,
            training=training,
            paid=paid,
        ),
    )
    say(f"{username} is on the moderator roster.")


@moderators_app.command("leave")
def moderators_leave(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A moderator on the roster.")],
) -> None:
    """Take a moderator off the roster from now on (past periods still count them)."""
    from parvis.services import roster

    write_use_case(ctx, lambda work: roster.leave(work, account_of(work, username)))
    say(f"{username} left the moderator roster.")


@moderators_app.command("list")
def moderators_list(ctx: typer.Context) -> None:
    """Show the roster and the aggregate that is published (numbers only, never names)."""
    from parvis.services import roster

    def run(work: Work) -> Any:
        entries = roster.entries(work)
        names = work.store.accounts.get_many(e.account_id for e in entries)
        return roster.aggregate(work), [
            (names[e.account_id].username if e.account_id in names else "?", e) for e in entries
        ]

    total, entries = write_use_case(ctx, run)
    for name, e in entries:
        state = f"left {when(e.until)}" if e.until else f"since {when(e.since)}"
        say(
            f"{name}  {','.join(e.languages)}  {e.country}  {'paid' if e.paid else 'volunteer'}  "
            f"{'trained' if e.training else 'no training'}  {state}"
        )
    say(
        f"Published: {total.total} moderators; languages "
        f"{', '.join(f'{k} {v}' for k, v in total.by_language.items()) or '-'}; countries "
        f"{', '.join(f'{k} {v}' for k, v in total.by_country.items()) or '-'}; "
        f"{total.paid} paid, {total.volunteer} volunteers, {total.trained} trained."
    )


@rules_app.command("list")
def rules_list(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Every version, earlier and retired ones included.")
    ] = False,
) -> None:
    """List the rules in force (or every version)."""
    from parvis.services import rules

    found = write_use_case(ctx, rules.history if all_ else rules.current)
    if not found:
        say("No rules.")
    for r in found:
        until = f" until {when(r.valid_to)}" if r.valid_to else ""
        say(f"{r.id} v{r.version}  from {when(r.valid_from)}{until}  {r.text}")
        if r.hint:
            say(f"    {r.hint}")


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The rule, in plain words.")],
    hint: Annotated[str, typer.Option(help="A longer explanation, with examples.")] = "",
) -> None:
    """Add a rule (next free id); users are told by an announcement."""
    from parvis.services import rules

    made = write_use_case(ctx, lambda work: rules.add(work, text, hint))
    say(f"Added rule {made.id}.")


@rules_app.command("change")
def rules_change(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="The rule's id, as `rules list` shows it.")],
    text: Annotated[str, typer.Argument(help="The rule's new wording.")],
    hint: Annotated[
        str | None, typer.Option(help="A new explanation (left out: keep the current one).")
    ] = None,
) -> None:
    """Change a rule: a new version from now on; decisions keep citing the old one."""
    from parvis.services import rules

    made = write_use_case(ctx, lambda work: rules.change(work, rule_id, text, hint))
    say(f"Rule {made.id} is now at version {made.version}.")


@rules_app.command("retire")
def rules_retire(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="The rule's id, as `rules list` shows it.")],
) -> None:
    """Withdraw a rule (its id is never reused); users are told by an announcement."""
    from parvis.services import rules

    write_use_case(ctx, lambda work: rules.retire(work, rule_id))
    say(f"Rule {rule_id} retired.")
