"""Characters a terminal or a text view acts on instead of showing: the one list both kling.api.params
(which refuses them in a prompt) and the command line (which escapes them in what it prints) use.

ESC and BEL start sequences that erase lines, retitle the window or write the clipboard (OSC 52);
C1 controls (U+0080..U+009F) do the same on some terminals; bidirectional embeddings, overrides and
isolates (U+202A..U+202E, U+2066..U+2069) make text read in another order than it is stored.
The bidi *marks* (U+200E, U+200F, U+061C) are allowed: Arabic, Hebrew and Persian writers need them
to place punctuation, and a mark reorders nothing past the characters beside it.
"""

from __future__ import annotations

import re

_BIDI = r"\u202a-\u202e\u2066-\u2069"
# In a prompt: newline and tab are text a person writes; every other control is refused.
_REFUSED = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
# In a printed field: newline and tab too, so a stored value cannot forge rows or columns.
_ESCAPED = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}]")


def control_at(text: str) -> int | None:
    """Where the first control character (newline and tab allowed) is in `text`, or None."""
    found = _REFUSED.search(text)
    return found.start() if found else None


def escape_controls(text: str) -> str:
    """`text` with each control character written as its escape (ESC as `\\x1b`, U+202E as
    `\\u202e`), for a terminal: journal rows written before prompts were checked are printed too."""
    return _ESCAPED.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
