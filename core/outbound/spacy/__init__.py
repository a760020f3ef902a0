"""spaCy lemmatisation: trained pipelines when installed, else blank pipelines with lookup lemmas."""

from core.outbound.spacy.lemmatizer import SpacyLemmatizer

__all__ = ["SpacyLemmatizer"]
