"""Files users send: downloaded through the Bot API (getFile + the file URL), now or when first read."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest

from bots.chat.events import Attachment
from bots.telegram.convert import DOWNLOAD_LIMIT_BYTES, Download


class TelegramDownloadRefused(Exception):
    """Telegram refused to hand over a file (over its 20 MB download limit)."""


async def download_file(bot: Bot, download: Download) -> Attachment | None:
    """The file's bytes (getFile + download); None when Telegram says it is too big."""
    try:
        file = await bot.get_file(download.file_id)
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            return None
        raise
    if file.file_size is not None and file.file_size > DOWNLOAD_LIMIT_BYTES:
        return None
    content = bytes(await file.download_as_bytearray())
    return Attachment(
        filename=download.filename,
        content=content,
        mime_type=download.mime_type,
        duration_s=download.duration_s,
    )


def described(bot: Bot, download: Download) -> Attachment:
    """A voice note as Telegram describes it; `read()` downloads it (raises on a refused download)."""

    async def fetch() -> bytes:
        attachment = await download_file(bot, download)
        if attachment is None:
            raise TelegramDownloadRefused(download.filename)
        return attachment.content

    return Attachment(
        filename=download.filename,
        mime_type=download.mime_type,
        duration_s=download.duration_s,
        size=download.size,
        fetch=fetch,
    )
