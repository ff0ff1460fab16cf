"""The protocol's pure parts (parvis.domain.messaging) against the reference client's own
implementation of docs/messaging.md: the same signed texts byte for byte, envelopes stored and
read back unchanged, base64 checked strictly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parvis.domain import messaging as e2e
from parvis.domain.errors import Invalid
from tests.clients import e2e_client as client

ids = st.integers(min_value=1, max_value=2**63 - 1)
sealed = st.binary(min_size=e2e.SEALED_KEY_BYTES, max_size=e2e.SEALED_KEY_BYTES)
envelopes = st.builds(
    e2e.Envelope,
    nonce=st.binary(min_size=24, max_size=24),
    ciphertext=st.binary(min_size=16, max_size=600),
    keys=st.dictionaries(ids, sealed, min_size=1, max_size=12).map(
        lambda d: tuple(sorted(d.items()))
    ),
    signature=st.binary(min_size=64, max_size=64),
)


@given(envelope=envelopes, conversation=ids, sender=ids)
def test_the_server_and_the_client_sign_the_same_envelope_text(
    envelope: e2e.Envelope, conversation: int, sender: int
) -> None:
    ours = envelope.signed_text(conversation, sender)
    theirs = client.envelope_text(
        str(conversation),
        str(sender),
        envelope.nonce,
        envelope.ciphertext,
        [(str(d), k) for d, k in reversed(envelope.keys)],  # any order in, one order out
    )
    assert ours == theirs
    assert e2e.Envelope.unpack(envelope.pack()) == envelope


@given(
    uri=st.text(alphabet="abcdefghijklmnopqrstuvwxyz:/.", min_size=1, max_size=40),
    identity=st.binary(min_size=32, max_size=32),
    agreement=st.binary(min_size=32, max_size=32),
    created=st.integers(min_value=0, max_value=2**40),
)
def test_the_server_and_the_client_sign_the_same_device_record(
    uri: str, identity: bytes, agreement: bytes, created: int
) -> None:
    ours = e2e.device_record_text(uri, identity, agreement, created)
    assert ours == client.record_text(uri, identity, agreement, created)


def test_base64_is_checked_strictly() -> None:
    assert e2e.unb64("nonce", e2e.b64(b"\x01" * 24), size=24) == b"\x01" * 24
    for bad in ("", "!!!!", "AAA", "AAAA\n", 12, None, "é"):
        with pytest.raises(Invalid, match="nonce"):
            e2e.unb64("nonce", bad, size=3)
    with pytest.raises(Invalid, match="must be 24 bytes, not 3"):
        e2e.unb64("nonce", "AAAA", size=24)
    with pytest.raises(Invalid, match="longer than 4 bytes"):
        e2e.unb64("ciphertext", e2e.b64(b"x" * 30), maximum=4)


def test_padding_and_coverage() -> None:
    e2e.check_ciphertext(b"x" * (256 + 16))
    e2e.check_ciphertext(b"x" * (e2e.MAX_CIPHERTEXT))
    for size in (16, 255 + 16, 257 + 16, e2e.MAX_CIPHERTEXT + 256):
        with pytest.raises(Invalid, match="ciphertext"):
            e2e.check_ciphertext(b"x" * size)
    assert e2e.coverage([1, 2, 5], [1, 2, 3]) == ([3], [5])
    assert e2e.pair_key(9, 3) == e2e.pair_key(3, 9) == "3:9"
