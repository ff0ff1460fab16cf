"""The RFC 8941 structured-field parser and serializer under HTTP signatures, checked against
http-sf (Mark Nottingham's reference implementation, installed with apsig as a test oracle):
the same values parsed from the same text, the same canonical text serialized, the same inputs
refused; and arbitrary text never raises anything but StructuredFieldError."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import http_sf
import pytest
from http_sf.types import DisplayString
from http_sf.types import Token as SfToken
from hypothesis import given, settings
from hypothesis import strategies as st

from parvis.domain.httpsig import SignatureError
from parvis.domain.httpsig.structured import (
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_dictionary,
)


def norm(value: Any) -> Any:
    """A comparable form of either library's values (their Token types differ)."""
    if isinstance(value, Token | SfToken):
        return ("token", str(value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, Decimal):
        return ("decimal", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, bytes):
        return ("bytes", value)
    if isinstance(value, dict):
        return [(key, norm(member)) for key, member in value.items()]
    if isinstance(value, list | tuple):
        return [norm(member) for member in value]
    return ("other", type(value).__name__)


def to_ours(value: Any) -> Any:
    if isinstance(value, SfToken):
        return Token(str(value))
    if isinstance(value, dict):
        return {key: to_ours(member) for key, member in value.items()}
    if isinstance(value, tuple):
        return tuple(to_ours(member) for member in value)
    if isinstance(value, list):
        return [to_ours(member) for member in value]
    return value


def contains_extension_type(value: Any) -> bool:
    """RFC 9651 Dates and Display Strings, which http-sf knows and Parvis refuses."""
    if isinstance(value, DisplayString) or type(value).__name__ == "datetime":
        return True
    if isinstance(value, dict):
        return any(contains_extension_type(member) for member in value.values())
    if isinstance(value, list | tuple):
        return any(contains_extension_type(member) for member in value)
    return False


LCALPHA = "abcdefghijklmnopqrstuvwxyz"
ALPHA = LCALPHA + LCALPHA.upper()
KEYS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(LCALPHA + "*"),
    st.text(st.sampled_from(LCALPHA + "0123456789_-.*"), max_size=8),
)
TOKENS = st.builds(
    lambda first, rest: SfToken(first + rest),
    st.sampled_from(ALPHA + "*"),
    st.text(st.sampled_from(ALPHA + "0123456789!#$%&'*+-.^_`|~:/"), max_size=10),
)
DECIMALS = st.builds(
    lambda units, places: Decimal(units).scaleb(-places),
    st.integers(-999_999_999_999, 999_999_999_999),
    st.integers(0, 3),
)
BARE_ITEMS = st.one_of(
    st.integers(-999_999_999_999_999, 999_999_999_999_999),
    DECIMALS,
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
    TOKENS,
    st.binary(max_size=32),
    st.booleans(),
)
PARAMS = st.dictionaries(KEYS, BARE_ITEMS, max_size=3)
ITEMS = st.tuples(BARE_ITEMS, PARAMS)
MEMBERS = st.one_of(ITEMS, st.tuples(st.lists(ITEMS, max_size=4), PARAMS))
DICTIONARIES = st.dictionaries(KEYS, MEMBERS, min_size=1, max_size=4)


@settings(max_examples=300)
@given(DICTIONARIES)
def test_parses_what_the_reference_serializes_to_the_same_values(dictionary: Any) -> None:
    text = http_sf.ser(dictionary)
    assert norm(parse_dictionary(text)) == norm(http_sf.parse(text.encode(), tltype="dictionary"))


@settings(max_examples=300)
@given(DICTIONARIES)
def test_serializes_exactly_as_the_reference(dictionary: Any) -> None:
    canonical = http_sf.parse(http_sf.ser(dictionary).encode(), tltype="dictionary")
    assert serialize_dictionary(to_ours(canonical)) == http_sf.ser(canonical)


SF_ALPHABET = st.sampled_from(
    [*list('()";=:,?*- \t.'), "a", "b", "sig1", "1", "0", "12", "A", "/", "+", "AA==", "\\"]
)


@settings(max_examples=600)
@given(st.lists(SF_ALPHABET, max_size=24).map("".join))
def test_accepts_and_refuses_the_same_text_as_the_reference(text: str) -> None:
    try:
        expected = http_sf.parse(text.encode(), tltype="dictionary")
    except http_sf.StructuredFieldError:
        expected = None
    if expected is not None and contains_extension_type(expected):
        expected = None
    try:
        ours = parse_dictionary(text)
    except StructuredFieldError:
        assert expected is None, f"refused what http-sf accepts: {text!r}"
    else:
        assert expected is not None, f"accepted what http-sf refuses: {text!r}"
        assert norm(ours) == norm(expected)


@settings(max_examples=500)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_structured_field_error(text: str) -> None:
    try:
        parse_dictionary(text)
    except StructuredFieldError as error:
        assert isinstance(error, SignatureError)
        assert "structured field" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",  # trailing comma
        "A=1",  # keys are lower case
        "a=1.",  # a decimal needs fraction digits
        "a=1.2345",  # at most 3 of them
        "a=1234567890123456",  # integers have at most 15 digits
        'a="\\x"',  # only \" and \\ are escapes
        'a="unterminated',
        "a=(1 2",
        "a=(1,2)",
        "a=:not base64!:",
        "a=?2",
        "a=@1618884473",  # an RFC 9651 Date: not used by signatures, refused
        "a=1 b=2",
        "a=é",
    ],
)
def test_refuses_malformed_dictionaries(text: str) -> None:
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)


def test_parses_a_signature_input_member() -> None:
    parsed = parse_dictionary(
        'sig-b22=("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"'
    )
    assert parsed == {
        "sig-b22": (
            [("@authority", {}), ("content-digest", {}), ("@query-param", {"name": "Pet"})],
            {"created": 1618884473, "keyid": "test-key-rsa-pss", "tag": "header-example"},
        )
    }
