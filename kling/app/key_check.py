"""A saved key WaveSpeed could not be asked about (offline, its balance endpoint out of reach):
kept, but never shown as live. The banner and the key panel say it is unchecked, and stay so
until the next save or reload rewrites them, rather than a notice that vanishes in seconds."""

from __future__ import annotations

from typing import Any

from kling.strings import Lang, say


def unchecked_key(parts: Any, key: str, lang: Lang) -> dict[Any, str]:
    """The banner's and the key panel's words for a saved key not yet checked."""
    return {
        parts.banner: say(lang, "banner.own_key_unchecked"),
        parts.key.info: say(lang, "key.saved_unchecked", last4=key[-4:]),
    }
