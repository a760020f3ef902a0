"""DeepL translation through the official `deepl` SDK."""

from core.outbound.deepl.translator import DeepLTranslator, deepl_source_code, deepl_target_code

__all__ = ["DeepLTranslator", "deepl_source_code", "deepl_target_code"]
