"""A fast, deterministic generator of realistic synthetic networks, written straight to tables.

Used by `parvis seed` and the benchmarks (bench/). It bypasses the services on purpose: the
services create one row at a time, and the "M" tier (10,000 accounts, 1M posts, ~1M follows,
~8M home-feed entries) must be built in minutes. What it writes is what the services would have
written: the same ids (time-ordered, `id_for_time`), the same rendered HTML, consistent counters,
and home feeds holding exactly what fan-out on write would have put there (capped).

The model (parameters, not sourced facts; see docs of the benchmark suite):

- Follow out-degree is lognormal (median 40, mean 100 by default), capped at 5,000. Targets are
  picked by preferential attachment (Price's model: with probability 1/1.1 a target is drawn in
  proportion to the followers it already has, otherwise uniformly), so the in-degree follows a
  power law with exponent ~2.1.
- Planted celebrities: 1 account followed by 50% of the users, 10 by 10% and 100 by 1%; plus
  one account named `bench` with exactly `celebrity_followers` followers (the fan-out benchmark
  posts from it). Planted accounts get no organic followers, so those counts are exact.
- Posts: `accounts * posts_per_account` in all, spread over the last `days` days; activity per
  account is lognormal. 30% replies (mostly to followees), 15% boosts (rows with reblog_of_id),
  the rest original posts in English or French, some with hashtags; 80% public, 12% unlisted,
  8% followers-only.

Deterministic for a given `seed` and `now` (the end of the posting window).

Why one module of ~1,000 lines: the planning (graph, posts, texts) and the bulk writing share
one set of in-memory arrays and one ordering of ids; splitting them would mean passing those
arrays across modules for no reader's benefit. Sections are marked below.
"""

from __future__ import annotations

import math
import random
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from heapq import merge
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from parvis.domain.ids import id_for_time
from parvis.storage.bulk import insert_rows
from parvis.storage.database import Database
from parvis.storage.tables import (
    accounts,
    follows,
    home_feed,
    status_mentions,
    status_tags,
    statuses,
    tags,
    users,
)

# Bump when the generated data changes for the same parameters (benchmark caches key on it).
GENERATOR_VERSION = 1

# SQLite page cache for the seeding connections: the indexes of a 1M-post network do not fit
# in the default 64 MiB, and inserting into them at random then thrashes. Dropped after seeding.
SEED_CACHE_KIB = 1024 * 1024

Progress = Callable[[str, int, int], None]  # (phase, rows done in this call, phase total)

ORIGINAL, REPLY, BOOST = 0, 1, 2
VISIBILITIES = ("public", "unlisted", "private")
PUBLIC, UNLISTED, PRIVATE = 0, 1, 2

# Planted celebrities: (how many accounts, share of all users following each).
CELEBRITY_TIERS = ((1, 0.50), (10, 0.10), (100, 0.01))


class SeedError(Exception):
    """The database cannot be seeded as asked (not empty, bad parameters)."""


@dataclass(frozen=True)
class SeedParams:
    accounts: int = 2000
    posts_per_account: int = 20
    follows_median: float = 40.0
    follows_mean: float | None = None  # default: 2.5 x the median (median 40 -> mean 100)
    follows_cap: int = 5000
    celebrity_followers: int = 5000
    seed: int = 1
    days: int = 30
    reply_share: float = 0.30
    boost_share: float = 0.15
    feed_cap: int = 800
    base_url: str = "http://localhost:8000"
    bench_username: str = "bench"
    # End of the posting window; ids depend on it. Default: now, rounded down to the hour.
    now: datetime | None = None
    batch_rows: int = 10_000  # rows per INSERT executemany
    transaction_rows: int = 50_000  # rows per transaction (bounded, so readers and WAL cope)

    def mean(self) -> float:
        return self.follows_mean if self.follows_mean is not None else 2.5 * self.follows_median


