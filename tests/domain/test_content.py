from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain.content import (
    MentionRef,
    MentionTarget,
    count_characters,
    detect_language,
    extract_hashtags,
    extract_mentions,
    html_to_text,
    normalize_tag,
    render_plain_text,
    sanitize_html,
)

ALICE = MentionTarget(1, "alice", None, "https://parvis.example/@alice")
BOB = MentionTarget(2, "bob", "remote.example", "https://remote.example/@bob")
ACCOUNTS = {("alice", None): ALICE, ("bob", "remote.example"): BOB}
REL = 'target="_blank" rel="nofollow noopener noreferrer" translate="no"'


def resolve(username: str, domain: str | None) -> MentionTarget | None:
    return ACCOUNTS.get((username.lower(), domain))


def tag_url(name: str) -> str:
    return "https://parvis.example/tags/" + quote(name)


def render(text: str) -> str:
    return render_plain_text(text, resolve, tag_url=tag_url).html


# --- rendering: concrete examples ---------------------------------------------------------


def test_paragraphs_and_line_breaks() -> None:
    assert render("one\ntwo\n\n\nthree\r\nfour") == "<p>one<br />two</p><p>three<br />four</p>"
    assert render("\n\nhello\n\n") == "<p>hello</p>"
    assert render("") == ""
    assert render(" \n ") == ""


def test_everything_is_escaped() -> None:
    assert render("<script>alert('x')</script> & \"q\"") == (
        "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>"
    )


def test_short_link_exact_html() -> None:
    rendered = render_plain_text("see https://example.com/a", resolve, tag_url=tag_url)
    assert rendered.html == (
        f'<p>see <a href="https://example.com/a" {REL}><span class="invisible">https://</span>'
        '<span class="">example.com/a</span></a></p>'
    )
    assert rendered.links == ("https://example.com/a",)


def test_long_link_is_shortened_with_invisible_tail() -> None:
    url = "https://www.example.com/a/very/long/path/that/goes/on?x=1&y=2"
    assert render(url) == (
        f'<p><a href="https://www.example.com/a/very/long/path/that/goes/on?x=1&amp;y=2" {REL}>'
        '<span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/long/path/t</span>'
        '<span class="invisible">hat/goes/on?x=1&amp;y=2</span></a></p>'
    )


def test_trailing_punctuation_is_not_part_of_the_link() -> None:
    def links(text: str) -> tuple[str, ...]:
        return render_plain_text(text, resolve, tag_url=tag_url).links

    assert links("Go to https://example.com/path!") == ("https://example.com/path",)
    assert links("(see https://en.wikipedia.org/wiki/Foo_(bar)).") == (
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    )
    assert links("(https://example.com/x)") == ("https://example.com/x",)
    assert links("'https://example.com/q?a=1', \"https://example.org\"") == (
        "https://example.com/q?a=1",
        "https://example.org",
    )
    assert links("https://a.example, https://a.example; http://b.example:") == (
        "https://a.example",
        "http://b.example",
    )
    assert render("https://example.com.").endswith("</a>.</p>")


def test_only_http_and_https_are_linked() -> None:
    for text in ("javascript:alert(1)", "data:text/html,<b>x</b>", "ftp://example.com", "https://"):
        rendered = render_plain_text(text, resolve, tag_url=tag_url)
        assert "<a" not in rendered.html
        assert rendered.links == ()
    assert "<a" not in render("xhttps://example.com")


def test_local_and_remote_mentions() -> None:
    rendered = render_plain_text(
        "hi @alice and @bob@Remote.Example, not @carol or @dan@else.example. Again @Alice!",
        resolve,
        tag_url=tag_url,
    )
    assert rendered.mentions == (ALICE, BOB)
    assert rendered.html == (
        '<p>hi <span class="h-card" translate="no"><a href="https://parvis.example/@alice"'
        ' class="u-url mention">@<span>alice</span></a></span> and <span class="h-card"'
        ' translate="no"><a href="https://remote.example/@bob" class="u-url mention">'
        "@<span>bob</span></a></span>, not @carol or @dan@else.example. Again "
        '<span class="h-card" translate="no"><a href="https://parvis.example/@alice"'
        ' class="u-url mention">@<span>alice</span></a></span>!</p>'
    )


def test_resolve_is_asked_once_per_distinct_mention() -> None:
    calls: list[tuple[str, str | None]] = []

    def counting(username: str, domain: str | None) -> MentionTarget | None:
        calls.append((username, domain))
        return resolve(username, domain)

    render_plain_text("@alice @alice @ALICE @bob@remote.example", counting, tag_url=tag_url)
    assert calls == [("alice", None), ("bob", "remote.example")]


