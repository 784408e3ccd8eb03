"""What every request of a client shares: the pooled `httpx.AsyncClient`, the API base and the key.

No I/O of its own. The key goes into the headers of requests to the base and nowhere else (not
into an upload's PUT, a download, a repr or a message: `scrub` removes it from a server's echo).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from kling.api import answers
from kling.api.models import is_task_id
from kling.errors import KlingError, NotFoundError


@dataclass(frozen=True)
class Connection:
    http: httpx.AsyncClient = field(repr=False)
    base_url: str
    key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Connection(base_url={self.base_url!r}, api_key=<hidden>)"

    def url(self, path: str) -> str:
        """`path` (e.g. "predictions") under the API's v3 base."""
        return f"{self.base_url}/api/v3/{path}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}

    def scrub(self, text: str) -> str:
        """A server that echoes the request must not put the key into our messages."""
        return text.replace(self.key, "<hidden>") if self.key else text

    def error(self, response: httpx.Response, *, what: str, task_id: str | None = None) -> KlingError:
        return answers.error_for(response, what=what, scrub=self.scrub, task_id=task_id)

    def transient(self, response: httpx.Response, what: str) -> KlingError:
        """The error for an answer; raised as `Retry` when the same request may simply be sent again."""
        return answers.transient(response, what=what, scrub=self.scrub)

    def result_url(self, task_id: str) -> str:
        # Built from our base, never taken from `urls.get`: the key goes nowhere else.
        if not is_task_id(task_id):
            raise NotFoundError(f"{task_id[:60]!r} is not a task id.", task_id=None)
        return self.url(f"predictions/{task_id}/result")