@dataclass
class SeedReport:
    accounts: int = 0
    follows: int = 0
    statuses: int = 0
    originals: int = 0
    replies: int = 0
    boosts: int = 0
    private: int = 0
    tags: int = 0
    tagged: int = 0
    mentions: int = 0
    feed_rows: int = 0
    feeds_capped: int = 0
    bench_account_id: int = 0
    bench_followers: int = 0
    celebrities: list[tuple[str, int]] = field(default_factory=list)  # (username, followers)
    max_followers: int = 0
    median_following: float = 0.0
    mean_following: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Every row written (users count with their accounts)."""
        return (
            2 * self.accounts
            + self.follows
            + self.statuses
            + self.tags
            + self.tagged
            + self.mentions
            + self.feed_rows
        )

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# --- vocabulary -----------------------------------------------------------------------------


def _words(spaced: str) -> tuple[str, ...]:
    return tuple(spaced.split())


FIRST_NAMES = _words(
    "camille lea manon chloe ines jade louise alice lina emma zoe julia clara sarah anna "
    "lucas hugo louis jules gabriel arthur adam raphael nathan paul leo tom noah ethan theo "
    "olivia amelia ava mia isla grace ella freya lily sophie oliver george harry jack jacob "
    "charlie thomas oscar william james henry samir yasmine karim nadia malik fatou aissa "
    "mathis maxime antoine baptiste margaux elise agathe romane celine nicolas"
)
LAST_NAMES = _words(
    "martin bernard dubois thomas robert richard petit durand leroy moreau simon laurent "
    "lefebvre michel garcia david bertrand roux vincent fournier morel girard andre mercier "
    "smith jones taylor brown williams wilson johnson davies robinson wright thompson evans "
    "walker white roberts green hall wood jackson clarke benali haddad diallo traore nguyen"
)

WORDS_EN = _words(
    "the a of and to in is it that for on with as was at by this be from or have not are "
    "but what all we when your can there an which their if do will each about how up out "
    "them then she many some so these would other into has more her two like him see time "
    "could no make than first been its who now people my made over did down only way find "
    "use may water long little very after words called just where most know get through "
    "back much before go good new write our used me man day too any same right look think "
    "also around another came come work three word must because does part even place well "
    "such here take why things help put years different away again off went old number great "
    "tell men say small every found still between name should home big give air line set own "
    "under read last never us left end along while might next sound below saw something "
    "thought both few those always looked show large often together asked house world going "
    "want school important until form food keep children feet land side without boy once "
    "animals life enough took sometimes four head above kind began almost live page got earth "
    "need far hand high year mother light parts country father let night following picture "
    "being study second eyes soon times story boys since white days paper hard near sentence "
    "better best across during today others however sure means knew coffee train weather "
    "garden city music book movie morning weekend friends project code server community "
    "open source photo walk river bike market lunch dinner rain sunny window street"
)
WORDS_FR = _words(
    "le la les un une des de du et en est que qui dans pour pas sur au avec il elle ce se "
    "ne plus par son sa ses on mais ou comme nous vous ils tout faire bien aussi leur sans "
    "sous deux peu fait dit encore temps jour vie monde homme femme enfant ville maison main "
    "chose rien quand alors toujours déjà ici très trop beaucoup après avant depuis entre "
    "chez vers contre pendant jamais souvent encore premier dernier grand petit nouveau "
    "vieux beau bon mauvais autre même seul vrai belle heure année semaine soir matin nuit "
    "pays terre eau feu air route rue place porte fenêtre table livre film musique café "
    "pain fromage marché jardin vélo train gare quartier école travail projet code serveur "
    "communauté libre logiciel photo soleil pluie neige printemps été automne hiver mer "
    "montagne forêt rivière lumière couleur voix idée question réponse raison moment fois "
    "façon sorte partie histoire voyage ami amie famille repas dimanche lundi vacances "
    "aimer voir venir prendre savoir pouvoir vouloir devoir aller trouver donner parler "
    "mettre passer regarder penser croire attendre sortir partir lire écrire dormir manger "
    "boire marcher courir chanter jouer ouvrir fermer commencer finir rester tomber garder"
)
OPENERS_EN = (
    "Honestly,",
    "Today",
    "I think",
    "Just saw",
    "Reminder:",
    "Fun fact:",
    "Hot take:",
    "Does anyone know",
    "Finally",
    "Quick question:",
    "Good morning!",
    "So",
)
OPENERS_FR = (
    "Bon,",
    "Aujourd'hui",
    "Je pense que",
    "Petite question :",
    "Rappel :",
    "Franchement,",
    "Enfin",
    "Bonjour à tous !",
    "Alors",
    "Vu ce matin :",
    "Bref,",
)
TAGS = _words(
    "fediverse python opensource paris lyon marseille photo photography cinema musique music "
    "velo cycling cuisine cooking books lecture linux privacy climat climate art dessin "
    "science astronomy jardinage gardening football rugby jeuxvideo gaming mastodon parvis "
    "webdev rust javascript coffee café bretagne montagne hiking running cats chats dogs "
    "bonjour goodmorning sunday dimanche memes news actualité politique history histoire "
    "design typography accessibility a11y opendata socialmedia foss selfhosting homelab "
    "travel voyage nature birds oiseaux sketch poetry poésie jazz vinyl podcast radio"
)

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


class _Writer:
    """Buffers rows per table and writes them in bounded transactions, parents first."""

    ORDER = (accounts, users, follows, tags, statuses, status_mentions, status_tags, home_feed)

    def __init__(self, db: Database, params: SeedParams, progress: Progress | None) -> None:
        self.db = db
        self.batch = max(100, params.batch_rows)
        self.txn_rows = max(self.batch, params.transaction_rows)
        self.progress = progress
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in self.ORDER}
        self.columns: dict[str, list[str]] = {}
        self.pending = 0
        self.phase_of: dict[str, tuple[str, int]] = {}

    def set_columns(self, table: Table, names: Sequence[str]) -> None:
        self.columns[table.name] = list(names)

    def add(self, table: Table, row: tuple[Any, ...]) -> None:
        self.buffers[table.name].append(row)
        self.pending += 1
        if self.pending >= self.txn_rows:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.db.write() as conn:
            if self.db.is_sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SEED_CACHE_KIB}")
            for table in self.ORDER:
                rows = self.buffers[table.name]
                if not rows:
                    continue
                names = self.columns[table.name]
                for start in range(0, len(rows), self.batch):
                    insert_rows(conn, table, names, rows[start : start + self.batch])
        for table in self.ORDER:
            rows = self.buffers[table.name]
            if rows and self.progress and table.name in self.phase_of:
                phase, total = self.phase_of[table.name]
                self.progress(phase, len(rows), total)
            rows.clear()
        self.pending = 0


# --- the plan -------------------------------------------------------------------------------


def _lognormal_params(median: float, mean: float) -> tuple[float, float]:
    mu = math.log(max(median, 1e-9))
    sigma = math.sqrt(2 * math.log(mean / median)) if mean > median else 0.0
    return mu, sigma


def _plan_accounts(
    rng: random.Random, params: SeedParams, end: datetime
) -> tuple[list[str], list[str], list[str], list[datetime], list[int]]:
    n = params.accounts
    usernames, display = [], []
    for i in range(n):
        if i == 0:
            usernames.append(params.bench_username)
            display.append("Benchmark account")
            continue
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        usernames.append(f"{first}_{last}{i}"[:30])
        display.append(f"{first.capitalize()} {last.capitalize()}")
    languages = ["fr" if rng.random() < 0.45 else "en" for _ in range(n)]
    # Accounts were created during the two years before the posting window.
    window_start = end - timedelta(days=params.days)
    span_ms = 730 * 86_400_000
    offsets = sorted(rng.randrange(span_ms) for _ in range(n))
    times, ids, last_id = [], [], 0
    first_ms = int((window_start - timedelta(days=731)).timestamp() * 1000)
    for off in offsets:
        moment = datetime.fromtimestamp((first_ms + off) / 1000, tz=UTC)
        ident = max(id_for_time(moment), last_id + 1)
        times.append(moment)
        ids.append(ident)
        last_id = ident
    return usernames, display, languages, times, ids


def _plan_follows(
    rng: random.Random, params: SeedParams, progress: Progress | None
) -> tuple[list[set[int]], int, list[int]]:
    n = params.accounts
    following: list[set[int]] = [set() for _ in range(n)]
    bench = 0
    celebrities: list[int] = []
    planted: list[tuple[int, int]] = []  # (account, followers wanted)
    if n > 1:
        planted.append((bench, min(params.celebrity_followers, n - 1)))
    index = 1
    for count, share in CELEBRITY_TIERS:
        for _ in range(count):
            if index >= n:
                break
            planted.append((index, min(n - 1, max(1, round(share * n)))))
            celebrities.append(index)
            index += 1
    reserved = {a for a, _ in planted}
    eligible = [a for a in range(n) if a not in reserved]

    # Organic edges: lognormal out-degree, Price's model for the targets.
    mu, sigma = _lognormal_params(params.follows_median, params.mean())
    limit = min(params.follows_cap, len(eligible) - 1) if eligible else 0
    degrees = [
        min(limit, round(rng.lognormvariate(mu, sigma))) if limit > 0 else 0 for _ in range(n)
    ]
    slots = [a for a in range(n) for _ in range(degrees[a])]
    rng.shuffle(slots)
    total = len(slots) + sum(w for _, w in planted)
    pool: list[int] = []
    attach = 1 / 1.1
    done = 0
    for follower in slots:
        mine = following[follower]
        for attempt in range(12):
            if pool and attempt < 4 and rng.random() < attach:
                target = pool[rng.randrange(len(pool))]
            else:
                target = eligible[rng.randrange(len(eligible))]
            if target != follower and target not in mine:
                mine.add(target)
                pool.append(target)
                break
        done += 1
        if progress and done % 50_000 == 0:
            progress("follow graph", 50_000, total)
    if progress:
        progress("follow graph", done % 50_000, total)

    # Planted accounts: exactly the wanted number of followers, drawn uniformly.
    for account, wanted in planted:
        others = [a for a in range(n) if a != account]
        for follower in rng.sample(others, wanted):
            following[follower].add(account)
        if progress:
            progress("follow graph", wanted, total)
    return following, bench, celebrities


def _plan_posts(
    rng: random.Random,
    params: SeedParams,
    following: list[set[int]],
    end: datetime,
    progress: Progress | None,
) -> tuple[array[int], bytearray, array[int], bytearray, array[int], list[list[int]]]:
    n = params.accounts
    total = n * params.posts_per_account
    # Activity per account: lognormal weights, largest-remainder allocation of the total.
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(n)]
    scale = total / sum(weights) if weights else 0.0
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    short = total - sum(counts)
    for a in sorted(range(n), key=lambda a: shares[a] - counts[a], reverse=True)[:short]:
        counts[a] += 1
    sequence = [a for a in range(n) for _ in range(counts[a])]
    rng.shuffle(sequence)

    author = array("q", sequence)
    kind = bytearray(total)
    ref = array("q", [-1]) * total
    vis = bytearray(total)
    posts_by: list[list[int]] = [[] for _ in range(n)]
    writable_by: list[list[int]] = [[] for _ in range(n)]  # originals and replies
    followees = [list(f) for f in following]
    ring_size = 4096
    ring: list[int] = []  # recent public/unlisted non-boost posts
    ring_pos = 0
    boosted: set[tuple[int, int]] = set()
    reply_cut = params.boost_share + params.reply_share
    for i in range(total):
        a = author[i]
        roll = rng.random()
        made = ORIGINAL
        if roll < params.boost_share:
            target = _pick_boost(rng, a, followees[a], writable_by, vis, ring, author)
            if target >= 0 and (a, target) not in boosted:
                boosted.add((a, target))
                made, ref[i], vis[i] = BOOST, target, PUBLIC
        elif roll < reply_cut:
            parent = _pick_parent(rng, followees[a], writable_by, ring)
            if parent >= 0:
                made, ref[i] = REPLY, parent
                vis[i] = (
                    PRIVATE
                    if vis[parent] == PRIVATE
                    else (UNLISTED if rng.random() < 0.15 else PUBLIC)
                )
        if made == ORIGINAL:
            v = rng.random()
            vis[i] = PUBLIC if v < 0.80 else (UNLISTED if v < 0.92 else PRIVATE)
        kind[i] = made
        posts_by[a].append(i)
        if made != BOOST:
            writable_by[a].append(i)
            if vis[i] != PRIVATE:
                if len(ring) < ring_size:
                    ring.append(i)
                else:
                    ring[ring_pos] = i
                    ring_pos = (ring_pos + 1) % ring_size
        if progress and (i + 1) % 100_000 == 0:
            progress("post plan", 100_000, total)
    if progress:
        progress("post plan", total % 100_000, total)

    # Times: evenly over the window with jitter, strictly increasing ids.
    end_ms = int(end.timestamp() * 1000)
    start_ms = end_ms - params.days * 86_400_000
    step = (end_ms - start_ms) / max(total, 1)
    ids = array("q", [0]) * total
    last = 0
    for i in range(total):
        ms = start_ms + int((i + rng.random() * 0.9) * step)
        ident = max((ms << 16) | rng.randrange(64), last + 1)
        ids[i] = ident
        last = ident
    return author, kind, ref, vis, ids, posts_by


def _pick_parent(
    rng: random.Random, followees: list[int], writable_by: list[list[int]], ring: list[int]
) -> int:
    if followees and rng.random() < 0.7:
        for _ in range(3):
            candidates = writable_by[followees[rng.randrange(len(followees))]]
            if candidates:
                return candidates[-1 - rng.randrange(min(20, len(candidates)))]
    return ring[rng.randrange(len(ring))] if ring else -1


def _pick_boost(
    rng: random.Random,
    booster: int,
    followees: list[int],
    writable_by: list[list[int]],
    vis: bytearray,
    ring: list[int],
    author: array[int],
) -> int:
    for _ in range(3):
        if followees and rng.random() < 0.8:
            candidates = writable_by[followees[rng.randrange(len(followees))]]
            if not candidates:
                continue
            target = candidates[-1 - rng.randrange(min(20, len(candidates)))]
        elif ring:
            target = ring[rng.randrange(len(ring))]
        else:
            return -1
        if vis[target] != PRIVATE and author[target] != booster:
            return target
    return -1


# --- text -----------------------------------------------------------------------------------


class _Texts:
    def __init__(self, rng: random.Random, base_url: str) -> None:
        self.rng = rng
        self.base = base_url
        # Zipf-like popularity for tags.
        self.tag_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(TAGS))]
        self.tag_cum: list[float] = []
        acc = 0.0
        for w in self.tag_weights:
            acc += w
            self.tag_cum.append(acc)

    def _tag(self) -> str:
        from bisect import bisect_left

        x = self.rng.random() * self.tag_cum[-1]
        return TAGS[min(bisect_left(self.tag_cum, x), len(TAGS) - 1)]

    def _sentence(self, words: Sequence[str], openers: Sequence[str]) -> str:
        rng = self.rng
        length = 4 + int(rng.expovariate(1 / 8))
        chosen = [words[int(len(words) * rng.random() ** 1.6)] for _ in range(min(length, 30))]
        if rng.random() < 0.2:
            chosen.insert(0, rng.choice(openers))
        else:
            chosen[0] = chosen[0].capitalize()
        end = "." if rng.random() < 0.75 else rng.choice(("!", "?", "…", " :)"))
        return " ".join(chosen) + end

    def post(
        self, language: str, mention: str | None, with_tags: bool
    ) -> tuple[str, str, list[str]]:
        """(text, html, tags) for a post, rendered as parvis.domain.content renders it."""
        rng = self.rng
        words, openers = (WORDS_FR, OPENERS_FR) if language == "fr" else (WORDS_EN, OPENERS_EN)
        sentences = 1 + min(5, int(rng.expovariate(1 / 1.3)))
        body = " ".join(self._sentence(words, openers) for _ in range(sentences))[:440]
        text_parts: list[str] = []
        html_parts: list[str] = []
        if mention is not None:
            text_parts.append(f"@{mention} ")
            html_parts.append(
                f'<span class="h-card" translate="no"><a href="{self.base}/@{mention}"'
                f' class="u-url mention">@<span>{mention}</span></a></span> '
            )
        text_parts.append(body)
        html_parts.append(_escape(body))
        chosen: list[str] = []
        if with_tags:
            for _ in range(1 + (rng.random() < 0.35)):
                tag = self._tag()
                if tag not in chosen:
                    chosen.append(tag)
            for tag in chosen:
                text_parts.append(f" #{tag}")
                html_parts.append(
                    f' <a href="{self.base}/tags/{tag}" class="mention hashtag"'
                    f' rel="tag">#<span>{_escape(tag)}</span></a>'
                )
        return "".join(text_parts), "<p>" + "".join(html_parts) + "</p>", chosen


# --- the writer -----------------------------------------------------------------------------


def database_is_empty(db: Database) -> bool:
    with db.read() as conn:
        return not conn.execute(select(func.count()).select_from(accounts)).scalar()


def seed(
    db: Database, params: SeedParams, *, password_hash: str, progress: Progress | None = None
) -> SeedReport:
    """Build the network described by `params` in an empty, migrated database."""
    if params.accounts < 1 or params.posts_per_account < 0:
        raise SeedError("need at least one account and a non-negative number of posts")
    if not database_is_empty(db):
        raise SeedError("the database already has accounts: seed an empty database")
    report = SeedReport()
    clock = time.perf_counter()
    started = clock
    end = params.now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(params.seed)

    usernames, display, languages, account_times, account_ids = _plan_accounts(rng, params, end)
    following, bench, celebrities = _plan_follows(rng, params, progress)
    report.timings["follow graph"] = time.perf_counter() - clock
    clock = time.perf_counter()
    author, kind, ref, vis, post_ids, posts_by = _plan_posts(rng, params, following, end, progress)
    report.timings["post plan"] = time.perf_counter() - clock
    n, total = params.accounts, len(author)

    followers_count = [0] * n
    for f in following:
        for t in f:
            followers_count[t] += 1
    statuses_count = [len(p) for p in posts_by]
    replies_count = array("l", [0]) * total
    reblogs_count = array("l", [0]) * total
    for i in range(total):
        if kind[i] == REPLY:
            replies_count[ref[i]] += 1
        elif kind[i] == BOOST:
            reblogs_count[ref[i]] += 1

    writer = _Writer(db, params, progress)
    dropped = _drop_foreign_keys(db)
    try:
        base = params.base_url
        window_start = end - timedelta(days=params.days)

        # Accounts and users.
        clock = time.perf_counter()
        acc_cols = [
            "id",
            "username",
            "domain",
            "acct_key",
            "display_name",
            "note",
            "note_html",
            "fields_json",
            "locked",
            "bot",
            "discoverable",
            "indexable",
            "hide_collections",
            "uri",
            "url",
            "inbox_uri",
            "shared_inbox_uri",
            "statuses_count",
            "followers_count",
            "following_count",
            "last_status_at",
            "created_at",
            "updated_at",
        ]
        user_cols = [
            "account_id",
            "email",
            "password_hash",
            "role",
            "approved",
            "confirmed",
            "disabled",
            "locale",
            "default_visibility",
            "default_sensitive",
            "created_at",
        ]
        writer.set_columns(accounts, acc_cols)
        writer.set_columns(users, user_cols)
        writer.phase_of["accounts"] = ("accounts", n)
        note_rng = random.Random(params.seed + 7)
        last_post = [posts_by[a][-1] if posts_by[a] else -1 for a in range(n)]
        for a in range(n):
            name = usernames[a]
            note = ""
            if note_rng.random() < 0.6:
                words = WORDS_FR if languages[a] == "fr" else WORDS_EN
                note = " ".join(note_rng.choice(words) for _ in range(6)).capitalize() + "."
            last = last_post[a]
            last_at = (
                datetime.fromtimestamp((post_ids[last] >> 16) / 1000, tz=UTC) if last >= 0 else None
            )
            writer.add(
                accounts,
                (
                    account_ids[a],
                    name,
                    None,
                    f"{name.lower()}@",
                    display[a],
                    note,
                    f"<p>{_escape(note)}</p>" if note else "",
                    "[]",
                    False,
                    False,
                    True,
                    True,
                    False,
                    f"{base}/users/{name}",
                    f"{base}/@{name}",
                    f"{base}/users/{name}/inbox",
                    f"{base}/inbox",
                    statuses_count[a],
                    followers_count[a],
                    len(following[a]),
                    last_at,
                    account_times[a],
                    account_times[a],
                ),
            )
            writer.add(
                users,
                (
                    account_ids[a],
                    f"{name.lower()}@seed.parvis.invalid",
                    password_hash,
                    "user",
                    True,
                    True,
                    False,
                    languages[a],
                    "public",
                    False,
                    account_times[a],
                ),
            )
        writer.flush()
        report.timings["accounts"] = time.perf_counter() - clock

        # Follows: created before the posting window, time-ordered ids.
        clock = time.perf_counter()
        follow_cols = [
            "id",
            "account_id",
            "target_account_id",
            "created_at",
            "show_reblogs",
            "notify",
            "languages",
            "uri",
        ]
        writer.set_columns(follows, follow_cols)
        edges = []
        window_ms = int(window_start.timestamp() * 1000)
        for a in range(n):
            for t in sorted(following[a]):
                low = int(max(account_times[a], account_times[t]).timestamp() * 1000)
                edges.append((low + rng.randrange(max(1, window_ms - low)), a, t))
        edges.sort()
        writer.phase_of["follows"] = ("follows", len(edges))
        last_id = 0
        for ms, a, t in edges:
            ident = max(ms << 16, last_id + 1)
            last_id = ident
            moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
            writer.add(
                follows, (ident, account_ids[a], account_ids[t], moment, True, False, None, None)
            )
        writer.flush()
        report.follows = len(edges)
        del edges
        report.timings["follows"] = time.perf_counter() - clock

        # Statuses, with their mentions and tags.
        clock = time.perf_counter()
        status_cols = [
            "id",
            "account_id",
            "uri",
            "url",
            "local",
            "in_reply_to_id",
            "in_reply_to_account_id",
            "reblog_of_id",
            "thread_root_id",
            "text",
            "content",
            "spoiler_text",
            "sensitive",
            "visibility",
            "language",
            "application_id",
            "replies_count",
            "reblogs_count",
            "favourites_count",
            "created_at",
        ]
        writer.set_columns(statuses, status_cols)
        writer.set_columns(status_mentions, ["status_id", "account_id"])
        writer.set_columns(status_tags, ["status_id", "tag_id"])
        writer.set_columns(tags, ["id", "name", "display_name", "created_at"])
        writer.phase_of["statuses"] = ("statuses", total)
        texts = _Texts(random.Random(params.seed + 1), base)
        tag_ids: dict[str, int] = {}
        root = array("q", [-1]) * total
        for i in range(total):
            a = author[i]
            sid = post_ids[i]
            name = usernames[a]
            moment = datetime.fromtimestamp((sid >> 16) / 1000, tz=UTC)
            k = kind[i]
            if k == BOOST:
                original = ref[i]
                writer.add(
                    statuses,
                    (
                        sid,
                        account_ids[a],
                        f"{base}/users/{name}/statuses/{sid}/activity",
                        None,
                        True,
                        None,
                        None,
                        post_ids[original],
                        None,
                        "",
                        "",
                        "",
                        False,
                        "public",
                        None,
                        None,
                        0,
                        0,
                        0,
                        moment,
                    ),
                )
                report.boosts += 1
                continue
            parent = ref[i] if k == REPLY else -1
            mention = None
            reply_to = reply_account = thread = None
            if parent >= 0:
                parent_author = author[parent]
                reply_to = post_ids[parent]
                reply_account = account_ids[parent_author]
                root[i] = root[parent] if root[parent] >= 0 else parent
                thread = post_ids[root[i]]
                if parent_author != a:
                    mention = usernames[parent_author]
                report.replies += 1
            else:
                report.originals += 1
            with_tags = parent < 0 and texts.rng.random() < 0.2
            body, html, chosen = texts.post(languages[a], mention, with_tags)
            visibility = VISIBILITIES[vis[i]]
            if vis[i] == PRIVATE:
                report.private += 1
            writer.add(
                statuses,
                (
                    sid,
                    account_ids[a],
                    f"{base}/users/{name}/statuses/{sid}",
                    f"{base}/@{name}/{sid}",
                    True,
                    reply_to,
                    reply_account,
                    None,
                    thread,
                    body,
                    html,
                    "",
                    False,
                    visibility,
                    languages[a],
                    None,
                    replies_count[i],
                    reblogs_count[i],
                    0,
                    moment,
                ),
            )
            if mention is not None:
                writer.add(status_mentions, (sid, reply_account))
                report.mentions += 1
            for tag in chosen:
                tid = tag_ids.get(tag)
                if tid is None:
                    tid = id_for_time(window_start, len(tag_ids))
                    tag_ids[tag] = tid
                    writer.add(tags, (tid, tag, tag, window_start))
                writer.add(status_tags, (sid, tid))
                report.tagged += 1
        writer.flush()
        report.statuses = total
        report.tags = len(tag_ids)
        report.timings["statuses"] = time.perf_counter() - clock

        # Home feeds: what fan-out on write would hold, newest `feed_cap` entries per account.
        clock = time.perf_counter()
        writer.set_columns(home_feed, ["account_id", "status_id", "author_id"])
        cap = params.feed_cap
        for x in range(n):
            sources = [posts_by[x]] + [posts_by[f] for f in following[x]]
            entries: list[int] = []
            for i in merge(*(reversed(s) for s in sources if s), reverse=True):
                if kind[i] == BOOST and author[ref[i]] == x and author[i] != x:
                    continue  # fan-out skips boosts of the reader's own posts
                entries.append(i)
                if len(entries) >= cap:
                    report.feeds_capped += 1
                    break
            xid = account_ids[x]
            for i in reversed(entries):
                writer.add(home_feed, (xid, post_ids[i], account_ids[author[i]]))
            report.feed_rows += len(entries)
            if progress and (x + 1) % 250 == 0:
                progress("home feeds", 250, n)
        writer.flush()
        if progress:
            progress("home feeds", n % 250, n)
        report.timings["home feeds"] = time.perf_counter() - clock
    finally:
        clock = time.perf_counter()
        _restore_foreign_keys(db, dropped)
        if dropped:
            report.timings["foreign keys"] = time.perf_counter() - clock

    clock = time.perf_counter()
    analyze(db)
    if db.is_sqlite:
        db.engine.dispose()  # close the connections that hold the large seeding cache
    report.timings["analyze"] = time.perf_counter() - clock

    report.accounts = n
    report.bench_account_id = account_ids[bench]
    report.bench_followers = followers_count[bench]
    report.celebrities = [(usernames[c], followers_count[c]) for c in celebrities[:11]]
    report.max_followers = max(followers_count) if followers_count else 0
    outs = sorted(len(f) for f in following)
    report.median_following = float(outs[len(outs) // 2]) if outs else 0.0
    report.mean_following = sum(outs) / len(outs) if outs else 0.0
    report.seconds = time.perf_counter() - started
    return report


_LOADED = (users, follows, statuses, status_mentions, status_tags, home_feed)


def _drop_foreign_keys(db: Database) -> list[tuple[str, str, str]]:
    """PostgreSQL checks foreign keys with a trigger per row, which makes a bulk load several
    times slower: drop them on the tables being loaded (the database is empty) and add them
    back afterwards, which validates every row at once. SQLite's checks are cheap: kept."""
    if db.is_sqlite:
        return []
    names = [t.name for t in _LOADED]
    with db.write() as conn:
        found = [
            (str(r[0]), str(r[1]), str(r[2]))
            for r in conn.execute(
                text(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid::regclass::text = ANY(:names) ORDER BY conrelid, conname"
                ),
                {"names": names},
            )
        ]
        for table, name, _ in found:
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return found


def _restore_foreign_keys(db: Database, dropped: list[tuple[str, str, str]]) -> None:
    if not dropped:
        return
    with db.write() as conn:
        for table, name, definition in dropped:
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def analyze(db: Database) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL also sets visibility maps)."""
    if db.is_sqlite:
        with db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def feed_owner_check(conn: Connection) -> int:
    """Home-feed entries whose author is neither the owner nor followed by the owner (want 0)."""
    query = text(
        "SELECT count(*) FROM home_feed h JOIN statuses s ON s.id = h.status_id "
        "WHERE s.account_id <> h.account_id AND NOT EXISTS (SELECT 1 FROM follows f "
        "WHERE f.account_id = h.account_id AND f.target_account_id = s.account_id)"
    )
    return int(conn.execute(query).scalar() or 0)
