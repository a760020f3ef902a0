"""Updates/s through the real Telegram bot (PTB, our poller, handlers, services, Postgres) beside an echo bot.

The local Bot API server (tests/servers/telegram_server.py, extended here with simulated users)
runs in another process. Its users work in a closed loop: each has one update outstanding at a
time and sends the next as soon as the bot's answer to the previous one reaches the server, so
`USERS` updates are always in play. In this process, one after another:

- `echo`: the echo baseline. A PTB `Application` (built as `TelegramBot` builds its own: no
  Updater, no job queue, no rate limiter) driven by *our* polling loop
  (`bots.telegram.polling.Poller`, the one `TelegramBot` uses, same ordering key), with a handler
  that replies with the message text (`bot.send_message`). One update: one getUpdates share,
  one sendMessage.
- `buttons`: the real `TelegramBot` (rate_limiter=None, see below) on a fresh, migrated Postgres
  database with learners in a review session (cards bulk-loaded with `_load.BulkLoader`, 95 %
  due). Each user sends /review, then presses "Show answer" on the card the bot sent and a rating
  button (80 % Good) on the card the bot turned over, with the callback data the bot put on
  those buttons (read from the server's message store). One card: two updates; a press costs
  answerCallbackQuery + editMessageText (a rating turns the card into its outcome and the next card).
- `typed`: the same bot, other learners, typing the answer to each card (90 % right: the
  translation the loader gave the term); one sendMessage an update (the verdict and the next card).
- `buttons_floor`: the Bot API calls of `buttons` with nothing behind them (our Poller, canned
  HTML cards and buttons, no chat layer, no database): what our handlers add is buttons vs this.
- `ptb_echo` (reference only): the stock PTB `Updater` with a `MessageHandler` echo
  (`concurrent_updates(True)`), to compare our poller with PTB's.

The order repeats `BENCH_TG_ROUNDS` times (default 2), so load from elsewhere on the machine hits
every phase alike. Each phase: `BENCH_TG_WARMUP` updates handled (not measured), then the window
ends when `BENCH_TG_UPDATES` more are confirmed by the bot's getUpdates offset (our poller
confirms an update only once handled); rate = updates confirmed in the window / its duration, as
timed by the server. Latency = from the update being queued at the server to the bot's last
answer to it arriving there (what a user waits; with the bot saturated it is mostly queueing,
about USERS / rate), p50/p99 over the window. CPU per update: of this process (the bot) over the
whole phase, and of the server process over the window; `bot_cpu_share` (the bot's CPU / the
phase's wall time) near 1 says the bot process, one core of Python, is what limits the rate.
The ratio is also given as echo CPU per update / review CPU per update (`…_by_bot_cpu`): what it
would be with the bot alone on a core, whatever else the machine is doing.

`calls` (reference, after each round): the CPU one Bot API call costs this process, USERS callers
at once: PTB's `bot.send_message`, and the same POST by hand over httpx (PTB's HTTP client) and
over aiohttp.

Both bots run without a rate limiter: with `TelegramRateLimiter` (Telegram's limits: 1 message a
second per private chat, 30 overall) the pacing, not the handlers, would be measured; the limiter
is measured by bench/telegram_ratelimit.py. Logging is configured as `langlearn telegram` does
(INFO, httpx at WARNING, the redacting filter), and this process runs on the event loop it runs
on (`bots.telegram.runner.event_loop_factory`: uvloop; BENCH_TG_LOOP=asyncio for the default loop).

Goal (issue 3): review answers (`buttons`) at least 0.7 of the echo rate.

    uv run python bench/telegram_updates.py           # one JSON line on stdout, 2-6 min
    BENCH_TG_PROFILE=/tmp/bot.prof uv run python bench/telegram_updates.py   # cProfile of the bot, `buttons`

Smaller/other runs: BENCH_TG_USERS (16), BENCH_TG_WARMUP (300), BENCH_TG_UPDATES (2000),
BENCH_TG_ROUNDS (2), BENCH_TG_PHASES (echo,buttons,typed,ptb_echo,calls), BENCH_TG_CALLS (100),
BENCH_TG_PROFILE_PHASE (buttons; the profiled phase's figures are of course slower).
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("BENCH_TG_USERS", "16"))
WARMUP = int(os.environ.get("BENCH_TG_WARMUP", "300"))
UPDATES = int(os.environ.get("BENCH_TG_UPDATES", "2000"))
ROUNDS = int(os.environ.get("BENCH_TG_ROUNDS", "2"))
PROFILE = os.environ.get("BENCH_TG_PROFILE")  # a path: cProfile the bot process during one phase, dump there
PROFILE_PHASE = os.environ.get("BENCH_TG_PROFILE_PHASE", "buttons")  # the phase of the first round to profile
PHASES = [
    p for p in os.environ.get("BENCH_TG_PHASES", "echo,buttons_floor,buttons,typed,ptb_echo,calls").split(",") if p
]
SERVER_MODE = {"ptb_echo": "echo", "buttons_floor": "buttons"}  # what the users do in each phase
CALLS_PER_USER = int(os.environ.get("BENCH_TG_CALLS", "100"))  # the `calls` phase: sendMessage calls per user
REVIEW_PHASES = ("buttons", "typed")
POLL_TIMEOUT = 10
RATINGS = ["Good"] * 16 + ["Again"] * 2 + ["Hard", "Easy"]  # as bench/review_loop.py
TYPED_RIGHT = 0.9
FIRST_ECHO_USER = 6_000_001
FIRST_LEARNER = 7_000_001
APOLOGY = "Something went wrong"
TERM = re.compile(r"^palabra(\d+)$")


# --- the server process: the Bot API and its users -----------------------------------------------


def serve() -> None:
    """`--serve`: the Bot API server with closed-loop users, in this (separate) process."""
    sys.path.insert(0, str(ROOT))
    from aiohttp import web

    from tests.servers.telegram_server import BotApiServer, SentMessage

    @dataclass
    class User:
        uid: int
        rng: random.Random
        outstanding: tuple[str, float] | None = None  # what the last update was, when it was queued

    @dataclass
    class Run:
        mode: str
        users: dict[int, User]
        warmup: int
        measure: int
        first_id: int
        done: asyncio.Event = field(default_factory=asyncio.Event)
        active: bool = True
        confirmed: int = 0
        marks: dict[str, dict[str, Any]] = field(default_factory=dict)  # "warm" / "end": time, count, cpu, calls
        samples: list[tuple[str, float, float]] = field(default_factory=list)  # kind, queued, answered
        apologies: int = 0
        unexpected: Counter[str] = field(default_factory=Counter)

    class BenchServer(BotApiServer):
        """The Bot API plus users who answer what the bot sends them (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__(record=False)
            self.run: Run | None = None

        def routes(self, app: web.Application) -> None:
            super().routes(app)
            app.router.add_post("/_bench/run", self._bench_run)
            app.router.add_post("/_bench/drain", self._bench_drain)

        # hooks: every message the bot sends or edits passes here
        def _store(self, chat_id: int, kind: str, params: dict[str, Any], text_key: str, **kw: Any) -> dict[str, Any]:
            message = super()._store(chat_id, kind, params, text_key, **kw)
            self._seen(self._by_id[(chat_id, message["message_id"])], new=True)
            return message

        def _edited(self, message: SentMessage) -> dict[str, Any]:
            raw = super()._edited(message)
            self._seen(message, new=False)
            return raw

        def _confirm(self, offset: int) -> None:
            super()._confirm(offset)
            run = self.run
            if run is None:
                return
            run.confirmed = max(run.confirmed, min(offset, self._next_update_id) - run.first_id)
            if "warm" not in run.marks and run.confirmed >= run.warmup:
                run.marks["warm"] = self._mark(run)
            if "end" not in run.marks and run.confirmed >= run.warmup + run.measure:
                run.marks["end"] = self._mark(run)
                run.active = False
                run.done.set()

        def _mark(self, run: Run) -> dict[str, Any]:
            return {
                "t": time.monotonic(),
                "count": run.confirmed,
                "cpu": time.process_time(),
                "calls": dict(self.counts),
                "errors": sum(self.errors.values()),
            }

        # the users
        def _seen(self, sent: SentMessage, *, new: bool) -> None:
            run = self.run
            user = run.users.get(sent.chat_id) if run is not None else None
            if run is None or user is None:
                return
            if APOLOGY in sent.text:
                run.apologies += 1
            if user.outstanding is None:
                return
            labels = sent.labels
            show = any("Show answer" in label for label in labels)
            rating = any(label.startswith("Good") for label in labels)
            if run.mode == "echo":
                trigger = new
            elif run.mode == "buttons":
                trigger = show or rating
            else:
                trigger = new and show
            if not trigger:
                return
            kind, queued = user.outstanding
            user.outstanding = None
            run.samples.append((kind, queued, time.monotonic()))
            if run.active:
                self._act(run, user, sent)

        def _act(self, run: Run, user: User, sent: SentMessage | None) -> None:
            """The user's next update, answering `sent` (None: the first one)."""
            uid = user.uid
            if run.mode == "echo":
                kind, update_id = "echo", self.send_text(uid, f"echo {uid} {user.rng.random():.6f}")
            elif sent is None:
                kind, update_id = "command", self.send_text(uid, "/review")
            elif run.mode == "buttons" and any("Show answer" in label for label in sent.labels):
                kind, update_id = "show", self.press(uid, sent, "Show answer")
            elif run.mode == "buttons":
                kind, update_id = "rate", self.press(uid, sent, user.rng.choice(RATINGS))
            else:
                # the card's front is a line of its own (after the verdict of the previous card)
                term = next((m for line in sent.text.split("\n") if (m := TERM.match(line))), None)
                if term is None:
                    run.unexpected[sent.text.split("\n", 1)[0][:40]] += 1
                    return
                right = user.rng.random() < TYPED_RIGHT
                kind, update_id = "typed", self.send_text(uid, f"word {term.group(1)}" if right else "gato")
            del update_id
            user.outstanding = (kind, time.monotonic())

        async def _bench_run(self, request: web.Request) -> web.Response:
            body = await request.json()
            users = {uid: User(uid, random.Random(uid)) for uid in body["users"]}
            run = Run(body["mode"], users, int(body["warmup"]), int(body["measure"]), self._next_update_id)
            self.run = run
            for user in users.values():
                self._act(run, user, None)
            try:
                await asyncio.wait_for(run.done.wait(), float(body.get("timeout", 600)))
            except TimeoutError:
                return web.json_response({"error": f"timed out: {run.confirmed} confirmed"}, status=504)
            return web.json_response(self._figures(run))

        async def _bench_drain(self, request: web.Request) -> web.Response:
            """Wait until every user's last update was answered; then the users leave."""
            run = self.run
            if run is None:
                return web.json_response({"stalled": 0})
            deadline = time.monotonic() + 30
            while any(u.outstanding for u in run.users.values()) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # a few polls at the end of a run, nothing to hang an event on
            stalled = sum(1 for u in run.users.values() if u.outstanding)
            self.run = None
            return web.json_response(
                {"stalled": stalled, "unexpected": dict(run.unexpected), "apologies": run.apologies,
                 "pending": len(self._pending)}
            )

        def _figures(self, run: Run) -> dict[str, Any]:
            warm, end = run.marks["warm"], run.marks["end"]
            elapsed = end["t"] - warm["t"]
            window = [s for s in run.samples if s[1] >= warm["t"] and s[2] <= end["t"]]
            kinds: dict[str, list[int]] = {}
            for kind, queued, answered in window:
                kinds.setdefault(kind, []).append(int((answered - queued) * 1e9))
            calls = {
                method: n - warm["calls"].get(method, 0)
                for method, n in end["calls"].items()
                if n - warm["calls"].get(method, 0)
            }
            return {
                "updates": end["count"] - warm["count"],
                "elapsed_s": elapsed,
                "t_warm": warm["t"],
                "t_end": end["t"],
                "latency_ns": {"all": [int((a - q) * 1e9) for _, q, a in window], **kinds},
                "server_cpu_s": end["cpu"] - warm["cpu"],
                "calls": calls,
                "errors": end["errors"] - warm["errors"],
                "apologies": run.apologies,
            }

    async def main() -> None:
        server = BenchServer()
        url = await server.start()
        print(f"READY {url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"bench: the Bot API server did not start ({line!r})")
    return process, line.removeprefix("READY ")


# --- this process: the bots ----------------------------------------------------------------------


class EchoBot:
    """The echo baseline: PTB Application as TelegramBot builds it, our Poller, reply with the text."""

    def __init__(self, url: str) -> None:
        from telegram.ext import ApplicationBuilder

        from bots.telegram.request import AiohttpRequest
        from tests.servers.telegram_server import TOKEN

        self.application = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(f"{url}/bot")
            .base_file_url(f"{url}/file/bot")
            .updater(None)
            .job_queue(None)
            .request(AiohttpRequest())  # the transport TelegramBot uses
            .get_updates_request(AiohttpRequest(connection_pool_size=2))
            .build()
        )
        self._poller: Any = None

    async def handle(self, update: Any) -> None:
        message = update.message
        if message is not None and message.text:
            await self.application.bot.send_message(message.chat.id, message.text)

    async def start(self) -> None:
        from bots.telegram.convert import ordering_key
        from bots.telegram.polling import ALLOWED_UPDATES, Poller

        await self.application.initialize()
        await self.application.bot.delete_webhook(drop_pending_updates=False)
        self._poller = Poller(
            self.application.bot, self.handle, ordering_key, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
        )
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
        await self.application.shutdown()


class ButtonsFloorBot(EchoBot):
    """The Bot API calls of a review by buttons, with canned content: no chat layer, no database.

    /review: the card (sendMessage, a "Show answer" button). "Show answer": answerCallbackQuery,
    the card turned over (editMessageText, four rating buttons). A rating: answerCallbackQuery,
    the card's outcome and the next card in one edit (editMessageText, "Show answer"). HTML, as ours.
    """

    async def handle(self, update: Any) -> None:
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        bot = self.application.bot
        show = InlineKeyboardMarkup([[InlineKeyboardButton("Show answer", callback_data="rv.s:0:1")]])
        rate = InlineKeyboardMarkup(
            [[InlineKeyboardButton(f"{label} · 1d", callback_data=f"rv.r:0:1:{n}")
              for n, label in enumerate(("Again", "Hard", "Good", "Easy"), 1)]]
        )
        card = "<b>palabra</b>\n\nIn English? Type your answer, or press Show answer."
        query = update.callback_query
        if query is None:
            await bot.send_message(update.effective_chat.id, card, parse_mode="HTML", reply_markup=show)
            return
        await bot.answer_callback_query(query.id)
        chat_id, message_id = query.message.chat.id, query.message.message_id
        if query.data.startswith("rv.s"):
            back = "<b>palabra</b> → word\nHow well did you know it?"
            await bot.edit_message_text(back, chat_id, message_id, parse_mode="HTML", reply_markup=rate)
        else:
            rated = f"<b>palabra</b> → word\nGood · next in 1d\n\n{card}"
            await bot.edit_message_text(rated, chat_id, message_id, parse_mode="HTML", reply_markup=show)


class PtbEchoBot:
    """Reference: the stock PTB Updater (confirms on fetch) with a MessageHandler echo."""

    def __init__(self, url: str) -> None:
        from telegram.ext import ApplicationBuilder, MessageHandler, filters

        from tests.servers.telegram_server import TOKEN

        self.application = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(f"{url}/bot")
            .base_file_url(f"{url}/file/bot")
            .job_queue(None)
            .concurrent_updates(True)
            .build()
        )

        async def echo(update: Any, context: Any) -> None:
            await context.bot.send_message(update.message.chat.id, update.message.text)

        self.application.add_handler(MessageHandler(filters.TEXT, echo))

    async def start(self) -> None:
        await self.application.initialize()
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)

    async def stop(self) -> None:
        assert self.application.updater is not None
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()


