"""Languages langlearn supports and the CEFR levels."""

from __future__ import annotations

# ISO 639-1 code -> English name. Every code here has a spaCy blank pipeline with lookup
# lemmas in spacy-lookups-data, or at least a tokenizer.
SUPPORTED_LANGUAGES: dict[str, str] = {
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nb": "Norwegian Bokmål",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}

# The languages offered as buttons in onboarding; the rest are typed as codes.
COMMON_LANGUAGES: tuple[str, ...] = ("es", "fr", "de", "it", "pt", "ja", "en")

CEFR_LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2")
