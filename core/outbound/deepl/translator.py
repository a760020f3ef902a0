"""The Translator port on the official DeepL SDK.

The SDK is synchronous (requests), so calls run in a worker thread. It retries 429 and
5xx answers with exponential backoff by itself (`deepl.http_client.max_network_retries`,
5 by default); tests pass `max_retries=0`. A rejected key (403) or the used-up monthly quota
(456) raises `ProviderRefused`: retrying cannot help and an operator has to act. Every other SDK
failure becomes `ProviderUnavailable("DeepL", reason)`. Reasons and texts are written here,
never the SDK's text, which can carry the server's error body.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import deepl

from core.domain.errors import ProviderNotConfigured, ProviderRefused, ProviderUnavailable

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

_USER_ACCOUNT = (
    "Translation is unavailable right now: the service refused our account. The operator has been told."
)
_USER_QUOTA = (
    "Translation is unavailable right now: this month's translation quota is used up. The operator has been told."
)

# DeepL rejects bare "EN" and "PT" as targets; these are the variants we write in.
_TARGET_DEFAULT_VARIANT = {"en": "EN-US", "pt": "PT-PT"}


def deepl_source_code(language: str) -> str:
    """Our ISO 639-1 code ("pt", "en-GB") as a DeepL source code: upper-case, no region."""
    return language.split("-")[0].split("_")[0].upper()


def deepl_target_code(language: str) -> str:
    """Our code as a DeepL target: "en" -> "EN-US", "pt" -> "PT-PT", "en-gb" -> "EN-GB", "de" -> "DE"."""
    normalised = language.replace("_", "-")
    if "-" in normalised:
        return normalised.upper()
    return _TARGET_DEFAULT_VARIANT.get(normalised.lower(), normalised.upper())


class DeepLTranslator:
    """Translates batches of short texts (words, phrases, sentences) with DeepL."""

    def __init__(
        self,
        api_key: str,
        server_url: str | None = None,
        *,
        max_retries: int | None = None,
        timeout_s: float | None = None,
    ) -> None:
        """`server_url=None` lets the SDK pick the free or pro API from the key.

        `max_retries` and `timeout_s` (per attempt) set the SDK's retry count and request timeout,
        which are process-wide in the SDK; None keeps its defaults (5 retries, 10 s).
        """
        if not api_key:
            raise ProviderNotConfigured("Translation", "DEEPL_API_KEY")
        if max_retries is not None:
            deepl.http_client.max_network_retries = max_retries
        if timeout_s is not None:
            deepl.http_client.min_connection_timeout = timeout_s
        self._client = deepl.Translator(api_key, server_url=server_url)

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """One translation per text, in order. Raises ProviderUnavailable on failure, ProviderRefused on 403/456."""
        if not texts:
            return []
        return await asyncio.to_thread(self._translate_sync, list(texts), source, target)

    def close(self) -> None:
        """Close the SDK's HTTP session."""
        self._client.close()  # type: ignore[no-untyped-call]

    def _translate_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        try:
            results = self._client.translate_text(
                texts, source_lang=deepl_source_code(source), target_lang=deepl_target_code(target)
            )
        except deepl.AuthorizationException:
            raise _refused(_USER_ACCOUNT, "the API key was rejected (HTTP 403): check DEEPL_API_KEY") from None
        except deepl.QuotaExceededException:
            hint = "the monthly character quota is used up (HTTP 456): see the usage of the DEEPL_API_KEY account"
            raise _refused(_USER_QUOTA, hint) from None
        except deepl.DeepLException as exc:
            raise _unavailable(_reason(exc), source, target) from None
        except (KeyError, TypeError, ValueError):  # the SDK parsing an answer that is not DeepL's
            raise _unavailable("unexpected answer", source, target) from None
        batch = results if isinstance(results, list) else [results]
        if len(batch) != len(texts):
            raise _unavailable("unexpected answer", source, target)
        return [result.text for result in batch]


def _unavailable(reason: str, source: str, target: str) -> ProviderUnavailable:
    logger.warning("DeepL translation %s->%s failed: %s", source, target, reason)
    return ProviderUnavailable("DeepL", reason)


def _refused(user_text: str, operator_hint: str) -> ProviderRefused:
    logger.error("DeepL refused a request: %s", operator_hint)
    return ProviderRefused("DeepL", user_text, operator_hint)


def _reason(exc: deepl.DeepLException) -> str:
    """A short reason of our own: the SDK's message may quote the server's error body."""
    if isinstance(exc, deepl.TooManyRequestsException):
        return "too many requests, try again later"
    if isinstance(exc, deepl.ConnectionException):
        return "could not connect"
    status = exc.http_status_code
    if status is not None and status >= 500:
        return f"server error (HTTP {status})"
    if status is not None:
        return f"request rejected (HTTP {status})"
    return "request failed"
