"""The LanguageModel port on the official Anthropic SDK (async client).

The SDK's own retries are off (`max_retries=0`): `core.outbound._retry.with_retries` retries
transient failures (429, 529 overloaded, 5xx, time-outs, connection errors) with backoff and
honours `retry-after`. Permanent ones — a rejected key, an account out of credit or over its
spend limit, an unknown model — raise `ProviderRefused` after one call. Messages are ours: the
SDK's exception text quotes the server's error body, which can carry the key.

Structured output is a forced tool call: the request offers one tool whose `input_schema` is the
caller's JSON schema and sets `tool_choice` to it, so the answer is that tool's input.
"""

from __future__ import annotations

import logging
from typing import Any

import anthropic
from anthropic.types import Message, MessageParam, TextBlock, ToolChoiceToolParam, ToolParam, ToolUseBlock

from core.domain.errors import ProviderNotConfigured, ProviderRefused, ProviderUnavailable
from core.outbound._retry import DEFAULT_POLICY, RetryPolicy, TransientError, retry_after_seconds, with_retries

logger = logging.getLogger(__name__)

PROVIDER = "Anthropic"
_USER_ACCOUNT = "Writing is unavailable right now: the AI service refused our account. The operator has been told."
_USER_BILLING = (
    "Writing is unavailable right now: our AI service account has reached its spending limit. "
    "The operator has been told."
)
_USER_SETUP = "Writing is unavailable right now because of a set-up problem. The operator has been told."
_USER_REQUEST = "The AI service could not handle this request. The operator has been told."
_BILLING_WORDS = ("credit balance", "spend limit", "spending limit", "usage limit", "billing")


class AnthropicLanguageModel:
    """Text and structured (tool-forced) answers from one Anthropic model."""

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        *,
        retry: RetryPolicy = DEFAULT_POLICY,
        timeout_s: float = 120.0,
    ) -> None:
        """`base_url=None` is the SDK's default (Anthropic's API); `timeout_s` is per attempt."""
        if not api_key:
            raise ProviderNotConfigured("Writing", "ANTHROPIC_API_KEY")
        self._model = model
        self._retry = retry
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)

    @property
    def model(self) -> str:
        """The model every request names (ANTHROPIC_MODEL)."""
        return self._model

    async def generate_json(
        self, *, system: str, prompt: str, schema: dict[str, Any], tool_name: str, max_tokens: int = 2048
    ) -> dict[str, Any]:
        """The input the model gave the forced tool `tool_name` (unvalidated: the caller checks it)."""
        tool: ToolParam = {
            "name": tool_name,
            "description": f"Record the answer as {tool_name}.",
            "input_schema": schema,
        }
        choice: ToolChoiceToolParam = {"type": "tool", "name": tool_name}
        message = await self._create(system, prompt, max_tokens, tools=[tool], tool_choice=choice)
        for block in message.content:
            if isinstance(block, ToolUseBlock) and block.name == tool_name:
                if message.stop_reason == "max_tokens":
                    logger.warning("Anthropic %s answer was cut at max_tokens=%d", tool_name, max_tokens)
                if not isinstance(block.input, dict):
                    break
                return dict(block.input)
        logger.warning("Anthropic answered without the forced tool %s (stop_reason %s)", tool_name, message.stop_reason)
        raise ProviderUnavailable(PROVIDER, "unexpected answer")

    async def generate_text(self, *, system: str, prompt: str, max_tokens: int = 2048) -> str:
        """The text blocks of the answer, joined."""
        message = await self._create(system, prompt, max_tokens)
        text = "".join(block.text for block in message.content if isinstance(block, TextBlock))
        if not text:
            logger.warning("Anthropic answered with no text (stop_reason %s)", message.stop_reason)
            raise ProviderUnavailable(PROVIDER, "unexpected answer")
        return text

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.close()

    async def _create(
        self,
        system: str,
        prompt: str,
        max_tokens: int,
        *,
        tools: list[ToolParam] | None = None,
        tool_choice: ToolChoiceToolParam | None = None,
    ) -> Message:
        messages: list[MessageParam] = [{"role": "user", "content": prompt}]

        async def attempt() -> Message:
            try:
                if tools is not None and tool_choice is not None:
                    return await self._client.messages.create(
                        model=self._model,
                        max_tokens=max_tokens,
                        system=system,
                        messages=messages,
                        tools=tools,
                        tool_choice=tool_choice,
                    )
                return await self._client.messages.create(
                    model=self._model, max_tokens=max_tokens, system=system, messages=messages
                )
            except anthropic.AnthropicError as exc:
                raise self._translate(exc) from None

        return await with_retries(attempt, provider=PROVIDER, what="request", policy=self._retry)

    def _translate(self, exc: anthropic.AnthropicError) -> Exception:
        """Our exception for an SDK failure: TransientError (retried), ProviderRefused or ProviderUnavailable."""
        if isinstance(exc, anthropic.APIStatusError):
            return self._status_error(exc)
        if isinstance(exc, anthropic.APITimeoutError):
            return TransientError("timed out")
        if isinstance(exc, anthropic.APIConnectionError):
            return TransientError("could not connect")
        logger.warning("Anthropic request failed: %s", type(exc).__name__)
        return ProviderUnavailable(PROVIDER, "unexpected answer")

    def _status_error(self, exc: anthropic.APIStatusError) -> Exception:
        status = exc.status_code
        if status == 429:
            return TransientError("rate-limited (HTTP 429)", retry_after_seconds(exc.response.headers))
        if status == 529:
            return TransientError("overloaded (HTTP 529)", retry_after_seconds(exc.response.headers))
        if status >= 500 or status in (408, 409):
            return TransientError(f"server error (HTTP {status})", retry_after_seconds(exc.response.headers))
        message = (exc.api_message or "").lower()
        if status == 402 or exc.type == "billing_error" or any(word in message for word in _BILLING_WORDS):
            return _refused(
                _USER_BILLING,
                f"the account is out of credit or over its spend limit (HTTP {status}): "
                "check Plans & Billing in the Anthropic console",
            )
        if status in (401, 403):
            return _refused(_USER_ACCOUNT, f"the API key was refused (HTTP {status}): check ANTHROPIC_API_KEY")
        if status == 404:
            return _refused(_USER_SETUP, f"model {self._model!r} not found (HTTP 404): check ANTHROPIC_MODEL")
        return _refused(_USER_REQUEST, f"request rejected (HTTP {status}) for model {self._model!r}")


def _refused(user_text: str, operator_hint: str) -> ProviderRefused:
    logger.error("Anthropic refused a request: %s", operator_hint)
    return ProviderRefused(PROVIDER, user_text, operator_hint)
