"""Our long-polling loop: nothing is confirmed to Telegram before it has been handled.

`getUpdates(offset)` confirms every update below `offset`, so the offset we send is the
*watermark*: the lowest update id still being handled (or one past the newest handled when none
is). Updates are handled concurrently, those of one chat one after another in arrival order
(`ChatQueue`). An update fetched again while still in flight, or already handled above the
watermark, is skipped by id. On stop: no new fetch (the one waiting is cancelled; what it would
have returned is not confirmed), in-flight updates finish (within `drain_timeout` when given:
those still running then are cancelled and not confirmed), and a last `getUpdates(offset,
timeout=0)` confirms exactly the handled ones.

One slow update (a database outage, a slow provider, a long rate-limit wait) must not stop every
other chat: when a fetch brings back only updates already in flight, the loop polls again after a
short interval (`repoll_interval`, 0.25 s) instead of waiting for one of them to finish, so new
updates of other chats are picked up. And because Telegram hands out at most 100 updates from the
offset, an update that pins the watermark for longer than `pin_cap` seconds (10 s) is *released*:
the offset passes it while its handling goes on (`Watermark.release`). The exception to "nothing
is confirmed before it is handled": a released update that then fails, or whose process dies
before it finishes, is not delivered again. A redelivery of one that is still running is skipped
here, and the chat layer de-duplicates update ids in the database anyway.

Updates are fetched as raw JSON (`get_raw_updates`: PTB's own getUpdates request, unparsed) and
only the ones not begun yet are parsed into `Update` objects: a fetch that brings back the updates
still in flight costs no parsing for them.

PTB's `Updater` is not used: it confirms a batch as soon as it has been fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, cast

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bots.telegram.convert import seconds

logger = logging.getLogger(__name__)

Handle = Callable[[Update], Awaitable[None]]
RawUpdate = dict[str, Any]  # one update as the Bot API sent it
ALLOWED_UPDATES: tuple[str, ...] = ("message", "callback_query")
MAX_IN_FLIGHT = 500  # more than that waiting: stop fetching until some finish
REPOLL_INTERVAL_S = 0.25  # a fetch brought only updates in flight: ask again this soon
PIN_CAP_S = 10.0  # an update in flight longer than this no longer holds back the offset
_BACKOFF_START_S = 0.5
_BACKOFF_MAX_S = 30.0


async def get_raw_updates(
    bot: Bot,
    *,
    offset: int | None,
    poll_timeout: int,
    allowed_updates: Sequence[str],
    limit: int | None = None,
) -> list[RawUpdate]:
    """The updates of a getUpdates call sent as PTB's `Bot.get_updates` sends it, not parsed.

    Same request object (the bot's updates request), same parameters (None ones dropped), same
    timeouts: the long poll's read timeout is the request's read timeout plus the poll timeout.
    PTB keeps that request private (`Bot._request[0]`, used for the endpoint "getUpdates").
    """
    read_timeout = (bot._request[0].read_timeout or 0) + poll_timeout
    data: dict[str, Any] = {
        "timeout": poll_timeout,
        "offset": offset,
        "limit": limit,
        "allowed_updates": list(allowed_updates),
    }
    result = await bot._post("getUpdates", data, read_timeout=read_timeout)
    return cast("list[RawUpdate]", result)


def parse_update(raw: RawUpdate, bot: Bot) -> Update:
    """One raw update as PTB's get_updates returns it (an `ExtBot` also puts back cached callback data)."""
    update = Update.de_json(raw, bot)
    if isinstance(bot, ExtBot):
        bot.insert_callback_data(update)
    return update


class Watermark:
    """Which update ids are in flight and handled, and the offset that confirms only handled ones."""

    def __init__(self) -> None:
        self._in_flight: set[int] = set()
        self._handled: set[int] = set()  # handled ids at or above the floor
        self._floor: int | None = None  # every fetched id below it is handled
        self._released: set[int] = set()  # still running, but no longer holding back the offset

    def begin(self, update_id: int) -> bool:
        """Start handling an update; False when it is in flight or handled already (a re-fetch)."""
        if self._floor is not None and update_id < self._floor:
            return False
        if update_id in self._in_flight or update_id in self._handled:
            return False
        self._in_flight.add(update_id)
        return True

    def finish(self, update_id: int) -> None:
        """The update was handled (successfully or not: either way it is not handled again)."""
        if update_id in self._released:  # counted as handled when it was released
            self._released.discard(update_id)
            return
        self._in_flight.discard(update_id)
        self._handled.add(update_id)

    def release(self, update_id: int) -> None:
        """Let the offset pass an update still being handled (it has pinned the watermark too long).

        A re-fetch of it is still skipped (it counts as handled), and `finish` is still called.
        """
        if update_id in self._in_flight:
            self._in_flight.discard(update_id)
            self._handled.add(update_id)
            self._released.add(update_id)

    @property
    def released(self) -> int:
        """How many released updates are still running."""
        return len(self._released)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def offset(self) -> int | None:
        """What getUpdates may confirm: everything below it is handled. None before any update."""
        if self._in_flight:
            low: int | None = min(self._in_flight)
        elif self._handled:
            low = max(self._handled) + 1
        else:
            low = self._floor
        if low is not None and (self._floor is None or low > self._floor):
            self._floor = low
            self._handled = {update_id for update_id in self._handled if update_id >= low}
        return self._floor


class ChatQueue:
    """Runs jobs concurrently, but jobs with the same key one after another in submission order."""

    def __init__(self) -> None:
        self._tails: dict[Hashable, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: Hashable, job: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Schedule `job` after every job already submitted with `key`; returns its task."""
        previous = self._tails.get(key)

        async def run() -> None:
            if previous is not None:
                try:
                    await asyncio.shield(previous)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # this job itself was cancelled (a bounded drain at stop)
                except BaseException:  # noqa: S110 - its failure is its own; order is what matters
                    pass
            await job()

        task = asyncio.create_task(run())
        self._tails[key] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: Hashable, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, at_most: float | None = None) -> int:
        """Wait until every submitted job has finished (jobs submitted meanwhile included).

        With `at_most` (seconds): the jobs still running after that are cancelled (and awaited);
        returns how many were cancelled.
        """
        loop = asyncio.get_running_loop()
        deadline = None if at_most is None else loop.time() + at_most
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            await asyncio.wait(list(self._tasks), timeout=left)
        cancelled = list(self._tasks)
        for task in cancelled:
            task.cancel()
        if cancelled:
            await asyncio.gather(*cancelled, return_exceptions=True)
        return len(cancelled)


class Poller:
    """Fetches updates with getUpdates and hands each to `handle` (which must not raise)."""

    def __init__(
        self,
        bot: Bot,
        handle: Handle,
        key: Callable[[Update], Hashable],
        *,
        timeout: int = 30,
        allowed_updates: Sequence[str] = ALLOWED_UPDATES,
        max_in_flight: int = MAX_IN_FLIGHT,
        repoll_interval: float = REPOLL_INTERVAL_S,
        pin_cap: float = PIN_CAP_S,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._key = key
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._max_in_flight = max_in_flight
        self._repoll_interval = repoll_interval
        self._pin_cap = pin_cap
        self._begun: dict[int, float] = {}  # update id in flight -> loop time it was fetched
        self.watermark = Watermark()
        self._queue = ChatQueue()
        self._stopping = asyncio.Event()
        self._progress = asyncio.Event()  # set whenever an update finishes
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop in a task (returns at once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="telegram-polling")

    async def stop(self, drain_timeout: float | None = None) -> None:
        """No new fetch; in-flight updates finish; the handled ones are confirmed.

        With `drain_timeout` (seconds), updates still running after it are cancelled and not
        confirmed: Telegram delivers them again at the next start.
        """
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        cancelled = await self._queue.drain(drain_timeout)
        if cancelled:
            logger.warning(
                "%d update(s) still running after %.0f s at stop were cancelled; Telegram will deliver them again",
                cancelled,
                drain_timeout or 0,
            )
        offset = self.watermark.offset
        if offset is None or self._task is None:
            return
        try:
            await get_raw_updates(self._bot, offset=offset, poll_timeout=0, limit=1, allowed_updates=self._allowed)
        except TelegramError as exc:
            logger.warning("could not confirm the handled updates at stop (%s); Telegram will send them again", exc)

    async def _loop(self) -> None:
        backoff = _BACKOFF_START_S
        while not self._stopping.is_set():
            if self.watermark.in_flight >= self._max_in_flight:
                self._progress.clear()
                await self._wait_for_progress()
                continue
            self._release_pinned()
            self._progress.clear()
            try:
                updates = await self._fetch()
            except _Stopped:
                return
            except RetryAfter as exc:
                await self._pause(seconds(exc, "retry_after") or 1.0)
                continue
            except TimedOut:
                continue  # a long poll that took too long: just ask again
            except (InvalidToken, Conflict, TelegramError) as exc:
                logger.warning("getUpdates failed: %s; retrying in %.1f s", _describe(exc), backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)
                continue
            except Exception:  # a malformed update or a bug: keep polling, loudly
                logger.exception("getUpdates failed unexpectedly; retrying in %.1f s", backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)
                continue
            backoff = _BACKOFF_START_S
            fresh = 0
            for raw in updates:
                update = self._begin(raw)
                if update is None:
                    continue  # in flight or handled already (not parsed again), or unreadable
                fresh += 1
                self._begun[update.update_id] = asyncio.get_running_loop().time()
                self._queue.submit(self._key(update), self._job(update))
            if updates and not fresh:
                # Only updates still in flight came back (Telegram answers at once while any is
                # unconfirmed): asking again at once would spin, waiting for one of them to finish
                # would stop every other chat behind a slow one. Ask again shortly.
                await self._wait_for_progress(self._repoll_interval)

    def _release_pinned(self) -> None:
        """Release the updates in flight for longer than the pin cap (see the module docstring)."""
        if not self._begun:
            return
        limit = asyncio.get_running_loop().time() - self._pin_cap
        for update_id, begun in list(self._begun.items()):
            if begun <= limit:
                del self._begun[update_id]
                self.watermark.release(update_id)
                logger.warning(
                    "update %s is still being handled after %.0f s; confirming past it so other updates flow",
                    update_id,
                    self._pin_cap,
                )

    def _begin(self, raw: RawUpdate) -> Update | None:
        """The update to handle, parsed; None when it was begun already (not parsed) or is unreadable.

        An unreadable update (no id, or one PTB cannot parse) is logged and counted as handled, so
        the offset passes it rather than fetching it again forever.
        """
        update_id = raw.get("update_id")
        if not isinstance(update_id, int):
            logger.error("getUpdates returned an update without an id; ignored")
            return None
        if not self.watermark.begin(update_id):
            return None
        try:
            return parse_update(raw, self._bot)
        except Exception:
            logger.exception("update %s could not be read; skipped", update_id)
            self.watermark.finish(update_id)
            return None

    async def _fetch(self) -> list[RawUpdate]:
        fetch = asyncio.ensure_future(
            get_raw_updates(
                self._bot, offset=self.watermark.offset, poll_timeout=self._timeout, allowed_updates=self._allowed
            )
        )
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if self._stopping.is_set():  # even if updates just arrived: they are not begun, so not confirmed
            fetch.cancel()
            with contextlib.suppress(BaseException):
                await fetch
            raise _Stopped
        return fetch.result()

    def _job(self, update: Update) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            try:
                await self._handle(update)
            except asyncio.CancelledError:
                # cut off at stop: not handled, so not confirmed (a released one already was)
                self._begun.pop(update.update_id, None)
                raise
            except Exception:
                logger.exception("update %s failed", update.update_id)
            self._begun.pop(update.update_id, None)
            self.watermark.finish(update.update_id)
            self._progress.set()

        return job

    async def _wait_for_progress(self, at_most: float | None = None) -> None:
        progress = asyncio.ensure_future(self._progress.wait())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({progress, stop}, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        progress.cancel()
        stop.cancel()

    async def _pause(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay)


class _Stopped(Exception):
    """The fetch was abandoned because the poller is stopping."""


def _describe(exc: TelegramError) -> str:
    if isinstance(exc, InvalidToken):
        return "the token was rejected (revoked?)"  # PTB's message would quote the token
    if isinstance(exc, Conflict):
        return "another process is polling with this token, or a webhook is set"
    return f"{type(exc).__name__}: {exc.message}"
