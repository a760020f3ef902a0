"""A local DeepL API (`POST /v2/translate`) for the real `deepl` SDK.

Point the SDK at it with `deepl.Translator(key, server_url=server.url)` (or
`DEEPL_SERVER_URL=server.url`). It checks the `Authorization: DeepL-Auth-Key …` header,
accepts JSON and form bodies, and answers the shape the SDK parses:
`{"translations": [{"text", "detected_source_language", "billed_characters"}]}`.

Translations come from `glossary` (source text -> translation) when the text is there,
else `"<text> [<TARGET_LANG>]"`, so a test can tell what was translated into what.

Failures: `fail_with = 429 | 456 | 500 | 503 | …` makes every request fail with that status;
`fail_next = [503, 429]` fails the next requests in that order, then answers normally;
`malformed = True` answers 200 with a body that is not DeepL's shape.
Error bodies echo the received Authorization header on purpose, to prove that callers
never pass a provider's error text (and so the key) on to users or logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.servers._base import LocalServer

DEFAULT_GLOSSARY: dict[str, str] = {
    "casa": "house",
    "perro": "dog",
    "gato": "cat",
    "comer": "to eat",
    "maison": "house",
    "Haus": "house",
    "house": "casa",
}


@dataclass
class TranslateCall:
    """One request as the server saw it."""

    texts: list[str]
    target_lang: str
    source_lang: str | None
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class DeepLServer(LocalServer):
    def __init__(self, api_key: str = "test-deepl-key:fx", glossary: dict[str, str] | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.glossary = dict(DEFAULT_GLOSSARY if glossary is None else glossary)
        self.calls: list[TranslateCall] = []
        self.fail_with: int | None = None
        self.fail_next: list[int] = []
        self.attempts = 0
        self.malformed = False

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/translate", self._translate)

    def reset(self) -> None:
        self.calls.clear()
        self.fail_with = None
        self.fail_next.clear()
        self.attempts = 0
        self.malformed = False

    async def _translate(self, request: web.Request) -> web.Response:
        self.attempts += 1
        auth = request.headers.get("Authorization", "")
        if auth != f"DeepL-Auth-Key {self.api_key}":
            return _error(403, f"Wrong or missing key: {auth!r}")
        status = self.fail_next.pop(0) if self.fail_next else self.fail_with
        if status is not None:
            return _error(status, f"Failure {status} for {auth}")
        if self.malformed:
            return web.json_response({"translations": [{"txt": "?"}]})
        params = await _params(request)
        texts = [str(text) for text in params.get("text", [])]
        target = str(params.get("target_lang") or "")
        if not texts or not target:
            return _error(400, "Parameter 'text' and 'target_lang' are required")
        source = params.get("source_lang")
        self.calls.append(
            TranslateCall(texts, target, str(source) if source else None, request.content_type, dict(request.headers))
        )
        detected = str(source).upper() if source else "EN"
        return web.json_response({"translations": [self._translation(text, target, detected) for text in texts]})

    def _translation(self, text: str, target: str, detected: str) -> dict[str, Any]:
        translated = self.glossary.get(text, f"{text} [{target}]")
        return {"text": translated, "detected_source_language": detected, "billed_characters": len(text)}


async def _params(request: web.Request) -> dict[str, Any]:
    """JSON body as is; a form body with repeated `text` fields becomes a list."""
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body.get("text"), str):
            body["text"] = [body["text"]]
        return dict(body)
    form = await request.post()
    params: dict[str, Any] = {key: form.get(key) for key in form if key != "text"}
    params["text"] = [str(value) for value in form.getall("text", [])]
    return params


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
