"""What every tab's handlers share: the session Gradio keeps for a browser, the shape of their
answers, the visitor's language, and the event options the page uses again and again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kling.errors import SpendRefused
from kling.strings import Lang, spend_text

if TYPE_CHECKING:
    from kling.app.widgets import Parts

HEADER_KEY = "x-wavespeed-key"  # lets scripts using gradio_client bring their own key
# {"token": the browser id this server signed (kling.app.identity), "key": the visitor's own key or "",
# "lang": the page's language for what handlers write, from the browser's Accept-Language}.
# Server-side (gr.State): a client cannot write it, only the restore handler does. An API or MCP
# caller has none of it: English, and a fresh id.
Session = dict[str, str]
Updates = dict[Any, Any]  # component -> new value or gr.update
Continuing = dict[str, str]  # {"task": the task continued, "pixels": pixel_digest of its last frame}


def private() -> dict[str, Any]:
    """An event of the page only (no API endpoint), answered at once rather than queued."""
    return {"api_visibility": "private", "queue": False}


def private_with_notices() -> dict[str, Any]:
    """A page-only event whose gr.Warning and gr.Info reach the visitor: Gradio delivers them only
    through its queue (an unqueued event prints them in the server's log), so it is queued, with no
    limit, so it is still answered at once."""
    return {"api_visibility": "private", "queue": True, "concurrency_limit": None}


def progress_on(*leaves: Any, hidden: bool = False) -> dict[str, Any]:
    """Gradio's loading status on `leaves` (components, never a layout block) rather than on every
    output, and with `hidden` no overlay at all. For an event that writes a layout block (the tabs,
    a column, a group): after every later event Gradio's front end reads again each component
    inside a block that has a loading status, which for the tabs is the whole page (BENCHMARKS.md,
    "Time to interactive")."""
    return {"show_progress_on": list(leaves), **({"show_progress": "hidden"} if hidden else {})}


def filling(p: Parts) -> dict[str, Any]:
    """The options of an event that writes `p.main_forms` (a form filled from elsewhere): no
    overlay, since it answers at once, and its loading status on one field, not on the tabs."""
    return progress_on(p.i2v.text.prompt, hidden=True)


def generation_queue(concurrency: int) -> dict[str, Any]:
    """Events that start or follow a run share one queue, `concurrency` at a time."""
    return {"concurrency_limit": concurrency, "concurrency_id": "generation"}


def lang_of(session: Session | None) -> Lang:
    """The language the page speaks to this visitor (English for an API or MCP caller)."""
    return (session or {}).get("lang") or "en"


def spend_refusal(exc: SpendRefused, lang: Lang) -> str:
    """A limit's refusal in the visitor's language (kling.jobs.guard writes it in English)."""
    return spend_text(lang, exc.reason, **dict(exc.values)) if exc.reason else str(exc)


def header_of(request: Any, name: str) -> str | None:
    """A request's header, or None for a call without a request (a test, a script)."""
    return request.headers.get(name) if request is not None else None
