"""Anthropic's Messages API through the official `anthropic` SDK."""

from core.outbound.anthropic.language_model import AnthropicLanguageModel

__all__ = ["AnthropicLanguageModel"]
