"""Who a visitor is, decided on the server from what the request can prove.

Three answers, all pure:

- `client_address`: the address the trusted proxy saw. `X-Forwarded-For` is written by the client
  except for the entries the proxies in front of us append, so only those are believed: none with no
  proxy (the socket's peer), the last one on a Hugging Face Space, the Nth from the right behind N
  proxies (`KLING_TRUSTED_PROXIES`). Forged entries to the left change nothing.
- `owner_for`: whose history and clips these are. Never a value the client chose: a signed-in
  Hugging Face username, or a browser id the server signed (`new_browser_token`). The command line's
  owner ("cli") and gradio_client sessions ("api-...") cannot be reached from either.
- `visitor_key` / `address_key`: what the spend limits count by. A new browser (or a new
  `gradio_client.Client`) is free to make, so the per-visitor limit keys on the username when signed
  in and on the address otherwise; IPv6 addresses count per /64, the block one household gets.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kling.config import DataFolder

UNKNOWN_ADDRESS = "unknown"
# A real chain is a few hops; only the tail matters, so a megabyte of header costs nothing more.
_FORWARDED_TAIL_CHARS = 4096
_BROWSER_ID = re.compile(r"[0-9a-f]{32}")
# Hugging Face usernames: letters, digits, '-', '_' and '.', at most 96 characters here (HF allows 42).
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_TOKEN_MAX_CHARS = 200
_SIGNING_CONTEXT = b"kling-studio browser id v1:"


# -- addresses ----------------------------------------------------------------------------------


def parse_address(text: str) -> str | None:
    """A normalised IP address from one header entry or socket peer, or None if it is not one.

    Accepts "1.2.3.4", "1.2.3.4:5678", "::1", "[2001:db8::1]:443"; an IPv4-mapped IPv6 address
    becomes its IPv4 form so one visitor has one key."""
    text = text.strip().strip('"').strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):  # [v6]:port
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.compressed


def _forwarded_for(headers: Mapping[str, str]) -> str:
    """Every X-Forwarded-For header line joined in order (a proxy may add its own line)."""
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        lines = [str(v) for v in getlist("x-forwarded-for")]
    else:
        value = headers.get("x-forwarded-for") or headers.get("X-Forwarded-For") or ""
        lines = [value] if isinstance(value, str) else []
    return ",".join(lines)[-_FORWARDED_TAIL_CHARS:]


def client_address(peer: str, headers: Mapping[str, str], *, on_space: bool, trusted_proxies: int) -> str:
    """The visitor's address as the nearest trusted proxy saw it.

    `peer` is the socket's remote address. On a Space (`on_space`) one proxy is trusted whatever
    `trusted_proxies` says. When the header has fewer entries than trusted hops, or the trusted entry
    is not an address, the peer is used: then every such request shares the proxy's address, which
    limits them together rather than letting any of them pick a fresh one."""
    peer_address = parse_address(peer or "") or UNKNOWN_ADDRESS
    hops = 1 if on_space else max(0, int(trusted_proxies))
    if hops == 0:
        return peer_address
    parts = _forwarded_for(headers).rsplit(",", hops)
    if len(parts) < hops:
        return peer_address
    return parse_address(parts[-hops]) or peer_address


def address_key(address: str) -> str:
    """What the per-address limit counts by: the address, or its /64 for IPv6 (one connection gets
    a whole /64 and could otherwise take a new address per request)."""
    parsed = parse_address(address)
    if parsed is None:
        return UNKNOWN_ADDRESS
    ip = ipaddress.ip_address(parsed)
    if isinstance(ip, ipaddress.IPv6Address):
        return ipaddress.IPv6Network((ip, 64), strict=False).compressed
    return parsed


# -- owners -------------------------------------------------------------------------------------


def clean_username(username: str | None) -> str | None:
    """The Hugging Face username if it looks like one, else None."""
    if not isinstance(username, str):
        return None
    name = username.strip()
    return name if _USERNAME.fullmatch(name) else None


def _signature(browser_id: str, secret: bytes) -> str:
    return hmac.new(secret, _SIGNING_CONTEXT + browser_id.encode("ascii"), hashlib.sha256).hexdigest()


def new_browser_token(secret: bytes) -> str:
    """A fresh browser id with the server's signature, "<32 hex>.<64 hex>", for the browser to keep."""
    browser_id = secrets.token_hex(16)
    return f"{browser_id}.{_signature(browser_id, secret)}"


