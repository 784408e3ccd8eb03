"""`python -m kling improve "PROMPT" [--style S] [--image PATH]`: WaveSpeed's prompt optimizer from
the command line. stdout is the suggestion alone (cut at a sentence end to fit the prompt limit);
the price or the preview notice goes to stderr. Exit 0 done, 2 bad input (nothing sent), 1 failed.
A live call is journaled (owner "cli") like a clip, so the owner's usage and the Space's daily
budget count it, apart from clips."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from kling.api.backend import Backend
from kling.api.optimizer import (
    DEFAULT_STYLE,
    PRICE_MILLS,
    PRICE_TEXT,
    STYLES,
    PromptRequest,
    Suggestion,
    improve_prompt,
)
from kling.config import Settings
from kling.errors import KlingError, SubmitUncertainError, ValidationError
from kling.store.journal import Journal

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def add_parser(commands: Any) -> None:
    improve = commands.add_parser("improve", help=f"rewrite a prompt with WaveSpeed's prompt optimizer ({PRICE_TEXT})")
    improve.add_argument(
        "prompt", metavar="PROMPT", help="the idea or prompt to improve ('' with --image: from the photo)"
    )
    improve.add_argument("--style", default=DEFAULT_STYLE, help=", ".join(STYLES))
    improve.add_argument("--image", help="a start image (file path or http(s) URL): the suggestion is about it")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def command(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        request = PromptRequest(args.prompt, args.style, args.image or None).validate()
    except (ValidationError, ValueError) as exc:
        for line in getattr(exc, "problems", None) or [exc]:
            _say(f"error: {line}")
        _say("Nothing was sent.")
        return EXIT_BAD_INPUT
    backend = Backend(settings)
    journal = None if backend.is_preview() else Journal(settings.journal_path)
    if journal is None:
        _say("Preview mode (no WAVESPEED_API_KEY): the suggestion is simulated locally, free. It is not WaveSpeed's.")
    else:
        _say(f"Live: this suggestion costs {PRICE_TEXT}.")
    try:
        suggestion = asyncio.run(_call(backend, journal, request, settings.api_key))
    except KlingError as exc:
        _say(f"error: {exc}")
        return EXIT_FAILED
    if suggestion.cut:
        _say(f"The suggestion had {len(suggestion.text)} characters; cut at the last sentence that fits the limit.")
    print(suggestion.fitted, flush=True)
    return EXIT_OK


async def _call(backend: Backend, journal: Journal | None, request: PromptRequest, key: str | None) -> Suggestion:
    call = (
        journal.record_prompt_call(owner="cli", ip="", key=key, price_mills=PRICE_MILLS, when=time.time())
        if journal
        else None
    )
    try:
        return await improve_prompt(backend.client(), request)
    except KlingError as exc:
        if journal and call is not None and exc.task_id is None and not isinstance(exc, SubmitUncertainError):
            journal.settle_prompt_call(call, price_mills=0)  # refused: no task, nothing charged
        raise
    finally:
        await backend.aclose()
