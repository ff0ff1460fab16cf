"""E-mail to notifiers (DSA art. 16(4) and 16(5)): the acknowledgement of receipt of a notice,
and the decision taken on it with the ways to contest it.

A notifier who gives an e-mail address (visitors who are not signed in do) is sent two plain
text messages, each in French then English: the receipt (the notice's number, when it was
received, what was reported, and the private follow-up link `/notices/{key}`), and, once every
item is decided, the decision in plain words per item with the appeal, the out-of-court bodies
and the courts. The follow-up key is never stored (only its hash): it reaches the receipt mail
through the job's payload alone, and the decision mail points back to the receipt's link.

This module composes messages and defines the `Mailer` seam; it sends nothing itself. The SMTP
mailer and the jobs that send outside any transaction live in `parvis.jobs.mail`. No text from
a person (names, explanations, rules, server title) ever reaches a header: headers are built
from the validated address, the notice number and the configured sender only, and everything
else goes into the body, cleaned of control characters.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol

from parvis.config import Settings
from parvis.domain import moderation as vocab
from parvis.domain.statements import Statement
from parvis.services import statements
from parvis.services.context import Work
from parvis.storage.moderation import DecisionRow
from parvis.storage.notices import NoticeItemRow, NoticeRow


class Mailer(Protocol):
    """Hands one message to the outgoing mail server (raises when it could not)."""

    def send(self, message: EmailMessage) -> None: ...


# -- addresses ------------------------------------------------------------------------------


def recipient(text: str) -> Address | None:
    """The notifier's address as exactly one mailbox, or None for anything else (a list, a
    display name, a line break, a non-ASCII local part), so that no text can add a recipient or
    a header. An internationalized domain is written in its ASCII (IDNA) form. notices.submit
    refuses an address this does not accept."""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    try:
        domain.encode("ascii")
    except UnicodeEncodeError:
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    spec = f"{local}@{domain}"
    try:
        address = Address(addr_spec=spec)
    except (ValueError, IndexError, HeaderParseError):
        return None
    if address.addr_spec != spec or "." not in address.domain or address.domain.startswith("["):
        return None
    return address


def valid_address(text: str) -> bool:
    """Whether mail can be sent to this address (services/notices.py checks it on submission)."""
    return recipient(text) is not None


def host(settings: Settings) -> str:
    """The public host name, without its port (for the sender's address and Message-IDs)."""
    name = settings.domain.strip()
    if name.startswith("["):  # [::1]:8000
        return name.split("]", 1)[0] + "]"
    return name.split(":", 1)[0]


def sender(settings: Settings) -> Address:
    """PARVIS_MAIL_FROM ("Name <address>" or an address), else "{title} <noreply@{host}>"."""
    if settings.mail_from.strip():
        name, spec = parseaddr(settings.mail_from.strip())
        address = recipient(spec)
        if address is None:
            raise ValueError(f"PARVIS_MAIL_FROM is not an e-mail address: {spec!r}")
        return Address(display_name=_line(name), addr_spec=address.addr_spec)
    return Address(display_name=_line(settings.title), username="noreply", domain=host(settings))


# -- what a message says --------------------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    """One reported item as the notifier sees it."""

    kind: str  # status | account | gone
    acct: str
    url: str


@dataclass(frozen=True)
class Outcome:
    """What was decided on one reported item."""

    item: Reported
    statement: Statement
    decided_at: datetime
    appeal_until: datetime


# Plain words (those of the web pages: macros.html, decision_macros.html), French and English.
OFFENCE_WORDS: dict[str, tuple[str, str]] = {
    "threat_to_life": (
        "Une menace pour la vie ou la sécurité de quelqu’un",
        "A threat to someone's life or safety",
    ),
    "self_harm": (
        "Quelqu’un risque de se faire du mal (suicide, automutilation)",
        "Someone may hurt themselves (suicide, self-harm)",
    ),
    "child_abuse": ("Contenu pédocriminel", "Child sexual abuse material"),
    "terrorism": ("Terrorisme\u00a0: provocation ou apologie", "Terrorism: incitement or apology"),
    "crimes_against_humanity": (
        "Apologie ou négation de crimes contre l’humanité",
        "Apology or denial of crimes against humanity",
    ),
    "racial_hatred": (
        "Provocation à la haine en raison de l’origine, de l’ethnie, de la nation, de la race "
        "ou de la religion",
        "Incitement to hatred because of origin, ethnicity, nation, race or religion",
    ),
    "hatred_identity": (
        "Haine en raison du sexe, de l’orientation sexuelle, de l’identité de genre ou du handicap",
        "Hatred because of sex, sexual orientation, gender identity or disability",
    ),
    "incitement_to_violence": ("Provocation à la violence", "Incitement to violence"),
    "harassment": ("Harcèlement", "Harassment"),
    "non_consensual_images": (
        "Images intimes diffusées sans consentement",
        "Intimate images shared without consent",
    ),
    "human_dignity": (
        "Une atteinte à la dignité humaine (contenu violent ou dégradant)",
        "An attack on human dignity (violent or degrading content)",
    ),
    "defamation": ("Diffamation ou injure", "Defamation or insult"),
    "privacy": ("Informations privées divulguées", "Private information exposed"),
    "scam": ("Une arnaque, une fraude ou un hameçonnage", "A scam, fraud or phishing"),
    "impersonation": ("Usurpation de l’identité de quelqu’un", "Impersonation of someone"),
    "copyright": ("Atteinte au droit d’auteur", "Copyright infringement"),
    "spam": ("Spam", "Spam"),
    "rules": ("Cela enfreint une règle de ce serveur", "It breaks a rule of this server"),
    "other": ("Autre chose", "Something else"),
}

ACTION_WORDS: dict[str, tuple[str, str]] = {
    "none": (
        "Aucune mesure\u00a0: le contenu reste tel quel",
        "No action: the content stays as it is",
    ),
    "label": (
        "Une étiquette ou un avertissement sur le message",
        "A label or content warning on the post",
    ),
    "label_account": (
        "Une étiquette sur le compte (compte automatisé, ou membre d’un groupe coordonné)",
        "A label on the account (automated, or part of a coordinated group)",
    ),
    "demote": (
        "Exclu des recommandations et des tendances",
        "Left out of recommendations and trends",
    ),
    "restrict_interactions": (
        "Réponses, partages, citations et favoris restreints",
        "Replies, boosts, quotes and favourites restricted",
    ),
    "age_restrict": (
        "Visible seulement par les adultes connectés",
        "Shown to signed-in adults only",
    ),
    "territorial_restrict": ("Bloqué dans certains pays", "Blocked in some countries"),
    "disable": ("Accès au message désactivé", "Access to the post disabled"),
    "remove": ("Message retiré", "Post removed"),
    "warn": ("Compte averti", "Account warned"),
    "suspend": ("Compte suspendu pour un temps", "Account suspended for a time"),
    "terminate": ("Compte fermé", "Account closed"),
}

_MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WIDTH = 72
RULE = "-" * WIDTH


def _when_fr(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    day = "1er" if m.day == 1 else str(m.day)
    return (
        f"{day}\u00a0{_MONTHS_FR[m.month - 1]} {m.year} à {m.hour}\u00a0h\u00a0{m.minute:02d} (UTC)"
    )


def _when_en(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m.day} {_MONTHS_EN[m.month - 1]} {m.year} at {m.hour:02d}:{m.minute:02d} (UTC)"


# Bidirectional overrides and isolates could make a line read differently from what it says.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _text(text: str) -> str:
    """Free text for the body: line breaks normalized, control characters dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n")
    return "".join(
        c for c in text if c in "\n\t" or (unicodedata.category(c) != "Cc" and c not in _BIDI)
    ).strip()


def _line(text: str) -> str:
    """Free text on one line."""
    return " ".join(_text(text).split())


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    """Paragraphs wrapped at WIDTH (never inside a word or a link)."""
    lines: list[str] = []
    lead = indent if first is None else first
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            if lines:
                lines.append("")
            continue
        lines.extend(
            textwrap.wrap(
                paragraph,
                WIDTH,
                initial_indent=lead,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
        lead = indent
    return lines


def _quote(text: str, indent: str) -> list[str]:
    return _wrap(_text(text), indent + "  ")


def _item_fr(item: Reported) -> str:
    if item.kind == "status":
        return f"Une publication de @{_line(item.acct)}\u00a0: {item.url}"
    if item.kind == "account":
        return f"Le compte @{_line(item.acct)}\u00a0: {item.url}"
    return "Un élément qui n’existe plus"


def _item_en(item: Reported) -> str:
    if item.kind == "status":
        return f"A post by @{_line(item.acct)}: {item.url}"
    if item.kind == "account":
        return f"The account @{_line(item.acct)}: {item.url}"
    return "An item that no longer exists"


def _message(
    settings: Settings, to: str, subject: str, body: list[str], now: datetime
) -> EmailMessage:
    address = recipient(to)
    if address is None:
        raise ValueError("not an e-mail address")
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = address
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid("parvis", domain=host(settings).strip("[]") or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content("\n".join(body).rstrip() + "\n", cte="quoted-printable")
    message["Content-Language"] = "fr, en"  # after set_content, which drops Content-* headers
    return message


def _signature(settings: Settings) -> list[str]:
    return ["-- ", f"{_line(settings.title)} · {settings.base_url}"]


# -- the acknowledgement of receipt ---------------------------------------------------------


def receipt(
    settings: Settings,
    notice: NoticeRow,
    items: Sequence[Reported],
    key: str,
    now: datetime,
) -> EmailMessage:
    """The acknowledgement of receipt (DSA art. 16(4)), with the private follow-up link."""
    link = f"{settings.base_url}/notices/{key}"
    received = notice.acknowledged_at or notice.created_at
    fr_offence, en_offence = OFFENCE_WORDS.get(notice.category, (notice.category,) * 2)
    title = _line(settings.title)
    body = ["(English below)", "", "Bonjour,", ""]
    body += _wrap(
        f"Votre signalement nº\u00a0{notice.id} a bien été reçu le {_when_fr(received)}. "
        "Ce message en est l’accusé de réception."
    )
    body += ["", *_wrap(f"Ce que vous avez signalé\u00a0: {fr_offence}")]
    for item in items:
        body += _wrap(_item_fr(item), "    ", "  • ")
    if notice.due_at is not None:
        body += [
            "",
            *_wrap(f"Les modérateurs visent une décision d’ici le {_when_fr(notice.due_at)}."),
        ]
    body += ["", "Votre lien de suivi privé\u00a0:", link, ""]
    body += _wrap(
        "Gardez-le\u00a0: il montre la décision et permet de la contester. Ne le partagez "
        "pas\u00a0: il ouvre votre signalement à quiconque l’a. Nous ne le conservons pas et "
        "ne pourrons pas vous le renvoyer."
    )
    body += ["", *_wrap("Vous recevrez un autre message quand la décision sera prise.")]
    body += ["", RULE, "", "Hello,", ""]
    body += _wrap(
        f"Your report no. {notice.id} was received on {_when_en(received)}. "
        "This message is its acknowledgement of receipt."
    )
    body += ["", *_wrap(f"What you reported: {en_offence}")]
    for item in items:
        body += _wrap(_item_en(item), "    ", "  • ")
    if notice.due_at is not None:
        body += ["", *_wrap(f"The moderators aim to decide by {_when_en(notice.due_at)}.")]
    body += ["", "Your private follow-up link:", link, ""]
    body += _wrap(
        "Keep it: it shows the decision and lets you contest it. Do not share it: it opens "
        "your report to whoever has it. We do not keep it and cannot send it again."
    )
    body += ["", *_wrap("You will get another message when the decision is taken.")]
    body += [
        "",
        *_wrap(
            f"Vous recevez ce message parce que votre adresse a été donnée dans un signalement à "
            f"{title}. / You get this message because your address was given in a report to "
            f"{title}."
        ),
    ]
    body += ["", *_signature(settings)]
    subject = f"Signalement nº\u00a0{notice.id} reçu / Report no. {notice.id} received"
    return _message(settings, notice.reporter_email, subject, body, now)


# -- the decision ---------------------------------------------------------------------------


def _ground_fr(s: Statement) -> str:
    if s.ground == "law":
        return f"la loi — {_line(s.legal_ground)}"
    if s.ground == "rule" and s.rule_text:
        text = _line(s.rule_text)
        return f"la règle nº\u00a0{_line(s.rule_id)} de ce serveur\u00a0: «\u00a0{text}\u00a0»"
    if s.ground == "rule":
        return f"la règle nº\u00a0{_line(s.rule_id)} de ce serveur"
    return ""


def _ground_en(s: Statement) -> str:
    if s.ground == "law":
        return f"the law — {_line(s.legal_ground)}"
    if s.ground == "rule" and s.rule_text:
        return f"rule {_line(s.rule_id)} of this server: “{_line(s.rule_text)}”"
    if s.ground == "rule":
        return f"rule {_line(s.rule_id)} of this server"
    return ""


INDENT = "    "  # under "NN. "


def _outcome_fr(number: int, o: Outcome) -> list[str]:
    s = o.statement
    words = ACTION_WORDS.get(s.action, (s.action, s.action))[0]
    restricted = vocab.ACTIONS[s.action].restriction if s.action in vocab.ACTIONS else False
    lines = _wrap(_item_fr(o.item), INDENT, f"{number:>2}. ")
    if s.action == "none":
        lines += _wrap(f"Décision\u00a0: {words}. Aucune restriction.", INDENT)
        lines += _wrap(
            "Les modérateurs ont examiné le contenu et ne l’ont trouvé ni illégal ni contraire "
            "aux règles de ce serveur.",
            INDENT,
        )
    else:
        until = f"jusqu’au {_when_fr(s.ends_at)}" if s.ends_at else "sans date de fin"
        state = "Restriction\u00a0: oui" if restricted else "Aucune restriction"
        lines += _wrap(f"Décision\u00a0: {words} ({until}). {state}.", INDENT)
        if s.territorial_scope:
            lines += _wrap(f"Pays concernés\u00a0: {', '.join(s.territorial_scope)}.", INDENT)
        lines += _wrap(f"Motif\u00a0: {_ground_fr(s)}", INDENT)
    if _text(s.explanation):
        lines += _wrap("Explication des modérateurs\u00a0:", INDENT)
        lines += _quote(s.explanation, INDENT)
    lines += _wrap(
        f"Décidé le {_when_fr(o.decided_at)} par une personne\u00a0; aucun moyen automatisé "
        f"n’a été utilisé. Appel possible jusqu’au {_when_fr(o.appeal_until)}.",
        INDENT,
    )
    if s.reversed:
        lines += _wrap("Cette décision a depuis été annulée en appel.", INDENT)
    return lines


def _outcome_en(number: int, o: Outcome) -> list[str]:
    s = o.statement
    words = ACTION_WORDS.get(s.action, (s.action, s.action))[1]
    restricted = vocab.ACTIONS[s.action].restriction if s.action in vocab.ACTIONS else False
    lines = _wrap(_item_en(o.item), INDENT, f"{number:>2}. ")
    if s.action == "none":
        lines += _wrap(f"Decision: {words}. Nothing was restricted.", INDENT)
        lines += _wrap(
            "The moderators reviewed the content and found it neither illegal nor against "
            "the rules of this server.",
            INDENT,
        )
    else:
        until = f"until {_when_en(s.ends_at)}" if s.ends_at else "with no end date"
        state = "Restricted: yes" if restricted else "Nothing was restricted"
        lines += _wrap(f"Decision: {words} ({until}). {state}.", INDENT)
        if s.territorial_scope:
            lines += _wrap(f"Countries: {', '.join(s.territorial_scope)}.", INDENT)
        lines += _wrap(f"Ground: {_ground_en(s)}", INDENT)
    if _text(s.explanation):
        lines += _wrap("The moderators' explanation:", INDENT)
        lines += _quote(s.explanation, INDENT)
    lines += _wrap(
        f"Decided on {_when_en(o.decided_at)} by a person; no automated means were used. "
        f"You can appeal until {_when_en(o.appeal_until)}.",
        INDENT,
    )
    if s.reversed:
        lines += _wrap("This decision has since been reversed on appeal.", INDENT)
    return lines


def _bodies(settings: Settings) -> list[str]:
    lines: list[str] = []
    for body in settings.dispute_bodies:
        lines += _wrap(_line(body), "      ", "    – ")
    return lines


def decision(
    settings: Settings, notice: NoticeRow, outcomes: Sequence[Outcome], now: datetime
) -> EmailMessage:
    """The decision on a notice (DSA art. 16(5)) and how to contest it (arts. 20, 21, courts)."""
    base = settings.base_url
    own = f"{base}/settings/reports/{notice.id}" if notice.reporter_account_id else ""
    body = ["(English below)", "", "Bonjour,", ""]
    body += _wrap(
        f"Les modérateurs ont décidé de la suite donnée à votre signalement nº\u00a0{notice.id}, "
        f"reçu le {_when_fr(notice.acknowledged_at or notice.created_at)}."
    )
    body.append("")
    for number, outcome in enumerate(outcomes, 1):
        body += [*_outcome_fr(number, outcome), ""]
    body += ["Comment suivre et contester cette décision", ""]
    body += _wrap(
        f"Ouvrez le lien de suivi privé de l’accusé de réception ({base}/notices/…)\u00a0: "
        "il montre la décision et permet de la contester. Nous ne conservons pas ce lien "
        "(seulement son empreinte)\u00a0: utilisez celui de l’e-mail d’accusé de réception que "
        "nous vous avons envoyé, ou de la page affichée après votre signalement."
    )
    if own:
        body += ["", *_wrap(f"Connecté à votre compte, vous le retrouvez aussi ici\xa0: {own}")]
    body.append("")
    body += _wrap(
        "Faire appel, gratuitement et avec vos propres mots, sur ce lien, dans les six mois "
        "(les dates sont indiquées ci-dessus)\u00a0: un modérateur qui n’a pas pris la "
        "décision l’examinera.",
        "    ",
        "  • ",
    )
    body += _wrap(
        "Saisir un organisme de règlement extrajudiciaire des litiges certifié (article 21 "
        "du règlement sur les services numériques), gratuit ou peu coûteux pour vous\u00a0:",
        "    ",
        "  • ",
    )
    body += _bodies(settings)
    body += _wrap(
        "Saisir la justice\u00a0: vous pouvez vous adresser à un juge à tout moment (en "
        "France, le tribunal judiciaire), que vous ayez fait appel ici ou non.",
        "    ",
        "  • ",
    )
    body += ["", RULE, "", "Hello,", ""]
    body += _wrap(
        f"The moderators have decided on your report no. {notice.id}, received on "
        f"{_when_en(notice.acknowledged_at or notice.created_at)}."
    )
    body.append("")
    for number, outcome in enumerate(outcomes, 1):
        body += [*_outcome_en(number, outcome), ""]
    body += ["How to follow and contest this decision", ""]
    body += _wrap(
        f"Open the private follow-up link of the acknowledgement of receipt ({base}/notices/…): "
        "it shows the decision and lets you contest it. We do not keep that link (only a "
        "hash of it): use the one in the receipt e-mail we sent you, or on the page shown "
        "after you reported."
    )
    if own:
        body += ["", *_wrap(f"Signed in to your account, you also find it here: {own}")]
    body.append("")
    body += _wrap(
        "Appeal, free of charge and in your own words, on that link within six months (the "
        "dates are above): a moderator who did not take the decision will review it.",
        "    ",
        "  • ",
    )
    body += _wrap(
        "Turn to an out-of-court dispute settlement body certified under Article 21 of the "
        "Digital Services Act, free or at low cost for you:",
        "    ",
        "  • ",
    )
    body += _bodies(settings)
    body += _wrap(
        "Go to court: you can take the matter to a judge at any time (in France, the "
        "tribunal judiciaire), whether or not you appealed here.",
        "    ",
        "  • ",
    )
    body += ["", *_signature(settings)]
    subject = f"Signalement nº\u00a0{notice.id}\u00a0: décision / Report no. {notice.id}: decision"
    return _message(settings, notice.reporter_email, subject, body, now)


# -- from the database ----------------------------------------------------------------------


def _reported(work: Work, items: Sequence[NoticeItemRow]) -> list[Reported]:
    base = work.settings.base_url
    found = work.store.statuses.load(i.status_id for i in items if i.status_id is not None)
    accounts = work.store.accounts.get_many(i.account_id for i in items if i.account_id)
    out = []
    for item in items:
        account = accounts.get(item.account_id) if item.account_id is not None else None
        if account is None:
            out.append(Reported("gone", "", ""))
        elif item.status_id is not None:
            status = found.get(item.status_id)
            url = (status.url if status else None) or f"{base}/@{account.acct}/{item.status_id}"
            out.append(Reported("status", account.acct, url))
        else:
            out.append(Reported("account", account.acct, account.url or f"{base}/@{account.acct}"))
    return out


def _appeal_until(d: DecisionRow) -> datetime:
    # As appeals.deadline (not imported: appeals imports notices, which imports this module).
    return (d.notified_at or d.created_at) + vocab.APPEAL_WINDOW


def receipt_for(work: Work, notice_id: int, key: str) -> EmailMessage | None:
    """The receipt of a notice, or None when there is no one to send it to."""
    notice = work.store.notices.get(notice_id)
    if notice is None or not notice.reporter_email or recipient(notice.reporter_email) is None:
        return None
    items = _reported(work, work.store.notices.items(notice_id))
    return receipt(work.settings, notice, items, key, work.now())


def decision_for(work: Work, notice_id: int) -> EmailMessage | None:
    """The decision on a notice, or None while undecided or when there is no one to tell."""
    notice = work.store.notices.get(notice_id)
    if notice is None or notice.decided_at is None or not notice.reporter_email:
        return None
    if recipient(notice.reporter_email) is None:
        return None
    rows = [i for i in work.store.notices.items(notice_id) if i.decision_id is not None]
    outcomes = []
    for item, reported in zip(rows, _reported(work, rows), strict=True):
        assert item.decision_id is not None
        row = work.store.decisions.get(item.decision_id)
        if row is None:
            continue
        statement = statements.explain(work, row.id)
        outcomes.append(Outcome(reported, statement, row.created_at, _appeal_until(row)))
    if not outcomes:
        return None
    return decision(work.settings, notice, outcomes, work.now())
