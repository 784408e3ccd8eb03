"""Downloads: a clip streamed to a temp file beside its destination, checked to be an MP4 of a sane
size, then renamed into place, so no partial file is ever left. The key is never sent (outputs live
on a CDN), and redirects are followed by hand: each hop must be http(s), and a hop to another host
must not lead into a private network (the URL came from a server; its redirects did not).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from kling.api.retry import Retry
from kling.errors import DownloadError

# Not the API's limit: ours. A 10 s 1080p clip is ~20 MB; anything far past that is not a clip.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MAX_REDIRECTS = 5

Retrying = Callable[[Callable[[], Awaitable[Path]]], Awaitable[Path]]


class _TransientDownload(Exception):
    """A download failure worth one more try."""


async def download(
    http: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    task_id: str | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    retrying: Retrying,
) -> Path:
    """`url` saved at `dest`, or DownloadError; transient failures go through `retrying`."""
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"The output of task {task_id} is not an http(s) URL.", url=url, task_id=task_id)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)

    async def attempt() -> Path:
        try:
            return await _download_once(http, url, dest, task_id, max_bytes)
        except _TransientDownload as exc:
            raise Retry(DownloadError(str(exc), url=url, task_id=task_id)) from None

    return await retrying(attempt)


async def _download_once(http: httpx.AsyncClient, url: str, dest: Path, task_id: str | None, max_bytes: int) -> Path:
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    what = f"the clip of task {task_id}" if task_id else "the clip"
    try:
        response = await _open(http, url, what, task_id)
        try:
            _check_answer(response, url, what, task_id, max_bytes)
            head = await _save(response, tmp, url, what, task_id, max_bytes)
        finally:
            await response.aclose()
        if not _is_mp4(head):
            raise DownloadError(f"{what.capitalize()} is not an MP4 file.", url=url, task_id=task_id)
        os.replace(tmp, dest)
        return dest
    except httpx.TransportError as exc:
        raise _TransientDownload(f"Downloading {what} was interrupted ({type(exc).__name__}).") from None
    finally:
        tmp.unlink(missing_ok=True)


def _too_big(url: str, what: str, task_id: str | None, max_bytes: int) -> DownloadError:
    return DownloadError(
        f"{what.capitalize()} is larger than {max_bytes // 2**20} MB; refused.", url=url, task_id=task_id
    )


def _check_answer(response: httpx.Response, url: str, what: str, task_id: str | None, max_bytes: int) -> None:
    """Refuse before reading: an error status (transient for 429/5xx) or a declared huge body."""
    if response.status_code >= 500 or response.status_code == 429:
        raise _TransientDownload(f"Downloading {what} failed with HTTP {response.status_code}.")
    if response.status_code != 200:
        expired = response.status_code in (403, 404, 410)
        hint = " The URL may have expired (outputs are kept 7 days)." if expired else ""
        raise DownloadError(
            f"Downloading {what} failed with HTTP {response.status_code}.{hint}", url=url, task_id=task_id
        )
    if int(response.headers.get("content-length") or 0) > max_bytes:
        raise _too_big(url, what, task_id, max_bytes)


async def _save(response: httpx.Response, tmp: Path, url: str, what: str, task_id: str | None, max_bytes: int) -> bytes:
    """Stream the body to `tmp`, cut off past `max_bytes`; returns its first 12 bytes."""
    size = 0
    head = b""
    with tmp.open("wb") as out:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_big(url, what, task_id, max_bytes)
            if len(head) < 12:
                head += chunk[:12]
            out.write(chunk)
    return head


async def _open(http: httpx.AsyncClient, url: str, what: str, task_id: str | None) -> httpx.Response:
    """GET with redirects followed by hand, each hop checked (see the module's docstring)."""
    origin = httpx.URL(url).host
    for _ in range(MAX_REDIRECTS + 1):
        response = await http.send(http.build_request("GET", url), stream=True, follow_redirects=False)
        if not response.is_redirect:
            return response
        await response.aclose()
        url = str(httpx.URL(url).join(response.headers.get("location", "")))
        target = httpx.URL(url)
        if target.scheme not in ("http", "https"):
            raise DownloadError(
                f"Downloading {what} was redirected to a {target.scheme or 'non-web'} URL; refused.",
                url=url,
                task_id=task_id,
            )
        if target.host != origin and await _is_private_host(target.host):
            raise DownloadError(
                f"Downloading {what} was redirected to a private address ({target.host}); refused.",
                url=url,
                task_id=task_id,
            )
    raise DownloadError(
        f"Downloading {what} was redirected more than {MAX_REDIRECTS} times; refused.", url=url, task_id=task_id
    )


async def _is_private_host(host: str) -> bool:
    """True when `host` is, or resolves to, a loopback, private, link-local or reserved address."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            return False  # unresolvable: the request itself will fail
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return any(
        a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_multicast or a.is_unspecified
        for a in addresses
    )


def _is_mp4(head: bytes) -> bool:
    return len(head) >= 12 and head[4:8] == b"ftyp"
