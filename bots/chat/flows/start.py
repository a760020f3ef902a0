"""Getting started: /start, onboarding (target → native → level), /language."""

from __future__ import annotations

from bots.chat import render
from bots.chat.context import Turn
from bots.chat.errors import BUTTON_EXPIRED, ChatNotice
from bots.chat.flows import packs
from bots.chat.replies import Reply
from core.domain.errors import InvalidInput, InvalidLevel, UnsupportedLanguage
from core.domain.models import CEFR_LEVELS, SUPPORTED_LANGUAGES
from core.domain.models.languages import COMMON_LANGUAGES

ONBOARDING = "onboarding"
_NAMES = {name.lower(): code for code, name in SUPPORTED_LANGUAGES.items()}


async def cmd_start(turn: Turn) -> list[Reply]:
    """Greet; without a language pair, start onboarding. `/start pack-<slug>` also offers the pack."""
    replies: list[Reply] = []
    pair = await turn.services.languages.find_active_pair(turn.learner_id)
    if pair is None:
        replies.append(await begin_onboarding(turn, greeting=True))
    else:
        replies.append(Reply(text=render.welcome_back(pair)))
    slug = turn.event.args.strip()
    if slug.lower().startswith("pack-"):
        replies.append(await packs.preview_reply(turn, slug[5:]))
    return replies


async def begin_onboarding(turn: Turn, *, greeting: bool = False) -> Reply:
    """Ask for the language to learn (buttons for common ones, or a typed code)."""
    await turn.set_flow(ONBOARDING, {"step": "t"})
    hello = "Welcome to langlearn! " if greeting else ""
    return Reply(
        text=f"{hello}Which language do you want to learn?",
        buttons=render.language_keyboard(turn.learner_id, "t", COMMON_LANGUAGES),
    )


def _language(text: str) -> str:
    """A supported code from a typed code or English name ("ko", "Korean")."""
    value = text.strip().lower()
    code = value if value in SUPPORTED_LANGUAGES else _NAMES.get(value)
    if code is None:
        raise UnsupportedLanguage(text.strip()[:40], list(SUPPORTED_LANGUAGES))
    return code


async def _choose_target(turn: Turn, code: str) -> list[Reply]:
    await turn.set_flow(ONBOARDING, {"step": "n", "target": code})
    natives = [c for c in ("en", *COMMON_LANGUAGES) if c != code]
    return [
        Reply(
            text=f"Learning {render.language_name(code)}. Which language do you speak?",
            buttons=render.language_keyboard(turn.learner_id, "n", dict.fromkeys(natives)),
        )
    ]


async def _choose_native(turn: Turn, code: str) -> list[Reply]:
    target = str(turn.state.data.get("target", ""))
    if code == target:
        raise InvalidInput("The language you learn and your own language must differ.", example="en")
    await turn.set_flow(ONBOARDING, {"step": "l", "target": target, "native": code})
    return [
        Reply(
            text=f"Your level in {render.language_name(target)}?",
            buttons=render.level_keyboard(turn.learner_id),
        )
    ]


async def _choose_level(turn: Turn, level: str) -> list[Reply]:
    data = turn.state.data
    pair = await turn.services.languages.set_pair(turn.learner_id, str(data["target"]), str(data["native"]), level)
    await turn.end_flow()
    return [Reply(text=render.pair_set_text(pair))]


def _require_onboarding(turn: Turn, step: str) -> None:
    """Late presses (onboarding finished, or a step not reached yet) change nothing."""
    if turn.flow != ONBOARDING:
        raise ChatNotice("Your languages are already set — use /language to change them.")
    if step == "n" and "target" not in turn.state.data:
        raise ChatNotice("Pick the language you learn first.")
    if step == "l" and "native" not in turn.state.data:
        raise ChatNotice("Pick your own language first.")


async def button_target(turn: Turn) -> list[Reply]:
    """A target language button."""
    _require_onboarding(turn, "t")
    return await _choose_target(turn, _language(_arg(turn)))


async def button_native(turn: Turn) -> list[Reply]:
    """A native language button."""
    _require_onboarding(turn, "n")
    return await _choose_native(turn, _language(_arg(turn)))


async def button_level(turn: Turn) -> list[Reply]:
    """A level button: finishes onboarding."""
    _require_onboarding(turn, "l")
    level = _arg(turn)
    if level not in CEFR_LEVELS:
        raise ChatNotice(BUTTON_EXPIRED)
    return await _choose_level(turn, level)


async def button_type_code(turn: Turn) -> list[Reply]:
    """The "Type a code" button: explain which codes exist; the next typed message is read as one."""
    _require_onboarding(turn, "t")
    return [Reply(text=f"Type the language code, e.g. ko for Korean. Supported: {render.supported_codes_text()}")]


async def text_in_onboarding(turn: Turn) -> list[Reply]:
    """A typed code, language name or level, depending on the step."""
    step = turn.state.data.get("step", "t")
    text = turn.event.text
    if step == "l":
        return await _choose_level(turn, _level(text))
    if step == "n":
        return await _choose_native(turn, _language(text))
    return await _choose_target(turn, _language(text))


def _level(text: str) -> str:
    level = text.strip().upper()
    if level not in CEFR_LEVELS:
        raise InvalidLevel(text.strip()[:40])
    return level


def _arg(turn: Turn) -> str:
    assert turn.payload is not None
    return turn.payload.args[0]


# --- /language -----------------------------------------------------------------------------------


async def cmd_language(turn: Turn) -> list[Reply]:
    """Show pairs with switch buttons, or set one directly: /language es en A2."""
    parts = turn.event.args.split()
    if not parts:
        pairs = sorted(
            await turn.services.languages.list_pairs(turn.learner_id), key=lambda p: (p.created_at, p.target)
        )
        if not pairs:
            return [await begin_onboarding(turn)]
        return [Reply(text=render.pairs_text(pairs), buttons=render.pairs_keyboard(turn.learner_id, pairs))]
    if len(parts) not in (2, 3):
        raise InvalidInput(
            "Give the code of the language you learn, your own language's code and optionally your level.",
            example="/language es en A2",
        )
    level = parts[2] if len(parts) == 3 else None
    pair = await turn.services.languages.set_pair(turn.learner_id, parts[0][:40], parts[1][:40], level)
    if turn.flow == ONBOARDING:
        await turn.end_flow()
    return [Reply(text=render.pair_set_text(pair))]


async def button_switch_pair(turn: Turn) -> list[Reply]:
    """Switch the active pair (a pair id that is not the learner's is NotFound)."""
    pair = await turn.services.languages.switch_pair(turn.learner_id, _arg(turn))
    return [Reply(text=f"Now learning {render.pair_label(pair)} ({pair.level}).", edit=True)]


async def button_add_language(turn: Turn) -> list[Reply]:
    """The "Add language" button: onboarding for another pair."""
    return [await begin_onboarding(turn)]
