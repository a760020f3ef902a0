"""The terminal adapter: `langlearn chat` on the embedded default (SQLite, in-process, no keys).

Lines typed (or piped) on stdin become chat events; replies are printed, buttons as numbered
options, and images, files and audio are written under ./data/console/. Heavy imports wait
until `run` is called so `langlearn --help` stays instant.
"""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    """Entry point of `langlearn chat` (see bots/cli.py)."""
    from bots.console.runner import run_chat

    return run_chat(args)