async def api_call_costs(url: str, users: list[int]) -> dict[str, dict[str, float]]:
    """CPU of this process per Bot API call (sendMessage, USERS callers at once, no handler around it).

    `ptb`: PTB's `bot.send_message` (request built, sent with PTB's httpx backend, the Message parsed);
    `httpx` / `aiohttp`: the same POST by hand with each client, the JSON answer decoded. Where the
    cost of one call lives: PTB's object layer, or the HTTP client.
    """
    import aiohttp
    from telegram.ext import ApplicationBuilder

    from tests.servers.telegram_server import TOKEN

    path = f"/bot{TOKEN}/sendMessage"
    results: dict[str, dict[str, float]] = {}

    async def measure(name: str, call: Any) -> None:
        await asyncio.gather(*(call(user) for user in users))  # connections opened, code paths warm

        async def caller(user: int) -> None:
            for _ in range(CALLS_PER_USER):
                await call(user)

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller(user) for user in users))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        n = CALLS_PER_USER * len(users)
        results[name] = {"calls_per_s": round(n / wall, 1), "cpu_ms_per_call": round(1000 * cpu / n, 3)}

    application = ApplicationBuilder().token(TOKEN).base_url(f"{url}/bot").updater(None).job_queue(None).build()
    await application.initialize()
    try:
        await measure("ptb", lambda user: application.bot.send_message(user, "ping"))
    finally:
        await application.shutdown()
    async with httpx.AsyncClient(base_url=url) as client:

        async def via_httpx(user: int) -> None:
            (await client.post(path, data={"chat_id": str(user), "text": "ping"})).json()

        await measure("httpx", via_httpx)
    async with aiohttp.ClientSession(url) as session:

        async def via_aiohttp(user: int) -> None:
            async with session.post(path, data={"chat_id": str(user), "text": "ping"}) as response:
                await response.json()

        await measure("aiohttp", via_aiohttp)
    return results


