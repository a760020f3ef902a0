"""`AiohttpRequest`: python-telegram-bot's Bot API transport on one `aiohttp.ClientSession`.

PTB's default `HTTPXRequest` costs this process about 2 ms of CPU per Bot API call with 16 callers
at once (httpcore polls every pooled connection on each request); the same POST over aiohttp costs
about 0.35 ms (bench/telegram_updates.py, docs/benchmarks.md "Telegram"). This class keeps PTB's
contract (`telegram.request.BaseRequest`):

- the session is created lazily in the running loop (`initialize`, or the first request) and closed
  by `shutdown`; a later `initialize` or request opens a new one;
- timeouts passed per call win, `DEFAULT_NONE` means the instance's defaults (`read_timeout` is the
  default PTB adds the long-poll timeout to for `getUpdates`); `pool_timeout` + `connect_timeout`
  bound getting a connection, `read_timeout` each wait for response bytes. aiohttp has no per-write
  timeout: an upload (files) is bounded as a whole by pool + connect + write + read
  (`media_write_timeout` for the write part unless `write_timeout` is passed);
- proxies from the environment as httpx (PTB's default) takes them: HTTPS_PROXY / HTTP_PROXY for
  the URL's scheme, else ALL_PROXY, unless NO_PROXY names the host; credentials in the proxy URL.
  Only `http://` proxies (aiohttp's kind); another kind (socks, https) is reported and not used.
  Looked up once per session and host (`env_proxy`), not per call: aiohttp's own `trust_env` did
  it, and read `~/.netrc`, on two worker threads for every call (≈ 0.15 ms of CPU, a third of it);
- parameters are form-encoded (`json_parameters`), uploads are multipart with each file's name and
  MIME type, as HTTPXRequest sends them;
- errors as HTTPXRequest raises them: a timeout → `telegram.error.TimedOut`, any other transport
  failure → `telegram.error.NetworkError`. The URL holds the bot token, and aiohttp's messages can
  contain it ("Connection timeout to host <url>", "Can not write request body for <url>"): our
  messages name the aiohttp error and its redacted text, and are raised without the aiohttp error
  attached (no `__cause__`/`__context__` that a logged traceback would print).

At DEBUG each request is logged as httpx logs it (`HTTP Request: POST …/bot***/sendMessage "HTTP/1.1 200
OK"`), the token already replaced by `***`.
"""

from __future__ import annotations

import base64
import logging
import re
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

logger = logging.getLogger(__name__)

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_TOKEN_IN_URL = re.compile(r"/bot([^/?#]+)")
TIMED_OUT = "Timed out"
POOL_OR_CONNECT_TIMED_OUT = (
    "Timed out getting a connection to the Bot API (connect or pool timeout); the request was not answered"
)


def _sum(*parts: float | None) -> float | None:
    """The sum of timeouts, or None (no limit) when one of them is None."""
    total = 0.0
    for part in parts:
        if part is None:
            return None
        total += part
    return total


def redact(text: str, url: str, *, url_as: str = "<Bot API URL>", hidden_as: str = "<token>") -> str:
    """`text` without `url` and without the bot token it contains (raw or percent-encoded)."""
    if url_as != url:
        text = text.replace(url, url_as)
    match = _TOKEN_IN_URL.search(url)
    if match:
        token = match.group(1)
        for form in {token, urllib.parse.unquote(token), urllib.parse.quote(token, safe="")}:
            if form:
                text = text.replace(form, hidden_as)
    return text


