"""The console adapter's own logic: typed lines -> events, replies -> text and files, the loop.

The chat layer is replaced by a small recording handler here (it is our own port); the
subprocess tests in tests/e2e/test_console.py run the real thing.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bots.chat.events import Event, EventKind
from bots.chat.replies import Button, FileOut, Reply
from bots.console.input import Identity, Quit, Say, Send, interpret
from bots.console.reader import LineReader
from bots.console.render import ButtonMemory, FileSink, render
from bots.console.runner import Console

ALICE = Identity("alice")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


# --- interpret ----------------------------------------------------------------------------------


def test_command_line_becomes_a_command_event_for_the_local_user() -> None:
    action = interpret("/add comer = to eat", ALICE, [])
    assert isinstance(action, Send)
    event = action.event
    assert (event.platform, event.user_id, event.chat_id) == ("console", "alice", "alice")
    assert (event.kind, event.command, event.args) == (EventKind.COMMAND, "add", "comer = to eat")
    assert event.update_id is None


def test_plain_text_becomes_a_text_event() -> None:
    action = interpret("  gato  ", ALICE, [])
    assert isinstance(action, Send)
    assert (action.event.kind, action.event.text, action.event.command) == (EventKind.TEXT, "gato", None)


def test_blank_line_does_nothing_and_quit_quits() -> None:
    assert interpret("   ", ALICE, []) is None
    assert isinstance(interpret("/quit", ALICE, []), Quit)
    assert isinstance(interpret("/EXIT", ALICE, []), Quit)


def test_bare_number_presses_that_button() -> None:
    buttons = [Button("Show answer", "show:1"), Button("Listen", "listen:1")]
    action = interpret("2", ALICE, buttons)
    assert isinstance(action, Send)
    assert (action.event.kind, action.event.payload) == (EventKind.BUTTON, "listen:1")


def test_number_out_of_range_or_without_buttons_is_explained() -> None:
    out_of_range = interpret("3", ALICE, [Button("Good", "g"), Button("Easy", "e")])
    assert isinstance(out_of_range, Say)
    assert "no button [3]" in out_of_range.message and "1–2" in out_of_range.message
    nothing = interpret("1", ALICE, [])
    assert isinstance(nothing, Say)
    assert "no buttons" in nothing.message


def test_backslash_sends_a_number_as_text() -> None:
    action = interpret("\\3", ALICE, [Button("Good", "g")])
    assert isinstance(action, Send)
    assert (action.event.kind, action.event.text) == (EventKind.TEXT, "3")


def test_trailing_at_path_attaches_the_file_with_the_rest_as_caption(tmp_path: Path) -> None:
    words = tmp_path / "words.csv"
    words.write_text("comer,to eat\n", encoding="utf-8")
    action = interpret(f"/pack_import spanish-basics @{words}", ALICE, [])
    assert isinstance(action, Send)
    event = action.event
    assert event.kind == EventKind.FILE
    assert (event.text, event.command, event.args) == ("/pack_import spanish-basics", "pack_import", "spanish-basics")
    assert event.attachment is not None
    assert (event.attachment.filename, event.attachment.content) == ("words.csv", b"comer,to eat\n")
    assert event.attachment.mime_type == "text/csv"


def test_missing_attachment_is_explained_and_nothing_is_sent(tmp_path: Path) -> None:
    action = interpret(f"/pack_import x @{tmp_path / 'nope.csv'}", ALICE, [])
    assert isinstance(action, Say)
    assert "No file at" in action.message
    folder = interpret(f"/pack_import x @{tmp_path}", ALICE, [])
    assert isinstance(folder, Say)
    assert "folder" in folder.message


def test_audio_file_without_caption_is_a_voice_note(tmp_path: Path) -> None:
    note = tmp_path / "answer.ogg"
    note.write_bytes(b"not really audio")
    action = interpret(f"@{note}", ALICE, [])
    assert isinstance(action, Send)
    assert action.event.kind == EventKind.VOICE
    assert action.event.attachment is not None
    assert action.event.attachment.duration_s is None  # unreadable audio: the chat layer judges it


# --- render -------------------------------------------------------------------------------------


def test_buttons_are_numbered_across_a_batch_and_media_is_written(tmp_path: Path) -> None:
    replies = [
        Reply(text="comer", buttons=[[Button("Show answer", "s"), Button("Listen", "l")]]),
        Reply(text="Stats", image=FileOut("stats.png", PNG, "image/png"), spoiler="to eat"),
        Reply(text="Your data", files=[FileOut("export.json", b"{}", "application/json")], notice="Done"),
        Reply(buttons=[[Button("Good · 3d", "g")]], audio=FileOut("comer.ogg", b"OggS", "audio/ogg")),
    ]
    text, buttons = render(replies, FileSink(tmp_path / "out"))
    assert "comer\n[1] Show answer   [2] Listen" in text
    assert "(hidden) to eat" in text
    assert "· Done" in text
    assert "[3] Good · 3d" in text
    assert [b.payload for b in buttons] == ["s", "l", "g"]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 3
    assert written[0].startswith("comer-") and written[0].endswith(".ogg")
    assert written[1].startswith("export-") and written[1].endswith(".json")
    assert written[2].startswith("stats-") and written[2].endswith(".png")
    assert (tmp_path / "out" / written[2]).read_bytes() == PNG
    for kind, name in (("image", written[2]), ("audio", written[0]), ("file", written[1])):
        assert f"[{kind}] {tmp_path.resolve() / 'out' / name}" in text  # outside the working directory: absolute


def test_file_names_from_replies_cannot_escape_the_folder(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "out")
    path = sink.save(FileOut("../../etc/passwd", b"x", "text/plain"))
    assert path.parent == tmp_path / "out"
    again = sink.save(FileOut("../../etc/passwd", b"y", "text/plain"))
    assert again != path and again.read_bytes() == b"y"


def test_button_memory_survives_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "buttons.json"
    ButtonMemory(store).remember([Button("Show answer", "show:42")])
    ButtonMemory(store).remember([])  # a batch without buttons keeps the previous ones
    assert ButtonMemory(store).buttons == [Button("Show answer", "show:42")]
    store.write_text("{not json", encoding="utf-8")
    assert ButtonMemory(store).buttons == []


# --- the loop -----------------------------------------------------------------------------------


class RecordingChat:
    """A stand-in for ChatApp: records events, answers /review with buttons, fails on /boom."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def handle(self, event: Event) -> list[Reply]:
        self.events.append(event)
        if event.command == "boom":
            raise RuntimeError("bug")
        if event.command == "review":
            return [Reply(text="comer", buttons=[[Button("Show answer", "show:1")]])]
        return [Reply(text=f"got {event.kind.value} {event.payload or event.args or event.text}")]