@dataclass
class Phase:
    """One measured phase: figures from the server plus this process's CPU."""

    name: str
    round: int
    figures: dict[str, Any]
    bot_cpu_s: float
    wall_s: float
    phase_updates: int

    @property
    def rate(self) -> float:
        return float(self.figures["updates"]) / float(self.figures["elapsed_s"])


async def run_phase(
    name: str, round_no: int, client: httpx.AsyncClient, bot: Any, users: list[int]
) -> Phase:
    from _common import log

    before = (await client.get("/_test/stats")).json()
    if before["pending"]:
        raise SystemExit(f"bench: {before['pending']} updates left pending before {name}")
    await bot.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler = cProfile.Profile() if PROFILE and name == PROFILE_PHASE and round_no == 0 else None
    if profiler is not None:
        profiler.enable()
    response = await client.post(
        "/_bench/run",
        json={"mode": SERVER_MODE.get(name, name), "users": users, "warmup": WARMUP, "measure": UPDATES},
        timeout=None,
    )
    if response.status_code != 200:
        raise SystemExit(f"bench: {name} failed: {response.text}")
    drained = (await client.post("/_bench/drain", timeout=None)).json()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(PROFILE)
        log(f"cProfile of the bot during {name} written to {PROFILE}")
    cpu1, wall1 = time.process_time(), time.perf_counter()
    await bot.stop()
    after = (await client.get("/_test/stats")).json()
    if drained["stalled"] or drained["unexpected"] or after["pending"]:
        raise SystemExit(f"bench: {name} did not finish cleanly: {drained}, {after['pending']} pending")
    figures = response.json()
    phase = Phase(
        name,
        round_no,
        figures,
        bot_cpu_s=cpu1 - cpu0,
        wall_s=wall1 - wall0,
        phase_updates=after["last_update_id"] - before["last_update_id"],
    )
    log(
        f"round {round_no} {name}: {phase.rate:.0f} updates/s ({figures['updates']} in "
        f"{figures['elapsed_s']:.2f} s), bot CPU {1000 * phase.bot_cpu_s / phase.phase_updates:.2f} ms/update"
    )
    return phase


