"""Reply -> Telegram messages: what each reply becomes, where it goes, which one edits."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bots.chat import render as chat_render
from bots.chat.replies import Button, FileOut, Reply
from bots.telegram.render import (
    DocumentOut,
    PhotoOut,
    TextOut,
    VoiceOut,
    keyboard,
    plan,
    private_chat_url,
    private_refused_text,
    private_sent_text,
    render_reply,
)

PNG = FileOut("chart.png", b"\x89PNG...", "image/png")
CSV = FileOut("words.csv", b"term,translation\n", "text/csv")
JSON = FileOut("data.json", b"{}", "application/json")
OGG = FileOut("voice.ogg", b"OggS...", "audio/ogg")


def labels(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
    assert markup is not None
    return [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]


def test_buttons_become_an_inline_keyboard_with_labels_and_payloads_verbatim() -> None:
    markup = keyboard([[Button("Show answer", "rv.s:ab12cd34:7:1"), Button("Listen", "rv.l:ab12cd34:7")], []])
    assert labels(markup) == [[("Show answer", "rv.s:ab12cd34:7:1"), ("Listen", "rv.l:ab12cd34:7")]]
    assert keyboard([]) is None


def test_text_is_escaped_html_and_the_spoiler_is_hidden() -> None:
    [message] = render_reply(Reply(text="<b>comer</b> & beber", spoiler="to eat & <drink>"))
    assert isinstance(message, TextOut)
    assert message.html == "&lt;b&gt;comer&lt;/b&gt; &amp; beber\n\n<tg-spoiler>to eat &amp; &lt;drink&gt;</tg-spoiler>"


def test_long_text_is_split_and_the_buttons_go_on_the_last_part() -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "palabra " * 60 for n in range(20))
    messages = render_reply(Reply(text=text, buttons=[[Button("Next", "wd.p:-:2")]]))
    assert len(messages) > 1
    assert all(isinstance(m, TextOut) for m in messages)
    assert all(m.markup is None for m in messages[:-1])
    assert labels(messages[-1].markup) == [[("Next", "wd.p:-:2")]]


def test_a_chart_carries_a_short_text_as_its_caption() -> None:
    [photo] = render_reply(Reply(text="Streak: 3 days", image=PNG))
    assert photo == PhotoOut(PNG, "Streak: 3 days")


def test_a_text_too_long_for_a_caption_comes_before_the_photo() -> None:
    text = "x " * 600
    messages = render_reply(Reply(text=text, image=PNG, buttons=[[Button("Again", "a:-")]]))
    assert [type(m) for m in messages] == [TextOut, PhotoOut]
    photo = messages[1]
    assert isinstance(photo, PhotoOut) and photo.caption_html is None
    assert labels(photo.markup) == [[("Again", "a:-")]]


def test_files_and_audio_follow_the_text() -> None:
    messages = render_reply(Reply(text="Your data:", files=[JSON, CSV], audio=OGG))
    assert messages == [TextOut("Your data:"), DocumentOut(JSON), DocumentOut(CSV), VoiceOut(OGG)]


def test_a_reply_with_nothing_to_show_sends_nothing() -> None:
    assert render_reply(Reply()) == []
    assert render_reply(Reply(text="  ")) == []


def test_a_button_refusal_is_a_toast_only() -> None:
    result = plan(
        [Reply(text="This button has expired.", notice="This button has expired.")],
        is_button=True,
        is_group=False,
        can_edit=True,
    )
    assert result.notice == "This button has expired."
    assert result.here == [] and result.private == []


def test_the_same_refusal_to_a_typed_message_is_a_message() -> None:
    result = plan([Reply(text="Not allowed.", notice=None)], is_button=False, is_group=False, can_edit=False)
    assert result.notice is None
    assert [r.messages for r in result.here] == [[TextOut("Not allowed.")]]


def test_only_the_first_edit_reply_of_a_press_edits_the_pressed_message() -> None:
    replies = [
        Reply(text="comer → to eat\nGood · next in 3d", edit=True),
        Reply(text="Next card: beber", buttons=[[Button("Show answer", "rv.s:-:8:2")]]),
        Reply(text="another edit", edit=True),
    ]
    result = plan(replies, is_button=True, is_group=False, can_edit=True)
    assert [r.edit for r in result.here] == [True, False, False]


def test_a_rated_card_and_the_next_one_are_one_edit_of_the_pressed_message() -> None:
    rated = Reply(text="comer → to eat\nGood · next in 3d", edit=True)
    front = Reply(text="casa\n\nIn English?", buttons=[[Button("Show answer", "rv.s:-:8:2")]])
    result = plan([chat_render.then(rated, front, edit=True)], is_button=True, is_group=False, can_edit=True)
    [rendered] = result.here
    assert rendered.edit is True
    [message] = rendered.messages
    assert isinstance(message, TextOut)
    assert message.html == "comer → to eat\nGood · next in 3d\n\ncasa\n\nIn English?"
    assert labels(message.markup) == [[("Show answer", "rv.s:-:8:2")]]


def test_no_edit_for_a_typed_message_or_a_message_that_cannot_be_edited() -> None:
    replies = [Reply(text="Cancelled.", edit=True)]
    assert [r.edit for r in plan(replies, is_button=False, is_group=False, can_edit=False).here] == [False]
    assert [r.edit for r in plan(replies, is_button=True, is_group=False, can_edit=False).here] == [False]
    with_photo = [Reply(text="chart", image=PNG, edit=True)]
    assert [r.edit for r in plan(with_photo, is_button=True, is_group=False, can_edit=True).here] == [False]


def test_private_replies_from_a_group_go_to_the_private_chat() -> None:
    replies = [Reply(text="Your card: comer", private=True), Reply(text="Group scores", private=False)]
    result = plan(replies, is_button=False, is_group=True, can_edit=False)
    assert [r.messages for r in result.private] == [[TextOut("Your card: comer")]]
    assert [r.messages for r in result.here] == [[TextOut("Group scores")]]
    in_private_chat = plan(replies, is_button=False, is_group=False, can_edit=False)
    assert len(in_private_chat.here) == 2 and in_private_chat.private == []


def test_the_toast_is_cut_to_telegrams_limit() -> None:
    result = plan([Reply(text="ok", notice="n" * 300)], is_button=True, is_group=False, can_edit=True)
    assert result.notice == "n" * 200


def test_group_notes_name_the_user_escaped_and_link_to_the_bot() -> None:
    assert private_sent_text("<Ana>") == "&lt;Ana&gt;, I've answered you in our private chat."
    assert "press Start" in private_refused_text("Ana")
    assert private_chat_url("langlearn_bot", deep_link=False) == "https://t.me/langlearn_bot"
    assert private_chat_url("langlearn_bot", deep_link=True) == "https://t.me/langlearn_bot?start=group"
