"""Domain errors: the only exceptions services raise on bad input or a missing provider.

Adapters map each class to what the user reads in one table (`bots/chat/errors.py`).
Messages never contain secrets.

    DomainError
    ├── InvalidInput            malformed or out-of-range arguments (message says what and how)
    │   ├── UnsupportedLanguage lists the supported codes
    │   └── InvalidLevel
    ├── NotFound                a word, pack, card or pair that does not exist (for this learner)
    ├── Conflict                already exists (pack slug, …)
    │   └── AlreadyReviewed     the card changed since it was shown (a second press of the same showing)
    ├── NoActivePair            the learner has no language pair yet
    ├── NotAllowed              an admin command from a non-admin or outside an admin channel
    ├── QuotaExceeded
    └── ProviderError
        ├── ProviderNotConfigured  names the setting that enables it
        ├── ProviderUnavailable    down or rate-limited after retries
        └── ProviderRefused        a permanent refusal (key, quota, spend limit): not retried
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""


class InvalidInput(DomainError):
    def __init__(self, message: str, example: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


class UnsupportedLanguage(InvalidInput):
    def __init__(self, code: str, supported: list[str]) -> None:
        super().__init__(
            f"“{code}” is not a supported language code. Supported: {', '.join(sorted(supported))}.",
            example="/language es en A2",
        )
        self.code = code


class InvalidLevel(InvalidInput):
    def __init__(self, level: str) -> None:
        super().__init__(
            f"“{level}” is not a CEFR level. Use one of A1, A2, B1, B2, C1, C2.",
            example="/language es en A2",
        )


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Conflict(DomainError):
    pass


class AlreadyReviewed(Conflict):
    """The card was rated since it was shown: two presses (or processes) for one showing, one wins."""

    def __init__(self) -> None:
        super().__init__("This card was already reviewed.")


class NoActivePair(DomainError):
    def __init__(self) -> None:
        super().__init__("No language pair yet: send /start or /language es en A2 first.")


class NotAllowed(DomainError):
    pass


class QuotaExceeded(DomainError):
    pass


class ProviderError(DomainError):
    pass


class ProviderNotConfigured(ProviderError):
    def __init__(self, feature: str, setting: str) -> None:
        super().__init__(f"{feature} is not configured: set {setting} to enable it.")
        self.feature = feature
        self.setting = setting


class ProviderUnavailable(ProviderError):
    def __init__(self, provider: str, detail: str = "") -> None:
        super().__init__(f"{provider} is unavailable right now{': ' + detail if detail else ''}.")
        self.provider = provider


class ProviderRefused(ProviderError):
    """The provider refused for a reason that retrying cannot fix: a rejected key, a used-up quota, a spend limit.

    `str(error)` is `user_text`, written for a learner ("Speech is unavailable right now: the service
    refused our account. The operator has been told."); `operator_hint` names what an operator
    should fix ("check GEMINI_API_KEY"). Neither carries the provider's own error text.
    """

    def __init__(self, provider: str, user_text: str, operator_hint: str) -> None:
        super().__init__(user_text)
        self.provider = provider
        self.user_text = user_text
        self.operator_hint = operator_hint


class RecipientUnavailable(DomainError):
    """The chat platform refuses to deliver to this chat: the user blocked the bot or left (Telegram 403).

    Not retried: the job is failed silently (nobody to tell) and reminders to the learner are turned off.
    """

    def __init__(self, platform: str, chat_id: str) -> None:
        super().__init__(f"{platform} chat {chat_id} can no longer be reached (the bot was blocked or removed).")
        self.platform = platform
        self.chat_id = chat_id


class StalePlatformFile(ProviderError):
    """The chat platform no longer knows an upload id we stored, and the message had no audio to upload.

    Telegram says "wrong file identifier" or "file reference expired".
    The caller forgets the id (`SpeechClip.platform_refs[platform]`) and sends again with the audio
    bytes from the media store; the platform's new id then replaces the old one. `str(error)` is
    written for a learner; `file_id` is for logs.
    """

    def __init__(self, platform: str, file_id: str) -> None:
        super().__init__("The voice message could not be sent this time; please ask for it again.")
        self.platform = platform
        self.file_id = file_id