def _summary(phases: list[Phase]) -> dict[str, Any]:
    from _common import latency_ms

    rates = [round(p.rate, 1) for p in phases]
    latencies: dict[str, list[int]] = {}
    calls: Counter[str] = Counter()
    updates = 0
    for p in phases:
        for kind, values in p.figures["latency_ns"].items():
            latencies.setdefault(kind, []).extend(values)
        calls.update(p.figures["calls"])
        updates += p.figures["updates"]
    total = sum(p.phase_updates for p in phases)
    window_s = sum(p.figures["elapsed_s"] for p in phases)
    out: dict[str, Any] = {
        "updates_per_s": round(statistics.median(rates), 1),
        "updates_per_s_runs": rates,
        "latency": {kind: latency_ms(values) for kind, values in latencies.items()},
        "api_calls_per_update": {
            method: round(n / updates, 2) for method, n in sorted(calls.items()) if method != "getUpdates"
        },
        "getupdates_per_update": round(calls.get("getUpdates", 0) / updates, 3),
        "bot_cpu_ms_per_update": round(1000 * sum(p.bot_cpu_s for p in phases) / total, 3),
        "bot_cpu_share": round(sum(p.bot_cpu_s for p in phases) / sum(p.wall_s for p in phases), 2),
        "server_cpu_share": round(sum(p.figures["server_cpu_s"] for p in phases) / window_s, 2),
        "server_cpu_ms_per_update": round(1000 * sum(p.figures["server_cpu_s"] for p in phases) / updates, 3),
        "errors": sum(p.figures["errors"] for p in phases),
        "apologies": sum(p.figures["apologies"] for p in phases),
    }
    return out