def verify_browser_token(token: str | None, secret: bytes) -> str | None:
    """The browser id if this server signed `token`, else None (forged, altered, garbage, too long)."""
    if not isinstance(token, str) or not token or len(token) > _TOKEN_MAX_CHARS:
        return None
    browser_id, dot, signature = token.strip().partition(".")
    if not dot or not _BROWSER_ID.fullmatch(browser_id):
        return None
    return browser_id if hmac.compare_digest(_signature(browser_id, secret), signature) else None


def owner_for(*, username: str | None, browser_token: str | None, secret: bytes) -> str:
    """The journal owner for this request: "hf:<username>" when signed in, else "web:<browser id>"
    from a token this server signed, else "" (the caller mints a token with `new_browser_token`).

    Every result has a prefix no other owner uses, so nothing a client sends reaches "cli",
    "api-..." or an unprefixed owner."""
    name = clean_username(username)
    if name is not None:
        return f"hf:{name}"
    browser_id = verify_browser_token(browser_token, secret)
    return f"web:{browser_id}" if browser_id is not None else ""


@dataclass(frozen=True)
class Identity:
    """What one request is, for the handlers: its owner, the token to store (a new one when the
    browser brought none or a bad one), and the keys the spend limits count by."""

    owner: str
    browser_token: str | None
    visitor: str
    address: str
    signed_in: bool


def identify(*, username: str | None, browser_token: str | None, address: str, secret: bytes) -> Identity:
    """Everything the page needs to know about a request in one call. A browser without a valid
    token gets a new one (`browser_token` in the answer differs from the one sent: store it)."""
    owner = owner_for(username=username, browser_token=browser_token, secret=secret)
    token = browser_token if verify_browser_token(browser_token, secret) else new_browser_token(secret)
    if not owner:
        owner = owner_for(username=None, browser_token=token, secret=secret)
    name = clean_username(username)
    return Identity(
        owner=owner,
        browser_token=token,
        visitor=visitor_key(username=name, address=address),
        address=address_key(address),
        signed_in=name is not None,
    )


def visitor_key(*, username: str | None, address: str) -> str:
    """What the per-visitor limit counts by: the Hugging Face username when known (signed in on the
    page, or the user of the HF token an MCP caller sent), else the address. Never a browser id or a
    gradio_client session: those are free to renew."""
    name = clean_username(username)
    return f"hf:{name}" if name is not None else f"ip:{address_key(address)}"


def may_spend_server_key(*, require_login: bool, signed_in: bool, own_key: bool, preview: bool) -> bool:
    """KLING_REQUIRE_LOGIN: only signed-in visitors spend the Space's key; anyone may use the free
    preview or their own key. When False, refuse with SIGN_IN_REFUSAL before anything is sent."""
    return own_key or preview or signed_in or not require_login


# -- the server's secret --------------------------------------------------------------------------


def state_secret(configured: str | None, data_dir: Path) -> bytes:
    """The key that signs browser ids: derived from KLING_STATE_SECRET when set, else a random one
    kept in the data folder (created once, readable by this user only) so ids survive restarts."""
    if configured and configured.strip():
        return hashlib.sha256(b"kling-studio state secret:" + configured.strip().encode()).digest()
    path = DataFolder(data_dir).secret
    stored = _read_secret(path)
    if stored is not None:
        return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_bytes(32)
    try:  # O_EXCL: when two processes start at once, the first one's secret wins and both use it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        stored = _read_secret(path)
        if stored is not None:
            return stored
        path.unlink(missing_ok=True)  # unreadable or too short: replace it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(fresh.hex())
    return fresh


def shelf_key(secret: bytes) -> bytes:
    """The key the served clips' folder names are made with (kling.store.clips): derived from the
    server's secret, so it survives restarts and reveals nothing of the key that signs browser ids."""
    return hmac.new(secret, b"kling-studio clip shelf key v1", hashlib.sha256).digest()


def _read_secret(path: Path) -> bytes | None:
    try:
        stored = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return stored if len(stored) >= 32 else None
