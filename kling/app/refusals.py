"""A refusal shown where the visitor is looking, worded as the generate tabs word theirs
("Not sent, nothing was charged. ..."), in the page's language: for tabs whose handlers would
otherwise raise gr.Error (a red "Error" toast, and a red badge on every output of the event)."""

from __future__ import annotations

from kling.strings import Lang, say

MARK = "### ⛔ "


def refusal_markdown(reason: str, lang: Lang = "en") -> str:
    """`reason` (already in `lang`, any visitor text in it made literal) as a refusal heading.
    A reason that already says it was not sent is kept as it is."""
    plain = say(lang, "refusal", problems="").strip()
    return MARK + (reason if reason.startswith(plain) else say(lang, "refusal", problems=reason))