def env_proxy(url: str) -> tuple[str | None, dict[str, str] | None]:
    """The `http://` proxy the environment names for `url`, and its Proxy-Authorization header; (None, None): direct.

    HTTPS_PROXY / HTTP_PROXY for the URL's scheme, else ALL_PROXY (upper or lower case); none when
    NO_PROXY names the host. The proxy's URL is never logged (it may hold a password).
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if host and urllib.request.proxy_bypass(host):
        return None, None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None, None
    named = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if named.scheme != "http" or not named.hostname:
        logger.warning("the environment's %s proxy for the Bot API is not an http:// proxy: not used", named.scheme)
        return None, None
    headers = None
    if named.username is not None:
        user = f"{urllib.parse.unquote(named.username)}:{urllib.parse.unquote(named.password or '')}"
        headers = {"Proxy-Authorization": "Basic " + base64.b64encode(user.encode()).decode("ascii")}
    address = f"[{named.hostname}]" if ":" in named.hostname else named.hostname
    return f"http://{address}:{named.port or 80}", headers


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` over one `aiohttp.ClientSession` (see the module docstring).

    Defaults as `HTTPXRequest`: a pool of 256 connections, read/write/connect 5 s, pool 1 s,
    media_write 20 s.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_read_timeout",
        "_session",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        self._proxies: dict[tuple[str, str], tuple[str | None, dict[str, str] | None]] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (s): what a call without its own gets (PTB adds a long poll's timeout)."""
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        """At most this many connections at once (aiohttp's connector limit)."""
        return self._pool_size

    @property
    def is_open(self) -> bool:
        """A session is open (after `initialize` or a request, until `shutdown`)."""
        return self._session is not None and not self._session.closed

    def _open(self) -> aiohttp.ClientSession:
        """The session, created in the running loop when there is none (or it was closed)."""
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
                trust_env=False,  # the environment's proxies are looked up here, once (`_proxy`)
            )
            self._session = session
            self._proxies.clear()  # a new session reads the environment again
        return session

    def _proxy(self, url: str) -> tuple[str | None, dict[str, str] | None]:
        """`env_proxy(url)`, remembered per scheme and host for the session."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        found = self._proxies.get(key)
        if found is None:
            found = env_proxy(url)
            self._proxies[key] = found
        return found

    async def initialize(self) -> None:
        """Open the session (in the running loop)."""
        self._open()

    async def shutdown(self) -> None:
        """Close the session and its connections; does nothing when none is open."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(
        self, read: float | None, write: float | None, connect: float | None, pool: float | None, upload: bool
    ) -> aiohttp.ClientTimeout:
        key = (read, write, connect, pool, 1.0 if upload else 0.0)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=_sum(pool, connect, write, read) if upload else None,
                connect=_sum(pool, connect),  # aiohttp's `connect`: waiting for the pool + connecting
                sock_connect=connect,
                sock_read=read,
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = timeout
        return timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; returns (HTTP status, body). Raises `TimedOut` or `NetworkError` (no token)."""
        session = self._open()
        upload = request_data is not None and request_data.contains_files
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if upload else self._write_timeout
        else:
            write = write_timeout
        timeout = self._timeout(read, write, connect, pool, upload)

        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if upload:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (file_name, content, mime_type) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=file_name, content_type=mime_type)
                data = form
            else:
                parameters = request_data.json_parameters
                if parameters:
                    data = urllib.parse.urlencode(parameters).encode()
                    headers = _FORM

        proxy, proxy_headers = self._proxy(url)
        if proxy_headers and url.startswith("http://"):
            # aiohttp sends `proxy_headers` on CONNECT (https targets) only; a plain-http request goes
            # to the proxy itself, so its credentials travel with the request's own headers.
            headers = {**(headers or {}), **proxy_headers}
        failure: NetworkError
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=proxy, proxy_headers=proxy_headers
            ) as response:
                body = await response.read()
            if logger.isEnabledFor(logging.DEBUG):  # httpx's request line, with the token's place as ***
                version = response.version
                logger.debug(
                    'HTTP Request: %s %s "HTTP/%s %s %s"',
                    method,
                    redact(url, url, url_as=url, hidden_as="***"),
                    f"{version.major}.{version.minor}" if version else "1.1",
                    response.status,
                    response.reason,
                )
            return response.status, body
        except aiohttp.ConnectionTimeoutError:
            failure = TimedOut(POOL_OR_CONNECT_TIMED_OUT)
        except TimeoutError:  # asyncio.TimeoutError; aiohttp's ServerTimeoutError (a read) is one too
            failure = TimedOut(TIMED_OUT)
        except (aiohttp.ClientError, OSError) as exc:
            failure = NetworkError(f"aiohttp.{type(exc).__name__}: {redact(str(exc), url)}")
        # Raised here, outside the handler: the aiohttp error (its text may hold the URL) is not chained.
        raise failure
