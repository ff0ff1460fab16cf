"""Automation and coordination signals on a synthetic network, and MinHash properties.

The network: organic accounts (human rhythm, varied texts in English and French, a few using a
script-named client), planted bots (clockwork, round-the-clock, templated), planted coordinated
clusters (accounts posting the same 3 messages within minutes, with small edits), and organic
look-alikes (famous quotes posted by 40 unrelated accounts over a day, a breaking news headline
shared by 25 within 40 minutes). The precision and recall of both detectors are measured
against what was planted; no look-alike may be flagged."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain.errors import Invalid
from parvis.domain.labels.automation import FLAG_AT, PostSample, assess_automation
from parvis.domain.labels.coordination import Post, Rules, find_coordination
from parvis.domain.labels.minhash import (
    EMPTY,
    MinHasher,
    estimate,
    jaccard,
    normalize,
    shingles,
    words,
)

T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 14
HASHER = MinHasher()


def _vocabulary(text: str) -> list[str]:
    return text.split()


EN = _vocabulary(
    "the a my our this that weather coffee train city park book music friend family work "
    "today tomorrow yesterday morning evening night garden cat dog walk bike lunch "
    "dinner movie song idea project meeting office school river mountain beach sun rain "
    "cold warm really quite very just finally again still never always maybe love hate "
    "enjoy need want think read write cook bake fix build paint learn visit call miss "
    "forgot found lost"
)
FR = _vocabulary(
    "le la les mon notre ce cette météo café train ville parc livre musique ami famille "
    "travail aujourd'hui demain hier matin soir nuit jardin chat chien balade vélo "
    "déjeuner dîner film chanson idée projet réunion bureau école rivière montagne plage "
    "soleil pluie froid chaud vraiment assez très juste enfin encore toujours jamais "
    "peut-être adore déteste besoin envie pense lire écrire cuisiner réparer construire "
    "peindre apprendre"
)
CAMPAIGNS = [
    "The election was stolen and the media will never tell you the truth about the ballots "
    "counted in the night, share this before it gets deleted",
    "Les chiffres officiels du chômage sont truqués depuis des années, le gouvernement cache "
    "la vérité aux Français, partagez massivement avant la censure",
    "Vaccines contain tracking chips designed by the big laboratories, doctors are paid to "
    "stay silent and the regulators look the other way",
    "La réforme des retraites a été écrite par les banques étrangères pour voler vos "
    "économies, les députés ont touché des enveloppes pour voter",
    "Climate change is a hoax invented to raise taxes on ordinary families while the elites "
    "keep flying their private jets around the world",
    "Le maire de la ville a vendu le parc municipal à un promoteur en secret, la presse locale "
    "refuse d'en parler, faites tourner ce message",
    "Our water supply is being poisoned on purpose to make people sick and dependent on "
    "expensive medicines sold by the same companies",
    "Les élections municipales seront annulées par décret la semaine prochaine selon une "
    "source interne au ministère, restez mobilisés et prévenez vos proches",
    "Foreign agents are buying farmland everywhere in the country to starve the population, "
    "the government signed the deals behind closed doors",
    "Les écoles vont interdire les devoirs à la maison dès la rentrée sur ordre de Bruxelles, "
    "les parents n'ont pas été consultés, signez la pétition",
    "Every bank will freeze personal accounts next month to pay the national debt, withdraw "
    "your cash now while you still can and tell everyone",
    "La viande de synthèse sera obligatoire dans les cantines dès l'an prochain, les éleveurs "
    "français vont disparaître dans le silence général des médias",
    "The new smart meters record every conversation in your home and send it to a data "
    "broker who sells it to the highest bidder without consent",
    "Les trains seront supprimés dans toutes les petites gares de province d'ici deux ans, le "
    "plan secret a fuité, diffusez avant qu'il ne soit démenti",
    "Scientists confirmed that the moon landing footage was filmed in a studio and the "
    "agency destroyed the original tapes to hide the evidence forever",
]
QUOTE_EN = (
    "Darkness cannot drive out darkness; only light can do that. Hate cannot drive out hate; "
    "only love can do that."
)
QUOTE_FR = (
    "On ne voit bien qu'avec le cœur. L'essentiel est invisible pour les yeux, répéta le "
    "petit prince, afin de se souvenir."
)
NEWS = (
    "Breaking: the national assembly has just adopted the pension reform after a night of "
    "debate, the final vote was 289 to 270"
)


@dataclass
class Network:
    posts: list[Post] = field(default_factory=list)
    samples: dict[int, list[PostSample]] = field(default_factory=lambda: defaultdict(list))
    created: dict[int, datetime] = field(default_factory=dict)
    bots: set[int] = field(default_factory=set)
    clusters: list[set[int]] = field(default_factory=list)
    look_alikes: set[int] = field(default_factory=set)

    def post(self, account: int, at: datetime, text: str, app: str | None = None) -> int:
        post_id = len(self.posts) + 1
        self.posts.append(Post(post_id, account, at, text))
        self.samples[account].append(PostSample(at, text, app))
        return post_id


def _organic_text(rng: random.Random) -> str:
    vocabulary = EN if rng.random() < 0.5 else FR
    return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(4, 30)))


def _human(net: Network, rng: random.Random, account: int, per_day: float) -> None:
    """Sessions of a few posts, minutes apart, between waking and sleeping (local time)."""
    zone = rng.randint(-8, 9)
    wake, awake = rng.uniform(6, 9), rng.uniform(14, 17)
    app = rng.choice([None, None, "Tusky", "Ivory", "Elk", "Mastodon.py"])
    for day in range(DAYS):
        for _ in range(np.random.default_rng(rng.randrange(1 << 30)).poisson(per_day / 2.5)):
            hour = wake + rng.uniform(-0.5, 0.5) + rng.uniform(0, awake) - zone
            at = T0 + timedelta(days=day, hours=hour)
            for _ in range(1 + min(int(rng.expovariate(0.7)), 8)):
                net.post(account, at, _organic_text(rng), app)
                at += timedelta(minutes=rng.expovariate(1 / 4))


TEMPLATES = {  # each bot has its own wording; {} are the variable numbers
    "cron": [
        "Weather in Paris: {} °C, wind {} km/h, humidity {} %. Next update soon.",
        "Station Lyon-Bron relevé automatique : température {} °C, vent {} km/h, humidité {} %",
        "Berlin conditions now {} degrees with gusts of {} km/h and {} percent humidity",
        "Boston harbor sensor {} C water {} C tide level {} cm #weather",
    ],
    "daily": [
        "Bonjour ! Nous sommes le jour {} de l'année, il reste {} jours avant la fin. {}",
        "Good morning everyone, day {} of the year, {} days to go, quote number {}",
        "Daily reminder {}: drink water, stretch and take a break, streak {} of {}",
        "Citation du jour numéro {} sur {} : la patience est amère mais son fruit est doux {}",
    ],
    "alerts": [
        "Price alert: BTC is at {} USD, a change of {} % in the last hour #crypto {}",
        "ETH gas tracker: {} gwei average, {} gwei fast, block {} #ethereum",
        "Alerte trafic A{} : bouchon de {} km entre les sorties {} et suivantes",
        "Seismic monitor: magnitude {} event recorded {} km deep, station {}",
    ],
}


def _bot(net: Network, rng: random.Random, account: int, kind: str, number: int) -> None:
    def text() -> str:
        template = TEMPLATES.get(kind, TEMPLATES["cron"])[number]
        return template.format(*(rng.randint(0, 999) for _ in range(3)))

    if kind == "cron":
        period = [15, 30, 60, 60][number]
        for k in range(DAYS * 24 * 60 // period):
            at = T0 + timedelta(minutes=k * period, seconds=rng.uniform(-60, 60))
            net.post(account, at, text(), "weatherbot")
    elif kind == "daily":
        for day in range(DAYS):
            net.post(
                account,
                T0 + timedelta(days=day, hours=8 + number, seconds=rng.uniform(-30, 30)),
                text(),
            )
    elif kind == "rss":  # random times round the clock, varied headlines
        at = T0
        while at < T0 + timedelta(days=DAYS):
            at += timedelta(minutes=rng.expovariate(1 / 45))
            link = f"https://news.example/{rng.randrange(9**9)}"
            net.post(account, at, f"{_organic_text(rng)} {link}", "rss2parvis")
    else:  # templated alerts at random times round the clock
        at = T0
        while at < T0 + timedelta(days=DAYS):
            at += timedelta(minutes=rng.expovariate(1 / 90))
            net.post(account, at, text())


def _edit(rng: random.Random, text: str) -> str:
    """A small edit of a campaign message: one word changed, plus a cosmetic change."""
    tokens = text.split()
    tokens[rng.randrange(len(tokens))] = rng.choice(["really", "vraiment", "now", "!!"])
    edited = " ".join(tokens)
    return rng.choice(
        [
            edited,
            edited.upper(),
            f"{edited} #wakeup",
            f"{edited} https://t.example/{rng.randrange(9**6)}",
            f"RT @patriot{rng.randrange(99)} {edited}",
            normalize(edited),
        ]
    )


def build_network(seed: int) -> Network:
    rng = random.Random(seed)
    net = Network()
    organic = list(range(1, 301))
    for account in organic:
        net.created[account] = T0 - timedelta(days=rng.randint(120, 2000))
        _human(net, rng, account, min(max(rng.lognormvariate(1.0, 0.9), 0.3), 40.0))
    kinds = [(kind, number) for number in range(4) for kind in ("cron", "daily", "rss", "alerts")]
    for account, (kind, number) in enumerate(kinds, start=1001):
        net.created[account] = T0 - timedelta(days=rng.randint(30, 900))
        net.bots.add(account)
        _bot(net, rng, account, kind, number)
    messages = iter(CAMPAIGNS)
    account = 2001
    for cluster in range(5):
        members = set(range(account, account + rng.randint(4, 8)))
        account += len(members)
        net.clusters.append(members)
        young = cluster < 2
        for member in members:
            age = rng.randint(2, 10) if young else rng.randint(200, 1500)
            net.created[member] = T0 - timedelta(days=age)
            if not young:
                _human(net, rng, member, 2.0)
        for message in [next(messages) for _ in range(3)]:
            start = T0 + timedelta(days=rng.uniform(0, DAYS - 1))
            for member in sorted(members):
                at = start + timedelta(minutes=rng.uniform(0, 12))
                net.post(member, at, _edit(rng, message), rng.choice([None, "Tusky"]))
    for text, sharers, spread in ((QUOTE_EN, 40, 24.0), (QUOTE_FR, 40, 24.0), (NEWS, 25, 0.67)):
        day = T0 + timedelta(days=rng.randint(0, DAYS - 2))
        for sharer in rng.sample(organic, sharers):
            variant = rng.choice(
                [text, f"“{text}”", f"So true: {text}", f"{text} — must read", text.lower()]
            )
            at = day + timedelta(hours=rng.uniform(0, spread))
            net.look_alikes.add(net.post(sharer, at, variant))
    return net


@pytest.fixture(scope="module")
def network() -> Network:
    return build_network(8)


def _precision_recall(found: int, relevant_found: int, relevant: int) -> tuple[float, float]:
    return (relevant_found / found if found else 1.0, relevant_found / relevant)


def test_planted_bots_are_found_with_high_precision_and_recall(network: Network) -> None:
    signals = {a: assess_automation(s, hasher=HASHER) for a, s in network.samples.items()}
    flagged = {a for a, signal in signals.items() if signal.flagged}
    precision, recall = _precision_recall(
        len(flagged), len(flagged & network.bots), len(network.bots)
    )
    print(
        f"\nbots: {len(network.samples)} accounts, {len(network.bots)} planted, "
        f"{len(flagged)} flagged; precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= 0.9
    assert recall >= 0.9
    assert all(
        signals[a].score < FLAG_AT
        for a in network.samples
        if a not in network.bots and network.samples[a][0].application == "Mastodon.py"
    )  # a hint, not a verdict


def test_planted_clusters_are_found_and_look_alikes_are_not(network: Network) -> None:
    signals = find_coordination(network.posts, network.created)
    matched = set()
    correct = 0
    for signal in signals:
        found = set(signal.accounts)
        best = max(
            range(len(network.clusters)),
            key=lambda k: len(found & network.clusters[k]) / len(found | network.clusters[k]),
        )
        planted = network.clusters[best]
        if len(found & planted) / len(found | planted) >= 0.8:
            correct += 1
            matched.add(best)
    precision, recall = _precision_recall(len(signals), correct, len(network.clusters))
    accounts = {a for s in signals for a in s.accounts}
    planted_accounts = set().union(*network.clusters)
    print(
        f"\nclusters: {len(network.clusters)} planted, {len(signals)} found; precision "
        f"{precision:.3f}, recall {recall:.3f}; accounts: precision "
        f"{len(accounts & planted_accounts) / max(len(accounts), 1):.3f}, recall "
        f"{len(accounts & planted_accounts) / len(planted_accounts):.3f}"
    )
    assert precision >= 0.9
    assert recall >= 0.9
    assert not network.look_alikes & {p for s in signals for p in s.posts}
    for signal in signals:
        assert signal.texts == 3
        assert "repeated" in signal.reasons
        assert signal.similarity >= 0.5
        assert signal.end - signal.start > timedelta(hours=1)  # three waves, days apart
    young = [s for s in signals if set(s.accounts) <= set().union(*network.clusters[:2])]
    assert len(young) == 2
    assert all({"young", "single_purpose"} <= set(s.reasons) for s in young)


def test_a_synchronized_burst_of_old_varied_accounts_is_not_enough() -> None:
    """One wave of copies within minutes, from established accounts that post other things:
    people reacting to the same news, not a signal. The same wave from new accounts is one."""
    rng = random.Random(3)
    posts, created = [], {}
    for account in range(1, 7):
        created[account] = T0 - timedelta(days=400)
        for k in range(10):
            posts.append(
                Post(
                    account * 100 + k,
                    account,
                    T0 + timedelta(hours=k * 7 + account),
                    _organic_text(rng),
                )
            )
        posts.append(Post(account * 100 + 99, account, T0 + timedelta(minutes=account), NEWS))
    assert find_coordination(posts, created) == []
    fresh = {account: T0 - timedelta(days=1) for account in created}
    [signal] = find_coordination(posts, fresh)
    assert signal.reasons == ("young",)
    assert signal.accounts == tuple(range(1, 7))
    assert any("less than 30 days old" in sentence for sentence in signal.evidence)


def test_one_account_repeating_itself_is_not_coordination() -> None:
    posts = [Post(k, 7, T0 + timedelta(minutes=k), NEWS) for k in range(20)]
    assert find_coordination(posts) == []


def test_rules_are_validated() -> None:
    with pytest.raises(Invalid):
        Rules(window=timedelta(0))
    with pytest.raises(Invalid):
        Rules(similarity=1.5)
    with pytest.raises(Invalid):
        Rules(min_accounts=1)
    assert find_coordination([]) == []


def test_the_window_and_account_floor_are_configurable() -> None:
    posts = [
        Post(k, k, T0 + timedelta(minutes=20 * k), CAMPAIGNS[0] + (" again" * (k % 2)))
        for k in range(4)
    ]
    created = {k: T0 for k in range(4)}
    assert find_coordination(posts, created) == []  # spread over an hour: no 30 min burst of 3
    wide = find_coordination(posts, created, Rules(window=timedelta(hours=2)))
    assert [s.accounts for s in wide] == [(0, 1, 2, 3)]
    assert find_coordination(posts, created, Rules(window=timedelta(hours=2), min_accounts=5)) == []


def test_automation_evidence_is_readable_data() -> None:
    cron = [
        PostSample(T0 + timedelta(minutes=30 * k), f"Level {k % 7} reached", "levelbot")
        for k in range(200)
    ]
    signal = assess_automation(cron)
    assert signal.flagged and not signal.declared
    parts = {c.name: c for c in signal.components}
    assert set(parts) == {"rhythm", "daily_spread", "volume", "duplicates", "client"}
    assert parts["rhythm"].value == 0.0 and parts["rhythm"].strength == 1.0
    assert parts["daily_spread"].value == 0.0
    assert parts["volume"].value == pytest.approx(48.24, abs=0.01)
    assert parts["duplicates"].value == 1.0
    assert parts["client"].value == 1.0 and "levelbot" in parts["client"].sentence
    expected = 1 - np.prod([1 - c.weight * c.strength for c in signal.components])
    assert signal.score == pytest.approx(expected, abs=1e-3)
    assert all(c.sentence for c in signal.components)


def test_declared_bots_need_no_detection_and_few_posts_say_so() -> None:
    declared = assess_automation([], declared=True)
    assert (declared.declared, declared.flagged, declared.score) == (True, True, 1.0)
    few = assess_automation([PostSample(T0, "hello there"), PostSample(T0, "hello there")])
    assert few.score == 0.0 and not few.flagged
    assert {c.name for c in few.components if c.value is None} == {
        "rhythm",
        "daily_spread",
        "duplicates",
    }


def test_normalization_folds_what_copies_change() -> None:
    assert words("L’ÉTAT paie 12,50 € https://x.example/a?b @bob@x.example #Retraites") == (
        words("l’etat paie 7,99 €  #retraites")
    )
    assert words("Ｃａｆé crème, l'été !") == ["cafe", "creme", "l", "ete"]
    assert shingles("one two") == shingles("One, two!")
    assert len(shingles("one two three four")) == 2
    assert shingles("") == frozenset()


TEXT = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=200)


@given(TEXT)
@settings(max_examples=60, deadline=None)
def test_identical_texts_estimate_one(text: str) -> None:
    a, b = HASHER.signatures([text, text])
    assert estimate(a, b) == (1.0 if words(text) else 0.0)


@given(
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"]), min_size=1),
    st.lists(st.sampled_from(["uno", "dos", "tres", "cuatro", "cinco"]), min_size=1),
)
@settings(max_examples=60, deadline=None)
def test_disjoint_texts_estimate_near_zero(left: list[str], right: list[str]) -> None:
    a, b = HASHER.signatures([" ".join(left), " ".join(right)])
    assert estimate(a, b) <= 0.05


@given(st.lists(TEXT, max_size=8))
@settings(max_examples=40, deadline=None)
def test_signatures_are_deterministic_and_independent_of_the_batch(texts: list[str]) -> None:
    batch = HASHER.signatures(texts)
    assert np.array_equal(batch, MinHasher().signatures(texts))
    for text, row in zip(texts, batch, strict=True):
        assert np.array_equal(HASHER.signatures([text])[0], row)
        assert (not words(text)) == bool(np.all(row == EMPTY))


def test_estimates_track_exact_jaccard() -> None:
    rng = random.Random(5)
    errors = []
    for _ in range(300):
        base = [rng.choice(EN) for _ in range(rng.randint(5, 40))]
        other = [w if rng.random() < rng.random() else rng.choice(FR) for w in base]
        a, b = " ".join(base), " ".join(other)
        sig = HASHER.signatures([a, b])
        errors.append(abs(estimate(sig[0], sig[1]) - jaccard(shingles(a), shingles(b))))
    assert np.mean(errors) < 0.04
    assert np.max(errors) < 0.2


def test_lsh_finds_near_duplicates_and_not_others() -> None:
    texts = [CAMPAIGNS[0], CAMPAIGNS[0].replace("night", "day"), CAMPAIGNS[1], QUOTE_EN, ""]
    pairs = HASHER.near_duplicates(HASHER.signatures(texts), 0.6)
    assert list(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == [(0, 1)]
    with pytest.raises(ValueError):
        MinHasher(num_perm=16, bands=8, rows=4)


SMALL = build_network(21)
SHARERS = {p.account for p in SMALL.posts if p.id in SMALL.look_alikes}
SMALL_POSTS = [p for p in SMALL.posts if p.account >= 2001 or p.account in SHARERS]


@given(st.permutations(range(len(SMALL_POSTS))))
@settings(max_examples=8, deadline=None)
def test_clustering_does_not_depend_on_input_order(order: list[int]) -> None:
    found = find_coordination([SMALL_POSTS[i] for i in order], SMALL.created)
    assert found == find_coordination(SMALL_POSTS, SMALL.created)
    assert len(found) == len(SMALL.clusters)
