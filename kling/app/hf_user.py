"""The Hugging Face user behind a token an API or MCP caller sends, so their limits key on it.

Signed-in page visitors come with a `gr.OAuthProfile`; scripts and agents may instead send
`Authorization: Bearer hf_...`. Asking Hugging Face who that is costs a request, and a script can
send a new random token each time, so answers are kept (good ones 10 min, bad ones 5 min) and
lookups of tokens not seen before are capped per minute: past the cap the caller is treated as
anonymous (keyed on its address) rather than making us flood huggingface.co. The token itself is
never stored or logged, only its SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable

import httpx

from kling.app.identity import clean_username

log = logging.getLogger("kling.app.identity")

WHOAMI_URL = "https://huggingface.co/api/whoami-v2"
_TOKEN = re.compile(r"hf_[A-Za-z0-9]{20,120}")


def bearer_token(authorization: str | None) -> str | None:
    """The hf_ token in an Authorization header value, or None."""
    if not isinstance(authorization, str) or len(authorization) > 200:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and _TOKEN.fullmatch(token) else None


class HfUsers:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        known_ttl: float = 600.0,
        unknown_ttl: float = 300.0,
        lookups_per_minute: int = 30,
        remember: int = 4096,
        url: str = WHOAMI_URL,
    ) -> None:
        self._http = http
        self._clock = clock
        self._known_ttl = known_ttl
        self._unknown_ttl = unknown_ttl
        self._lookups_per_minute = lookups_per_minute
        self._remember = remember
        self._url = url
        self._answers: OrderedDict[str, tuple[str | None, float]] = OrderedDict()  # sha256 -> (name, expires)
        self._lookups: deque[float] = deque()

    async def username(self, authorization: str | None) -> str | None:
        """The username of the Hugging Face user whose token is in `authorization`, else None."""
        token = bearer_token(authorization)
        if token is None:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock()
        cached = self._answers.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        if not self._may_look_up(now):
            return None
        name = await self._whoami(token)
        self._answers[digest] = (name, now + (self._known_ttl if name else self._unknown_ttl))
        self._answers.move_to_end(digest)
        while len(self._answers) > self._remember:
            self._answers.popitem(last=False)
        return name

    def _may_look_up(self, now: float) -> bool:
        while self._lookups and self._lookups[0] <= now - 60:
            self._lookups.popleft()
        if len(self._lookups) >= self._lookups_per_minute:
            return False
        self._lookups.append(now)
        return True

    async def _whoami(self, token: str) -> str | None:
        try:
            response = await self._http.get(self._url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except httpx.HTTPError as exc:
            log.warning("Could not ask Hugging Face who a token belongs to: %s", type(exc).__name__)
            return None
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("type") != "user":
            return None  # an organisation's or an app's token is not a person to count
        name = body.get("name")
        return clean_username(name) if isinstance(name, str) else None
