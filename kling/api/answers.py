"""Reading the API's answers: the `data` of an envelope, the error code an HTTP 200 may carry, the
server's reason in every shape an official client reads (docs/API.md, "Error bodies"), and the typed
error each answer is. Pure functions of a response: nothing here sends a request.

A reason is read from `data.error`, then `error`, then `message` (with `error_code`), `detail`,
`errors[]`, then the raw text; the key is scrubbed from it by the caller's `scrub`.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from kling.api.models import Task
from kling.api.retry import Retry
from kling.errors import (
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    KlingError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SubmitRefusedError,
)

# Removes the key from a text a server may have echoed.
Scrub = Callable[[str], str]


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value.strip() else None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, min(cap, seconds))


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters: markup removed, whitespace folded."""
    text = " ".join(_TAGS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_text(item: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        return next((item[key] for key in keys if isinstance(item.get(key), str)), None)
    return None


def _texts(value: Any, *keys: str) -> str | None:
    """A reason from a string, or from a list of strings or objects (each one's first string under
    `keys`), joined with "; ": the shapes of FastAPI's `detail` and of an `errors[]` list."""
    items = value if isinstance(value, list) else [value]
    texts = [text for text in (_first_text(item, keys) for item in items) if text and text.strip()]
    return "; ".join(texts) or None


def body_reason(body: Mapping[str, Any]) -> str | None:
    """Every error shape an official client reads (docs/API.md, "Error bodies"), in this order:
    `data.error`, `error`, `message` with its `error_code` (the MCP server), `detail`, `errors[]`
    (the desktop app)."""
    data = body.get("data")
    for value in (data.get("error") if isinstance(data, Mapping) else None, body.get("error")):
        if isinstance(value, str) and value.strip():
            return value
    message, code = body.get("message"), body.get("error_code")
    if isinstance(message, str) and message.strip():
        has_code = isinstance(code, (str, int)) and not isinstance(code, bool) and str(code).strip()
        return f"{message} [{code}]" if has_code else message
    return _texts(body.get("detail"), "msg", "message") or _texts(body.get("errors"), "message", "msg")


def error_text(response: httpx.Response) -> str:
    """The server's reason, read from the body's error shapes (`body_reason`), else the raw text
    (short, markup removed: a gateway's HTML page is not a reason)."""
    body = json_body(response)
    reason = body_reason(body) if isinstance(body, Mapping) else None
    if reason:
        return _short(reason)
    text = _short(response.text)
    return text or response.reason_phrase or "no details"


def body_code(response: httpx.Response) -> int | None:
    """The envelope's `code` when it says something other than success; None otherwise."""
    body = json_body(response)
    code = body.get("code") if isinstance(body, Mapping) else None
    if isinstance(code, int) and not isinstance(code, bool) and code != 200:
        return code
    return None


def effective_status(response: httpx.Response) -> int:
    """The HTTP status, or the body's `code` when an HTTP 200 carries an error code in it."""
    if response.status_code == 200:
        code = body_code(response)
        if code is not None:
            return code if 100 <= code <= 599 else 400
    return response.status_code


def http_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ProtocolError(f"The {what} answer has no http(s) URL where one belongs.")
    return value


def iso_time(value: str, *, default: float) -> float:
    """Unix time of an ISO 8601 stamp such as "2025-05-19T06:09:15.948268264Z" (nanoseconds cut)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?", value.strip())
    if not match:
        return default
    zone = match.group(3) or "Z"
    stamp = datetime.fromisoformat(match.group(1) + ("+00:00" if zone == "Z" else zone))
    return stamp.timestamp() + float(match.group(2) or 0)


def envelope_data(response: httpx.Response) -> dict[str, Any]:
    """`data` of a 200 envelope, or ProtocolError. Never assumes `data` is an object."""
    try:
        body = response.json()
    except ValueError:
        raise ProtocolError(
            f"The API answered HTTP {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')})."
        ) from None
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        message = body.get("message") if isinstance(body, Mapping) else None
        raise ProtocolError("The API's answer has no `data` object" + (f" (message: {message})." if message else "."))
    return dict(body["data"])


def error_for(response: httpx.Response, *, what: str, scrub: Scrub, task_id: str | None = None) -> KlingError:
    """The typed error an answer is, carrying its effective status."""
    error = _classify(response, task_id=task_id, what=what, scrub=scrub)
    error.http_status = effective_status(response)
    return error


def _classify(response: httpx.Response, *, task_id: str | None, what: str, scrub: Scrub) -> KlingError:
    status = effective_status(response)
    reason = scrub(error_text(response))
    suffix = f" (task {task_id})" if task_id else ""
    if status == 401:
        return AuthenticationError(
            f"The API key was refused (401: {reason}). Check the key and try again.", task_id=task_id
        )
    if status == 403:
        return AuthenticationError(
            f"The WaveSpeed account may not do this (403: {reason}); it may be suspended.", task_id=task_id
        )
    if status == 402:
        return InsufficientCreditsError(
            f"The WaveSpeed account has no credits left (402: {reason}). Top up, then try again.",
            task_id=task_id,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), 3600)
        when = f" Try again in {retry_after:.0f} s." if retry_after is not None else " Try again shortly."
        return RateLimitedError(
            f"WaveSpeed is rate limiting this account (429: {reason}).{when}",
            retry_after=retry_after,
            task_id=task_id,
        )
    if status == 404:
        return NotFoundError(f"Not found while trying to {what}{suffix} (404: {reason}).", task_id=task_id)
    if 400 <= status < 500:
        return BadRequestError(f"The API refused to {what} ({status}: {reason}).", task_id=task_id)
    return ServerError(f"WaveSpeed failed to {what}{suffix} ({status}: {reason}).", task_id=task_id)


def transient(response: httpx.Response, *, what: str, scrub: Scrub) -> KlingError:
    """The error for an answer; raised as `Retry` when the same request may simply be sent again."""
    error = error_for(response, what=what, scrub=scrub)
    status = effective_status(response)
    if status in (408, 429) or status >= 500:
        raise Retry(error, retry_after=parse_retry_after(response.headers.get("retry-after"), 3600))
    return error


def submit_refusal(response: httpx.Response, *, scrub: Scrub) -> KlingError:
    """A submit refused outright. Auth, credits and rate limits keep their own classes."""
    error = error_for(response, what="submit", scrub=scrub)
    if type(error) not in (BadRequestError, NotFoundError, ServerError) or response.status_code == 404:
        return error  # auth, credits, rate limits and an unknown model keep their own classes
    reason = scrub(error_text(response))
    refused = SubmitRefusedError(
        f"WaveSpeed refused the submit ({error.http_status}: {reason}). No task was created; nothing was charged."
    )
    refused.http_status = error.http_status
    return refused


def task_id_in(response: httpx.Response) -> str | None:
    """The task an error answer names, if it names one."""
    try:
        return Task.from_data(envelope_data(response)).id
    except KlingError:
        return None
