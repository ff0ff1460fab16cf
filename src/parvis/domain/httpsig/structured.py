"""RFC 8941 Structured Field Values: the Dictionary, Inner List, Item and Parameters that
`Signature-Input`, `Signature` and `Content-Digest` are made of, parsed and serialized exactly
as the RFC's algorithms say (§4.2 and §4.1).

A member is `(value, parameters)`: `value` is a bare item, or a list of `(item, parameters)`
for an inner list. Bare items are `int`, `Decimal`, `str` (a String), `Token` (a `str`
subclass), `bytes` (a Byte Sequence) and `bool`. Anything else (RFC 9651's Dates and Display
Strings included) is refused. Every failure raises `StructuredFieldError`, a `SignatureError`.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import ROUND_HALF_EVEN, Decimal
from string import ascii_letters, digits

from parvis.domain.httpsig.errors import SignatureError


class StructuredFieldError(SignatureError):
    """A header that should be a structured field is not one."""


class Token(str):
    """An RFC 8941 Token (as opposed to a String)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Token({str(self)!r})"


BareItem = int | Decimal | str | bytes | bool
Params = dict[str, BareItem]
Item = tuple[BareItem, Params]
InnerList = tuple[list[Item], Params]
Member = Item | InnerList

_TOKEN_START = frozenset(ascii_letters + "*")
_BASE64_CHARS = frozenset(ascii_letters + digits + "+/=")
_DIGITS = frozenset(digits)
_MAX_INTEGER = 999_999_999_999_999
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_PRINTABLE = re.compile(r"[ -~]*")
_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')
_STRING_ESCAPE = re.compile(r'\\(["\\])')


class _Parser:
    def __init__(self, text: str) -> None:
        if not text.isascii():
            raise StructuredFieldError("structured field is not ASCII")
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"malformed structured field: {what} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def dictionary(self) -> dict[str, Member]:
        result: dict[str, Member] = {}
        while not self.at_end():
            key = self.key()
            member: Member
            if self.peek() == "=":
                self.pos += 1
                member = self.item_or_inner_list()
            else:
                member = (True, self.parameters())
            result[key] = member
            self.skip_ows()
            if self.at_end():
                return result
            if self.take() != ",":
                raise self.fail("expected a comma between members")
            self.skip_ows()
            if self.at_end():
                raise self.fail("trailing comma")
        return result

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self) -> InnerList:
        self.pos += 1  # "("
        items: list[Item] = []
        while not self.at_end():
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return items, self.parameters()
            items.append(self.item())
            if self.peek() not in (" ", ")") or not self.peek():
                raise self.fail("expected a space or ')' in an inner list")
        raise self.fail("unterminated inner list")

    def item(self) -> Item:
        value = self.bare_item()
        return value, self.parameters()

    def parameters(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:
        match = _KEY.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    def bare_item(self) -> BareItem:
        char = self.peek()
        if not char:
            raise self.fail("expected an item")
        if char == "-" or char in _DIGITS:
            return self.number()
        if char == '"':
            return self.string()
        if char in _TOKEN_START:
            return self.token()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        raise self.fail(f"unexpected {char!r}")

    def number(self) -> int | Decimal:
        is_decimal = False
        sign = 1
        if self.peek() == "-":
            self.pos += 1
            sign = -1
        if self.peek() not in _DIGITS or not self.peek():
            raise self.fail("expected a digit")
        number = ""
        while not self.at_end():
            char = self.peek()
            if char in _DIGITS:
                number += char
            elif not is_decimal and char == ".":
                if len(number) > 12:
                    raise self.fail("decimal with more than 12 integer digits")
                number += char
                is_decimal = True
            else:
                break
            self.pos += 1
            if not is_decimal and len(number) > 15:
                raise self.fail("integer with more than 15 digits")
            if is_decimal and len(number) > 16:
                raise self.fail("decimal too long")
        if not is_decimal:
            return sign * int(number)
        if number.endswith("."):
            raise self.fail("decimal without fractional digits")
        if len(number) - number.index(".") - 1 > 3:
            raise self.fail("decimal with more than 3 fractional digits")
        return sign * Decimal(number)

    def string(self) -> str:
        fast = _STRING.match(self.text, self.pos)
        if fast is not None:
            self.pos = fast.end()
            return _STRING_ESCAPE.sub(r"\1", fast.group(1))
        self.pos += 1  # '"'  (the slow path, to say what is wrong)
        chars: list[str] = []
        while not self.at_end():
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped not in ('"', "\\") or not escaped:
                    raise self.fail("bad escape in a string")
                chars.append(escaped)
            elif char == '"':
                return "".join(chars)
            elif not " " <= char <= "~":
                raise self.fail("control character in a string")
            else:
                chars.append(char)
        raise self.fail("unterminated string")

    def token(self) -> Token:
        match = _TOKEN.match(self.text, self.pos)
        assert match is not None  # the caller saw a token's first character
        self.pos = match.end()
        return Token(match.group())

    def byte_sequence(self) -> bytes:
        self.pos += 1  # ":"
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        content = self.text[self.pos : end]
        if not set(content) <= _BASE64_CHARS:
            raise self.fail("byte sequence is not base64")
        self.pos = end + 1
        if "=" not in content:
            content += "=" * (-len(content) % 4)
        try:
            return binascii.a2b_base64(content, strict_mode=True)
        except (binascii.Error, ValueError):
            raise self.fail("byte sequence is not base64") from None

    def boolean(self) -> bool:
        self.pos += 1  # "?"
        char = self.take()
        if char == "1":
            return True
        if char == "0":
            return False
        raise self.fail("expected ?0 or ?1")


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse a Dictionary (RFC 8941 §4.2.2); a later duplicate key overwrites an earlier one."""
    parser = _Parser(text)
    parser.skip_sp()
    result = parser.dictionary()
    parser.skip_sp()
    if not parser.at_end():
        raise parser.fail("trailing characters")
    return result


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > _MAX_INTEGER:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, Decimal):
        return _serialize_decimal(value)
    if isinstance(value, Token):
        if _TOKEN.fullmatch(value) is None:
            raise StructuredFieldError(f"not a token: {value!r}")
        return str(value)
    if isinstance(value, str):
        if _PRINTABLE.fullmatch(value) is None:
            raise StructuredFieldError("string with a character outside printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    raise StructuredFieldError(f"cannot serialize {type(value).__name__}")


def _serialize_decimal(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    integer, _, fraction = format(rounded, "f").partition(".")
    if len(integer.lstrip("-")) > 12:
        raise StructuredFieldError("decimal out of range")
    return f"{integer}.{fraction.rstrip('0') or '0'}"


def serialize_parameters(params: Params) -> str:
    out = []
    for key, value in params.items():
        if _KEY.fullmatch(key) is None:
            raise StructuredFieldError(f"not a key: {key!r}")
        out.append(";" + key if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    value, params = item
    return serialize_bare_item(value) + serialize_parameters(params)


def serialize_inner_list(inner: InnerList) -> str:
    items, params = inner
    return (
        "("
        + " ".join(serialize_item(item) for item in items)
        + ")"
        + (serialize_parameters(params))
    )


def serialize_member(member: Member) -> str:
    value, params = member
    if isinstance(value, list):
        return serialize_inner_list((value, params))
    return serialize_item((value, params))


def serialize_dictionary(members: dict[str, Member]) -> str:
    out = []
    for key, member in members.items():
        serialize_parameters({key: True})  # validates the key
        value, params = member
        if value is True and not isinstance(value, list):
            out.append(key + serialize_parameters(params))
        else:
            out.append(f"{key}={serialize_member(member)}")
    return ", ".join(out)
