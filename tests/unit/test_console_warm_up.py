"""The console loads the learner's languages in the background as it starts."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from bots.console.runner import _start_warming_up
from tests.fakes import make_services


async def test_the_learners_target_languages_are_warmed_up_in_a_daemon_thread() -> None:
    services = make_services()
    warmed: list[list[str]] = []
    done = threading.Event()

    def record(languages: Iterable[str]) -> None:
        warmed.append(list(languages))
        done.set()

    services.warm_up_languages = record
    learner, _ = await services.accounts.ensure_learner("console", "alice", "alice")
    await services.languages.set_pair(learner.id, "fr", "en")
    await services.languages.set_pair(learner.id, "es", "en")

    await _start_warming_up(services, "alice")

    assert done.wait(timeout=5)
    assert warmed == [["es", "fr"]]


async def test_a_new_user_warms_nothing() -> None:
    services = make_services()
    warmed: list[list[str]] = []
    services.warm_up_languages = lambda languages: warmed.append(list(languages))

    await _start_warming_up(services, "newcomer")

    assert warmed == []