def test_extract_mentions() -> None:
    text = "@alice, cc @Bob@Remote.Example. mail: carol@example.com, see https://x.example/@dan"
    assert extract_mentions(text) == [
        MentionRef("alice", None, 0, 6),
        MentionRef("Bob", "remote.example", 11, 30),
    ]
    assert extract_mentions("user.name@example.com a@b") == []
    assert extract_mentions("@a.b.") == [MentionRef("a.b", None, 0, 4)]


def test_email_is_not_a_mention() -> None:
    rendered = render_plain_text("write to alice@example.com", resolve, tag_url=tag_url)
    assert rendered.mentions == ()
    assert rendered.html == "<p>write to alice@example.com</p>"


def test_hashtags() -> None:
    rendered = render_plain_text(
        "#café au lait #Café #123 #Fédivers x#nope #2024_election", resolve, tag_url=tag_url
    )
    assert rendered.tags == ("café", "Fédivers", "2024_election")
    assert (
        '<a href="https://parvis.example/tags/caf%C3%A9" class="mention hashtag" rel="tag">'
        "#<span>café</span></a> au lait"
    ) in rendered.html
    assert " #123 " in rendered.html
    assert "x#nope" in rendered.html


def test_extract_hashtags() -> None:
    assert extract_hashtags("#Café #café #123 #Fédivers #tag·s· #日本語") == [
        "Café",
        "Fédivers",
        "tag·s",
        "日本語",
    ]
    assert extract_hashtags("https://example.com/page#anchor https://example.com/a,#b") == []
    assert extract_hashtags("a=#x b/#y (#z)") == ["z"]
    assert extract_hashtags("#हिन्दी") == ["हिन्दी"]


def test_normalize_tag() -> None:
    assert normalize_tag("Café") == "café"
    assert normalize_tag("Fédivers") == "fédivers"
    assert normalize_tag("Fe\u0301divers") == "fédivers"  # decomposed input
    assert normalize_tag("ＦＥＤＩ") == "fedi"  # fullwidth
    assert normalize_tag("Straße") == "strasse"


# --- counting and language ----------------------------------------------------------------


def test_count_characters() -> None:
    assert count_characters("hello") == 5
    assert count_characters("see https://example.com/" + "x" * 200) == 4 + 23
    assert count_characters("hi @bob@remote.example") == len("hi @bob")
    assert count_characters("hi @alice") == len("hi @alice")
    assert count_characters("👨‍👩‍👧‍👦 🇫🇷 e\u0301") == 5  # one family, one flag, one é
    assert count_characters("a\r\nb") == 3
    assert count_characters("") == 0


def test_detect_language() -> None:
    french = "Bonjour à tous, je suis ravi de vous présenter notre nouveau projet aujourd'hui."
    english = "The quick brown fox jumps over the lazy dog near the river bank this morning."
    assert detect_language(french) == "fr"
    assert detect_language(english) == "en"
    assert detect_language(english + " https://example.com/le-chat #blabla @alice") == "en"


def test_detect_language_short_or_unsure_text_returns_default() -> None:
    assert detect_language("ok", default="en") == "en"
    assert detect_language("lol", default=None) is None
    assert detect_language("@alice https://example.com/some/long/words #hashtagsonly") is None
    assert detect_language("12345 67890 !!! ??? 12345 67890", default="de") == "de"


# --- remote HTML --------------------------------------------------------------------------


def test_sanitize_html_examples() -> None:
    dirty = (
        '<p onclick="x()">Hi <a href="javascript:alert(1)">bad</a> <a href="https://ok.example"'
        ' rel="me" class="u-url mention evil" target="_top">ok</a></p><script>alert(1)</script>'
        '<style>p{}</style><img src="x" onerror="y"><iframe src="https://x"></iframe>'
        '<span class="h-card invisible" style="color:red">s</span><a href="/relative">r</a>'
    )
    assert sanitize_html(dirty) == (
        '<p>Hi <a target="_blank" rel="nofollow noopener noreferrer">bad</a> '
        '<a href="https://ok.example" class="u-url mention" target="_blank"'
        ' rel="nofollow noopener noreferrer">ok</a></p><span class="h-card invisible">s</span>'
        '<a target="_blank" rel="nofollow noopener noreferrer">r</a>'
    )
    assert sanitize_html('<ol start="3" reversed><li value="4">x</li></ol>') == (
        '<ol start="3" reversed=""><li value="4">x</li></ol>'
    )


def test_html_to_text() -> None:
    assert html_to_text("<p>Hello &amp; <b>bye</b></p><p>x<br>y<br />z</p>") == (
        "Hello & bye\n\nx\ny\nz"
    )
    assert html_to_text("<p>a</p><script>evil()</script><style>p{}</style>") == "a"
    assert html_to_text(render("https://example.com/a/very/long/path/that/goes/on ok")) == (
        "https://example.com/a/very/long/path/that/goes/on ok"
    )
    assert html_to_text("<![if x]>a<!--c-->&#39;") == "a'"
    assert html_to_text("<a href='x").startswith("<a")  # an unfinished tag stays text