def _cards_per_learner() -> int:
    per_user = (WARMUP + UPDATES) / USERS
    return max(60, int(per_user * 2) + 40)


async def run() -> dict[str, Any]:
    import asyncpg
    from _common import fresh_database, log
    from _load import BulkLoader, LearnerSpec

    from bots.telegram.bot import TelegramBot
    from core.bootstrap import bootstrap
    from core.config import Settings
    from core.logging import configure_logging
    from tests.servers.telegram_server import TOKEN

    process, url = start_server()
    try:
        async with fresh_database() as db, httpx.AsyncClient(base_url=url) as client:
            cards = _cards_per_learner()
            learners = {
                (name, r): [FIRST_LEARNER + 1000 * (2 * r + i) + j for j in range(USERS)]
                for r in range(ROUNDS)
                for i, name in enumerate(REVIEW_PHASES)
            }
            specs = [
                LearnerSpec(cards=cards, due_share=0.95, new_share=0.0, platform="telegram", platform_user_id=str(uid))
                for uids in learners.values()
                for uid in uids
            ]
            log(f"loading {len(specs)} learners with {cards} cards each")
            conn = await asyncpg.connect(db.dsn)
            try:
                await BulkLoader(conn).load(specs)
            finally:
                await conn.close()
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                DATABASE_URL=db.url,
                TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[arg-type]
                TELEGRAM_API_BASE_URL=url,
                DEEPL_API_KEY=None,
            )
            configure_logging(settings)
            services = await bootstrap(settings)
            services.warm_up_languages(["es"])  # the bot's own warm-up thread then finds it loaded
            echo_users = list(range(FIRST_ECHO_USER, FIRST_ECHO_USER + USERS))
            phases: list[Phase] = []
            call_costs: list[dict[str, dict[str, float]]] = []
            try:
                for r in range(ROUNDS):
                    for name in PHASES:
                        if name == "calls":
                            call_costs.append(await api_call_costs(url, echo_users))
                            log(f"round {r} calls: {call_costs[-1]}")
                            continue
                        if name == "echo":
                            bot: Any = EchoBot(url)
                        elif name == "ptb_echo":
                            bot = PtbEchoBot(url)
                        elif name == "buttons_floor":
                            bot = ButtonsFloorBot(url)
                        else:
                            bot = TelegramBot(settings, services, rate_limiter=None, poll_timeout=POLL_TIMEOUT)
                        users = learners[(name, r)] if name in REVIEW_PHASES else echo_users
                        phases.append(await run_phase(name, r, client, bot, users))
            finally:
                await services.aclose()
    finally:
        process.terminate()
        process.wait(10)

    by_name = {name: [p for p in phases if p.name == name] for name in PHASES if name != "calls"}
    figures: dict[str, Any] = {
        "users": USERS,
        "warmup_updates": WARMUP,
        "measured_updates": UPDATES,
        "rounds": ROUNDS,
        "cards_per_learner": cards,
        "echo_handler": "PTB Application (no Updater) polled by bots.telegram.polling.Poller; bot.send_message(text)",
        "rate_limiter": None,
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
    }
    for name, found in by_name.items():
        if found:
            figures[name] = _summary(found)
    if by_name.get("echo"):
        for name in REVIEW_PHASES:
            if by_name.get(name):
                per_round = [round(p.rate / e.rate, 3) for p, e in zip(by_name[name], by_name["echo"], strict=True)]
                figures[f"ratio_{name}_to_echo"] = round(statistics.median(per_round), 3)
                figures[f"ratio_{name}_to_echo_runs"] = per_round
                # What the ratio would be with the bot alone on a core: echo CPU per update / this one's.
                figures[f"ratio_{name}_to_echo_by_bot_cpu"] = round(
                    figures["echo"]["bot_cpu_ms_per_update"] / figures[name]["bot_cpu_ms_per_update"], 3
                )
    for name in ("buttons_floor", "buttons"):
        if by_name.get("echo") and by_name.get(name) and name == "buttons_floor":
            per_round = [round(p.rate / e.rate, 3) for p, e in zip(by_name[name], by_name["echo"], strict=True)]
            figures["ratio_buttons_floor_to_echo"] = round(statistics.median(per_round), 3)
        if by_name.get("buttons_floor") and by_name.get(name) and name == "buttons":
            # Our handlers, services and Postgres against the same Bot API calls with nothing behind them.
            per_round = [
                round(p.rate / f.rate, 3) for p, f in zip(by_name[name], by_name["buttons_floor"], strict=True)
            ]
            figures["ratio_buttons_to_floor"] = round(statistics.median(per_round), 3)
            figures["ratio_buttons_to_floor_by_bot_cpu"] = round(
                figures["buttons_floor"]["bot_cpu_ms_per_update"] / figures[name]["bot_cpu_ms_per_update"], 3
            )
    if call_costs:
        figures["api_call_cpu"] = {
            name: {
                key: round(statistics.median(costs[name][key] for costs in call_costs), 3)
                for key in ("cpu_ms_per_call", "calls_per_s")
            }
            for name in call_costs[0]
        }
    return figures


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import emit, log, now_ns

    started = now_ns()
    log(f"{USERS} users in a closed loop, {WARMUP} warm-up + {UPDATES} measured updates a phase, {ROUNDS} rounds")
    factory = None
    if os.environ.get("BENCH_TG_LOOP", "uvloop") != "asyncio":
        from bots.telegram.runner import event_loop_factory

        factory = event_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        figures = runner.run(run())
    goals = {}
    if "ratio_buttons_to_echo" in figures:
        goals["review_answers_at_least_0.7_of_echo"] = figures["ratio_buttons_to_echo"] >= 0.7
    emit("telegram_updates", figures, goals, started_ns=started)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
