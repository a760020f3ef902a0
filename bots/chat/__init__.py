"""The platform-neutral conversation layer: one `Event` in, `Reply` objects out (`ChatApp.handle`).

How an adapter builds Events
----------------------------
- Identity: `platform` ("telegram" | "discord" | "console"), `user_id` (the platform's user id as
  a string), `chat_id` (where the message came from), `display_name`. `is_group=True` for group
  chats / guild channels; `addressed_to_bot=False` for a group message not meant for the bot (a
  plain message with no mention, no reply to the bot, no command): the chat layer answers [].
- `update_id`: the platform's id of the update (Telegram `update_id`, Discord interaction or
  message id). A redelivered update with the same id is answered []. Leave it None where nothing
  is redelivered (the console).
- Commands: `kind=COMMAND`, `command` and `args` from `parsing.parse_command(text)` (lower-case,
  no "/" or "@botname", newlines kept in `args`), `text` = the raw message. Discord slash
  commands: `command` = the command name, `args` = its option values joined by spaces.
- Plain messages: `kind=TEXT`, `text` as typed.
- Buttons: `kind=BUTTON`, `payload` = the pressed `Button.payload` exactly as the chat layer made
  it (Telegram callback_data, Discord custom_id). Answer the callback with `Reply.notice` when set.
  Buttons are persistent: a press after a restart works (state is in the database).
- Files: `kind=FILE`, `attachment=Attachment(filename, content, mime_type)`, `text` = the caption,
  with `command`/`args` parsed from the caption (`/pack_import <slug>`).
- Voice notes: `kind=VOICE`, `attachment=Attachment(filename, content, mime_type, duration_s)`;
  pass the platform's duration when it has one (the chat layer refuses notes over 60 s). A
  platform that describes the note before it is downloaded passes `size` and a `fetch` coroutine
  instead of `content` (with the MIME type): the chat layer calls `await attachment.read()` only
  when it uses the audio.

How an adapter renders Replies
------------------------------
`text` always; `buttons` as rows (labels verbatim — an emoji may be prefixed, never a reworded
label); `image` (PNG) and `files` as uploads; `edit=True` may replace the message whose button was
pressed; `private=True` answers privately (Telegram: the private chat; Discord: ephemeral);
`notice` is the toast of a button press.
"""