def test_lone_surrogates_and_nul_never_raise() -> None:
    nasty = "\ud800 @alice #tag\udfff https://x.example/\ud83d \x00 <p>"
    rendered = render_plain_text(nasty, resolve, tag_url=tag_url)
    rendered.html.encode("utf-8")
    sanitize_html(nasty).encode("utf-8")
    html_to_text(nasty).encode("utf-8")
    assert extract_mentions(nasty)[0].start == 2
    extract_hashtags(nasty)
    normalize_tag(nasty).encode("utf-8")
    count_characters(nasty)
    detect_language(nasty * 5)


def test_pathological_inputs_stay_fast() -> None:
    render("(" * 20000 + "https://a.example/" + ")" * 20000)
    render("@a." * 20000 + "#b·" * 20000)
    count_characters("https://" + "a" * 100000)
    sanitize_html("<b>" * 5000)


# --- properties ---------------------------------------------------------------------------

FRAGMENTS = [
    "@alice", "@bob@remote.example", "@carol", "#tag", "#Café", "#123", "https://example.com/",
    "http://www.example.org/a_(b)", "javascript:alert(1)", "(", ")", "\n", "\n\n", "\r", "<",
    ">", "&", '"', "'", " ", "www.", "#", "@", ".", ",", "é", "\u0301", "\ud800", "\x00", "/",
    "<script>", "onclick=", "&amp;", "·",
]  # fmt: skip
texts = st.lists(st.one_of(st.text(), st.sampled_from(FRAGMENTS)), max_size=12).map("".join)

HTML_FRAGMENTS = [
    "<p>", "</p>", "<a href='javascript:alert(1)'>", '<a href="https://x.example" onclick="y">',
    "<a href=/rel>", "</a>", "<script>", "</script>", "<style>", "</style>",
    "<img src=x onerror=y>", "<iframe>", "<b>", "</b>", "<div>", "</div>", "<table>", "<td>",
    "<ul><li>", "</li>", "<br/>",
    "<!--", "-->", "<![CDATA[", "&amp;", "&lt;", "<span class='h-card evil'>", "</span>", "<svg>",
    "<math>", "<noscript>", "<textarea>", "<template>", "<pre>", "<blockquote>", "<ol start=2>",
    "<p onmouseover='x'>", "<a href='HTTPS://Y.example'>", "<a href=' javascript:x'>", "<select>",
]  # fmt: skip
htmls = st.lists(st.one_of(st.text(), st.sampled_from(HTML_FRAGMENTS)), max_size=16).map("".join)


SANITIZED_TAGS = {"p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u"}
SANITIZED_TAGS |= {"ul", "ol", "li", "blockquote"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((tag, name, value) for name, value in attrs)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector


def _assert_safe(html: str, allowed_tags: set[str]) -> None:
    html.encode("utf-8")
    parsed = _parse(html)
    assert parsed.tags <= allowed_tags
    for _tag, name, value in parsed.attributes:
        assert not name.startswith("on")
        if name == "href":
            assert value is not None
            assert value.lower().startswith(("http://", "https://"))


@settings(max_examples=300)
@given(texts)
def test_render_is_total_and_safe(text: str) -> None:
    rendered = render_plain_text(text, resolve, tag_url=tag_url)
    _assert_safe(rendered.html, {"p", "br", "a", "span"})
    assert all(link.lower().startswith(("http://", "https://")) for link in rendered.links)
    assert set(rendered.mentions) <= {ALICE, BOB}


@settings(max_examples=300)
@given(st.one_of(htmls, texts))
def test_sanitize_is_idempotent_and_safe(html: str) -> None:
    once = sanitize_html(html)
    assert sanitize_html(once) == once
    _assert_safe(once, SANITIZED_TAGS)
    assert "<script" not in once.lower()
    assert "<style" not in once.lower()


@settings(max_examples=300)
@given(texts.filter(lambda t: not set("@#＠＃") & set(t)))
def test_html_to_text_keeps_every_word(text: str) -> None:
    plain = html_to_text(render(text))
    for word in re.findall(r"[^\W\d_]+", text):
        assert word in plain


@given(st.one_of(htmls, texts))
def test_other_functions_are_total(text: str) -> None:
    html_to_text(text).encode("utf-8")
    normalize_tag(text).encode("utf-8")
    assert count_characters(text) >= 0
    for mention in extract_mentions(text):
        assert text[mention.start] in "@"
    for tag in extract_hashtags(text):
        assert tag in text
