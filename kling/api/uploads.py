"""Uploads: an image that passed `prepare_image` becomes a URL WaveSpeed can fetch.

Two flows. The binary endpoint (`POST /media/upload/binary`, as the JS and Go SDKs and the MCP
server use) until it answers 404 or 405; then the ticket flow of WaveSpeed's Python SDK 2.x (ask
for a ticket, PUT the bytes where it says, without our key) for as long as the `RetiredUploads`
that saw it lives. The backend keeps one per backend, so two backends in one process do not
share what one of them learnt. Uploads are free and create nothing billable: each attempt raises
`Retry` when it may simply be sent again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from kling.api.answers import effective_status, envelope_data, http_url
from kling.api.connection import Connection
from kling.api.retry import Retry
from kling.errors import KlingError, ProtocolError, ServerError
from kling.media.images import PreparedImage

Retrying = Callable[[Callable[[], Awaitable[str]]], Awaitable[str]]


class RetiredUploads:
    """The API bases whose binary upload endpoint answered 404/405: the ticket flow from then on."""

    def __init__(self) -> None:
        self._bases: set[str] = set()

    def __contains__(self, base_url: object) -> bool:
        return base_url in self._bases

    def retire(self, base_url: str) -> None:
        self._bases.add(base_url)


async def upload(conn: Connection, image: PreparedImage, *, retired: RetiredUploads, retrying: Retrying) -> str:
    """The image's URL, through the binary endpoint unless `retired` says it is gone."""
    if conn.base_url not in retired:
        try:
            return await retrying(lambda: upload_binary(conn, image))
        except KlingError as exc:
            if exc.http_status not in (404, 405):
                raise
            # SDK 2.x moved to the ticket flow; once the old endpoint is gone, it stays gone.
            retired.retire(conn.base_url)
    return await retrying(lambda: upload_ticket(conn, image))


def _interrupted(exc: Exception) -> Retry:
    return Retry(ServerError(f"The image upload did not go through ({type(exc).__name__})."))


async def upload_binary(conn: Connection, image: PreparedImage) -> str:
    """One attempt at the binary endpoint: multipart `file`, answered with `data.download_url`."""
    files = {"file": (image.filename, image.data, image.mime_type)}
    try:
        response = await conn.http.post(conn.url("media/upload/binary"), files=files, headers=conn.headers())
    except httpx.TransportError as exc:
        raise _interrupted(exc) from None
    if effective_status(response) != 200:
        raise conn.transient(response, "upload the image")
    return http_url(envelope_data(response).get("download_url"), "upload")


async def upload_ticket(conn: Connection, image: PreparedImage) -> str:
    """SDK 2.x's flow: ask for a ticket, then PUT the raw bytes where it says, without our key."""
    body = {"filename": image.filename, "size": len(image.data), "content_type": image.mime_type}
    try:
        response = await conn.http.post(conn.url("media/uploads"), json=body, headers=conn.headers())
    except httpx.TransportError as exc:
        raise _interrupted(exc) from None
    if effective_status(response) != 200:
        raise conn.transient(response, "upload the image")
    data = envelope_data(response)
    raw_upload = data.get("upload")
    ticket: Mapping[str, Any] = raw_upload if isinstance(raw_upload, Mapping) else {}
    put_url = http_url(ticket.get("url"), "upload ticket")
    download_url = http_url(data.get("download_url"), "upload ticket")
    if str(ticket.get("method", "PUT")).upper() != "PUT":
        raise ProtocolError("The upload ticket asks for a method other than PUT.")
    await _put(conn.http, put_url, image, ticket.get("headers"))
    return download_url


async def _put(http: httpx.AsyncClient, url: str, image: PreparedImage, given: object) -> None:
    """The ticket's PUT, with the headers it names except any Authorization: our key stays home."""
    named = given if isinstance(given, Mapping) else {}
    headers = {str(k): str(v) for k, v in named.items() if str(k).lower() != "authorization"}
    headers.setdefault("Content-Type", image.mime_type)
    try:
        put = await http.put(url, content=image.data, headers=headers)
    except httpx.TransportError as exc:
        raise _interrupted(exc) from None
    if put.status_code >= 500 or put.status_code == 429:
        raise Retry(ServerError(f"Storing the image failed with HTTP {put.status_code}."))
    if not 200 <= put.status_code < 300:
        raise ServerError(f"Storing the image failed with HTTP {put.status_code}.")
