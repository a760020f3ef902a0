"""A local Anthropic Messages API (`POST /v1/messages`) for the real `anthropic` SDK.

Point the SDK at it with `AsyncAnthropic(api_key=key, base_url=server.url)` (no `/v1`), or
`ANTHROPIC_BASE_URL=server.url`. It checks the key — `x-api-key: KEY` as older SDKs send it, or
`Authorization: Bearer KEY` as the SDK in use here (2.x) does — and answers the shape the SDK
parses: `{"id", "type": "message", "role", "model", "content": [...], "stop_reason", "usage"}`.

Answers: a request that forces a tool (`tool_choice: {"type": "tool", "name": N}`) gets a
`tool_use` block named N whose input is the next of `tool_inputs` (a queue), else `tool_input`;
any other request gets a text block, the next of `texts`, else `text`. `responder(body)` — when
set — returns the content blocks instead, for tests that script a conversation.

Failures: `fail_with = 401 | 429 | 529 | …` fails every request with that status;
`fail_next = [429, 529, 500]` fails the next requests in that order, then answers normally;
`fail_message` replaces the error message (e.g. `CREDIT_BALANCE_TOO_LOW` with 400);
`retry_after` adds a `retry-after` header to failures; `no_tool_use = True` answers a forced
tool with text only. `delay` seconds are spent on every call (benchmarks).
Error bodies echo the received key on purpose, to prove that callers never pass a provider's
error text (and so the key) on to users or logs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.servers._base import LocalServer

CREDIT_BALANCE_TOO_LOW = (
    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or "
    "purchase credits."
)

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class MessagesCall:
    """One request as the server saw it (failed attempts included: see `attempts`)."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return str(self.body.get("model"))

    @property
    def prompt(self) -> str:
        """The text of the last user message."""
        content = self.body["messages"][-1]["content"]
        if isinstance(content, str):
            return content
        return "".join(block.get("text", "") for block in content if block.get("type") == "text")


class AnthropicServer(LocalServer):
    def __init__(self, api_key: str = "test-anthropic-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.calls: list[MessagesCall] = []  # requests that got an answer
        self.attempts: list[MessagesCall] = []  # every request, failed or not
        self.text = "Hola."
        self.texts: list[str] = []
        self.tool_input: dict[str, Any] = {}
        self.tool_inputs: list[dict[str, Any]] = []
        self.responder: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None
        self.fail_with: int | None = None
        self.fail_next: list[int] = []
        self.fail_message: str | None = None
        self.retry_after: str | None = None
        self.no_tool_use = False
        self.delay = 0.0
        self._generation = 0  # bumped by reset(): a request from before it records nothing

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)

    def reset(self) -> None:
        self._generation += 1
        self.calls.clear()
        self.attempts.clear()
        self.text = "Hola."
        self.texts.clear()
        self.tool_input = {}
        self.tool_inputs.clear()
        self.responder = None
        self.fail_with = None
        self.fail_next.clear()
        self.fail_message = None
        self.retry_after = None
        self.no_tool_use = False
        self.delay = 0.0

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = MessagesCall(body, dict(request.headers))
        self.attempts.append(call)
        generation = self._generation
        if self.delay:
            await asyncio.sleep(self.delay)
        if generation != self._generation:  # the test that sent it is over: touch nothing of the next one
            return web.json_response({"error": "reset while in flight"}, status=503)
        key = _received_key(request)
        if key != self.api_key:
            return self._error(401, f"invalid x-api-key: {key!r}")
        status = self.fail_next.pop(0) if self.fail_next else self.fail_with
        if status is not None:
            return self._error(status, self.fail_message or f"Failure {status} for key {key}")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return self._error(400, f"{name}: Field required")
        self.calls.append(call)
        content, stop_reason = self._content(body)
        return web.json_response(
            {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": 11, "output_tokens": 7},
            }
        )

    def _content(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        if self.responder is not None:
            content = self.responder(body)
            return content, "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"
        choice = body.get("tool_choice") or {}
        if choice.get("type") == "tool" and not self.no_tool_use:
            tool_input = self.tool_inputs.pop(0) if self.tool_inputs else self.tool_input
            block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}", "name": choice["name"]}
            return [{**block, "input": tool_input}], "tool_use"
        text = self.texts.pop(0) if self.texts else self.text
        return [{"type": "text", "text": text}], "end_turn"

    def _error(self, status: int, message: str) -> web.Response:
        headers = {"request-id": f"req_{uuid.uuid4().hex[:20]}"}
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        error_type = _ERROR_TYPES.get(status, "api_error")
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        return web.json_response(body, status=status, headers=headers)


def _received_key(request: web.Request) -> str:
    """The API key of the request: `x-api-key`, else the bearer token of `Authorization`."""
    key = request.headers.get("x-api-key")
    if key is not None:
        return key
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else ""