async def _run_console(lines: str, tmp_path: Path) -> tuple[RecordingChat, str]:
    chat = RecordingChat()
    out = io.StringIO()
    console = Console(chat, ALICE, FileSink(tmp_path / "files"), ButtonMemory(tmp_path / "b.json"), out)
    assert await console.run(LineReader(io.StringIO(lines), out)) == 0
    return chat, out.getvalue()


async def test_console_loop_prompts_presses_and_survives_a_failing_handler(tmp_path: Path) -> None:
    chat, output = await _run_console("/review\n1\n9\n/boom\n/add uno \\\ndos\nhola\n", tmp_path)
    assert output.startswith("> comer\n[1] Show answer\n> got button show:1\n> There is no button [9]")
    assert "Something went wrong" in output
    assert [e.kind for e in chat.events] == [
        EventKind.COMMAND,
        EventKind.BUTTON,
        EventKind.COMMAND,
        EventKind.COMMAND,
        EventKind.TEXT,
    ]
    assert chat.events[3].args == "uno \ndos"  # a trailing backslash continues the message
    assert output.endswith("> \n")  # EOF: a newline after the last prompt, exit 0


async def test_quit_stops_reading(tmp_path: Path) -> None:
    chat, _ = await _run_console("/quit\n/help\n", tmp_path)
    assert chat.events == []


@pytest.mark.parametrize("line", ["/start", "hola", "1"])
def test_interpret_never_raises_on_odd_input(line: str) -> None:
    interpret(line + "\x00\udcff", ALICE, [Button("x", "y")])
