"""Every error the kling package raises, in one place.

Messages are written for a person: they say what happened and what to do, and carry the task
id whenever a task exists. No message ever contains an API key.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass


class KlingError(Exception):
    """Base class. `task_id` is set whenever a task is known to (possibly) exist; `http_status` is
    the status (or the body's error `code`) of the answer that caused it, when there was one."""

    http_status: int | None = None

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.task_id = task_id

    def __str__(self) -> str:
        return self.message


def public_text(exc: BaseException) -> str:
    """An unexpected exception's text for a person who may be a stranger: an OSError names the
    file it failed on by its name only, since its full path says where the app and its data live."""
    if isinstance(exc, OSError) and exc.strerror:
        name = os.path.basename(os.fsdecode(exc.filename)) if isinstance(exc.filename, (str, bytes)) else ""
        return f"{exc.strerror}: {name}" if name else exc.strerror
    return str(exc)


@dataclass(frozen=True)
class Problem:
    """One reason a request was refused before anything was sent."""

    field: str
    message: str  # English: what the CLI and the API say
    # For the page in another language (kling/strings.py "problem.<code>"): the reason's kind and
    # the values its sentence names. Empty: the English message is shown as it is.
    code: str = dataclasses.field(default="", compare=False)
    values: tuple[tuple[str, object], ...] = dataclasses.field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(KlingError, ValueError):
    """The input breaks a documented limit. Raised before any request; lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class AuthenticationError(KlingError):
    """401 (missing or wrong key) or 403 (account suspended)."""


class InsufficientCreditsError(KlingError):
    """402: the account has no credits left."""


class RateLimitedError(KlingError):
    """429 after the retries a submit is allowed."""

    def __init__(self, message: str, *, retry_after: float | None = None, task_id: str | None = None) -> None:
        super().__init__(message, task_id=task_id)
        self.retry_after = retry_after


class BadRequestError(KlingError):
    """400/422: the server refused the parameters; the message is the server's."""


class NotFoundError(KlingError):
    """404: unknown model, or a task id the server does not know (or no longer keeps)."""


class SubmitRefusedError(BadRequestError):
    """The server answered the submit with a refusal (a 4xx, or an HTTP 200 whose body `code` is
    an error): no task was created, nothing is billed, nothing is journaled or polled."""


class ServerError(KlingError):
    """5xx or network failure on a request that is safe to repeat, after its retries."""


class ProtocolError(KlingError):
    """The answer is not the documented envelope (not JSON, `data` null, no id...)."""


class SubmitUncertainError(KlingError):
    """The submit may have created a (billed) task but its answer was lost. Never resubmitted.

    `model` and `sent_at` (Unix time just before the POST) let a caller look for the task in the
    predictions listing; `candidates` are the ids that search found when it could not pick one."""

    def __init__(
        self,
        message: str,
        *,
        task_id: str | None = None,
        model: str = "",
        sent_at: float | None = None,
        candidates: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, task_id=task_id)
        self.model = model
        self.sent_at = sent_at
        self.candidates = tuple(candidates)


class TaskFailedError(KlingError):
    """The task ended without a clip: `failed`, or a final status such as `cancelled`."""

    def __init__(self, message: str, *, task_id: str, code: int | None = None, status: str = "failed") -> None:
        super().__init__(message, task_id=task_id)
        self.code = code
        self.status = status


class DeadlineExceededError(KlingError):
    """We stopped waiting. The task keeps running (and is billed); resume it by id."""


class DownloadError(KlingError):
    """The clip exists but could not be fetched or is not an MP4. Its URL is kept for a retry."""

    def __init__(self, message: str, *, url: str, task_id: str | None = None) -> None:
        super().__init__(message, task_id=task_id)
        self.url = url


class ShowcaseNeedsKeyError(KlingError):
    """A showcase is made only with the owner's key: a showcase of simulated clips would be a lie."""


class FilmError(KlingError, ValueError):
    """A clip given to `kling.media.video` (continue or stitch) cannot be used; nothing was written."""


class ClipNotFoundError(FilmError):
    """The clip file does not exist (or a task id has no saved clip)."""


class NotAVideoError(FilmError):
    """The file exists but holds no decodable video stream."""


class TooFewClipsError(FilmError):
    """Stitching needs at least two clips."""


class CrossfadeError(FilmError):
    """The cross-fade is negative, or longer than a clip it would fade into or out of."""


class SpendRefused(KlingError):
    """A limit of the Space's key would be passed (kling.jobs.guard). Nothing was sent. `reason` and
    `values` let the page say it in the visitor's language (kling.strings.spend_text)."""

    def __init__(self, message: str, *, reason: str = "", values: tuple[tuple[str, object], ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class BusyRefused(SpendRefused):
    """One visitor or address already has as much under way as it may (kling.app.fairness): refused at
    once, before any decode or request, so that one visitor's flood never makes others wait."""


class WebhookError(KlingError):
    """A webhook that must be ignored (kling.api.webhooks). The message names the reason, never the secret."""


class JournalError(KlingError):
    """The task journal cannot be used as it is (written by a newer version of this code)."""


class ShareRefused(KlingError):
    """A clip that cannot be shared (kling.store.sharing): not the visitor's own, flagged as NSFW by
    WaveSpeed, or with no clip saved here. `reason` names which, for the page's words."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
