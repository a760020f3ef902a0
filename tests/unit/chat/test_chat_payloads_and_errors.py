"""Button payloads stay within 64 bytes and decode only what we made; the error table's texts."""

from __future__ import annotations

import uuid

import pytest

from bots.chat.errors import user_message
from bots.chat.payloads import MAX_PAYLOAD_BYTES, PUBLIC, Payload, decode, encode, owner_tag
from core.domain.errors import (
    Conflict,
    InvalidInput,
    NoActivePair,
    NotFound,
    ProviderNotConfigured,
    ProviderUnavailable,
    UnsupportedLanguage,
)


def test_the_longest_payload_fits_and_round_trips() -> None:
    learner, card = str(uuid.uuid4()), str(uuid.uuid4())
    payload = encode("rv.r", learner, card, 99999, 4)
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    assert decode(payload) == Payload("rv.r", owner_tag(learner), (card, "99999", "4"))


def test_public_payloads_carry_no_owner() -> None:
    assert decode(encode("pk.a", PUBLIC, "a" * 40)) == Payload("pk.a", PUBLIC, ("a" * 40,))


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "rv.r",
        "rv.r:-:1:2",
        "zz:-:1",
        "rv.s:ABCDEFGH:c:1",
        "ad:-:a:b",
        "ad:-:ü",
        "ad:-:" + "a" * 41,
        "lg.a:-:",
        "wd.p:0123abcd:1:",
    ],
)
def test_anything_else_does_not_decode(bad: str | None) -> None:
    assert decode(bad) is None


def test_encode_refuses_what_would_not_decode() -> None:
    with pytest.raises(ValueError, match="bad button payload"):
        encode("ad", PUBLIC, "has:colon")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            InvalidInput("The page must be a number.", example="/words 2"),
            "The page must be a number.\nExample: /words 2",
        ),
        (InvalidInput("No example here."), "No example here."),
        (
            UnsupportedLanguage("xx", ["es", "en"]),
            "“xx” is not a supported language code. Supported: en, es.\nExample: /language es en A2",
        ),
        (NotFound("pack “x”"), "Not found: pack “x”."),
        (NotFound("“comer” is not in your words"), "“comer” is not in your words."),
        (NoActivePair(), "No language pair yet: send /start or /language es en A2 first."),
        (Conflict("A pack called “x” already exists."), "A pack called “x” already exists."),
        (
            ProviderNotConfigured("Translation", "DEEPL_API_KEY"),
            "Translation is not configured: set DEEPL_API_KEY to enable it.",
        ),
        (ProviderUnavailable("DeepL"), "DeepL is unavailable right now. Please try again later."),
    ],
)
def test_the_error_table(error: Exception, text: str) -> None:
    assert user_message(error) == text  # type: ignore[arg-type]
