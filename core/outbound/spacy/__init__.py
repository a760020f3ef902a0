"""spaCy lemmatisation: trained pipelines when installed, else lookup lemmas (from a per-language SQLite file)."""

from core.outbound.spacy.lemmatizer import SpacyLemmatizer

__all__ = ["SpacyLemmatizer"]
