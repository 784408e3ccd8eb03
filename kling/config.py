"""Settings from the environment (and `.env`), read when asked, never at import.

The one place kling reads the environment. Each default is written once, on the dataclass (the
API's address in DEFAULT_BASE_URL); `from_env` reads a variable or keeps that default.
`AsyncKlingClient` used on its own, as a library, falls back to the same two reads `from_env`
makes for the key and the address: `api_key_from_env` and `base_url_from_env`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://api.wavespeed.ai"


def api_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """WAVESPEED_API_KEY without surrounding blanks, or None. `environ` defaults to os.environ (no .env)."""
    raw = (os.environ if environ is None else environ).get("WAVESPEED_API_KEY", "")
    return raw.strip() or None


def base_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """WAVESPEED_BASE_URL (for a simulator or a proxy) without a trailing slash, or the API's own address."""
    raw = (os.environ if environ is None else environ).get("WAVESPEED_BASE_URL", "").strip()
    return (raw or DEFAULT_BASE_URL).rstrip("/")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    """A whole number that may be 0."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 3:
        raise ValueError(f"{name} must be a whole number from 0 to 999, got {raw[:20]!r}")
    return int(raw)


def _file_size(environ: Mapping[str, str], name: str, default: str) -> str:
    """Gradio's max_file_size form: a whole number and a unit, e.g. "20mb"."""
    raw = environ.get(name, "").strip().lower().replace(" ", "") or default
    if not re.fullmatch(r"[1-9][0-9]{0,5}(b|kb|mb|gb)", raw):
        raise ValueError(f"{name} must look like 20mb or 500kb, got {raw[:20]!r}")
    return raw


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _dollars(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        cents = round(float(raw) * 100)
    except ValueError:
        raise ValueError(f"{name} must be an amount in dollars, got {raw!r}") from None
    if cents < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return cents


def _auth(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        user, sep, password = item.partition(":")
        if not sep or not user or not password:
            raise ValueError("KLING_AUTH must look like 'user:password,other:password'")
        pairs.append((user, password))
    return tuple(pairs)


def _url(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip().rstrip("/")
    if raw and not raw.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw or None


def _visitor_limits(environ: Mapping[str, str], default: Settings) -> dict[str, int]:
    """What one address or visitor may ask of the server for free: uploads, key checks, shares and
    shared-page views (each a sliding window, kling/app/sliding_window.py)."""
    return {
        "upload_window_s": _int(environ, "KLING_UPLOAD_WINDOW_S", default.upload_window_s),
        "upload_window_bytes": _int(environ, "KLING_UPLOAD_WINDOW_MB", default.upload_window_bytes >> 20) << 20,
        "uploads_per_window": _int(environ, "KLING_UPLOADS_PER_WINDOW", default.uploads_per_window),
        "uploads_bytes": _int(environ, "KLING_UPLOADS_MB", default.uploads_bytes >> 20) << 20,
        "upload_keep_s": _int(environ, "KLING_UPLOAD_KEEP_S", default.upload_keep_s),
        "key_checks_per_minute": _int(environ, "KLING_KEY_CHECKS_PER_MINUTE", default.key_checks_per_minute),
        "shares_per_hour_per_visitor": _int(
            environ, "KLING_SHARES_PER_HOUR_PER_VISITOR", default.shares_per_hour_per_visitor
        ),
        "share_views_per_minute": _int(environ, "KLING_SHARE_VIEWS_PER_MINUTE", default.share_views_per_minute),
    }


@dataclass(frozen=True)
class Settings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = Path("data")
    # A waiting generation is one coroutine polling now and then: fifty visitors must each wait
    # for Kling, not for each other (bench/concurrency.py). The account's own limit still applies.
    concurrency: int = 100
    # Spend guard for the server's key (a visitor's own key is never limited by these).
    tasks_per_hour_per_browser: int = 10
    tasks_per_hour_per_ip: int = 20
    daily_budget_cents: int | None = None
    # Fair shares of the server's own work, for everyone (kling/app/fairness.py): generations under way
    # at once per visitor (browser or signed-in user) and per address (a visitor's own key is not
    # counted: it pays), images being decoded at once per visitor and per address (one of the two
    # decode slots at most, so another visitor always finds one), and free previews per hour per address.
    in_flight_per_visitor: int = 2
    in_flight_per_address: int = 4
    decodes_in_flight: int = 1
    previews_per_hour_per_ip: int = 30
    require_user_key: bool = False
    # Calls to WaveSpeed's prompt optimizer ($0.001 each) per hour per browser and per address.
    prompt_help_per_hour_per_browser: int = 30
    prompt_help_per_hour_per_ip: int = 60
    auth: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Who sees the Usage tab: Hugging Face usernames (signed in), or KLING_AUTH usernames where it is used.
    admins: tuple[str, ...] = ()
    # Gradio keeps each visitor session's copy of the page config (~0.3 MB for this page) until this
    # many newer sessions push it out; its own default (10 000) would let that grow to gigabytes.
    session_capacity: int = 2000
    share: bool = False  # ask Gradio for a public share link
    mcp: bool = False  # serve Gradio's MCP server (gradio[mcp], in requirements.txt)
    # Where WaveSpeed can reach this app (e.g. https://name-space.hf.space): submits then ask for
    # a webhook, so a clip is fetched the moment it is done instead of at the next poll.
    public_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)  # else fetched once with api_key
    showcase_dir: Path = Path("assets/showcase")  # real clips of the examples (python -m kling showcase)
    # The "Shared" tab: the newest clips visitors shared (KLING_GALLERY=0 hides it; links still work).
    gallery: bool = True
    space_host: str | None = None  # SPACE_HOST on a Space (name-space.hf.space): where shared links point
    # Shared links (kling/app/share_routes.py, share_tab.py): shares one visitor may make per hour (each writes a
    # poster and a copy of the clip), and shared pages one address may load per minute (its files:
    # ten times that, for a page's poster, its video's ranges and the Shared tab's posters).
    shares_per_hour_per_visitor: int = 20
    share_views_per_minute: int = 60

    # Proxies in front of the app whose X-Forwarded-For entries are believed (kling/app/identity.py).
    # On a Hugging Face Space (space_id set) the Space's own proxy is trusted whatever this says.
    trusted_proxies: int = 0
    space_id: str | None = None
    hf_oauth: bool = False  # the Space has `hf_oauth: true` (Hugging Face then sets OAUTH_CLIENT_ID)
    require_login: bool = False  # only visitors signed in with Hugging Face spend the server's key
    # Signs browser ids and the browser-side copy of a visitor's key; else one kept in data_dir.
    state_secret: str | None = field(default=None, repr=False)
    # Largest upload Gradio accepts: well above the API's 10 MB image limit (we re-encode bigger
    # ones), far below what would let a few uploads fill the disk or memory.
    gradio_max_file_size: str = "20mb"
    # Finished clips shown on the page live in one folder in Gradio's cache, capped at this size.
    clip_cache_bytes: int = 1 << 30
    # Gradio deletes its uploads and cached outputs this old (delete_cache), so uploads that no run
    # ever used do not stay forever.
    upload_max_age_s: int = 2 * 3600
    # Gradio's upload route, whoever calls it (kling/app/upload_guard.py): one address (and one
    # signed-in user) stores at most upload_window_bytes and uploads_per_window files in any
    # upload_window_s; everything the route stored stays under uploads_bytes, the least recently
    # used going first, but never a file stored or read less than upload_keep_s ago.
    upload_window_s: int = 600
    upload_window_bytes: int = 100 << 20
    uploads_per_window: int = 100
    uploads_bytes: int = 1 << 30
    upload_keep_s: int = 600
    # Checks of a visitor's own key with WaveSpeed (its balance) per minute, per visitor and per address.
    key_checks_per_minute: int = 5
    # What the data folder may keep besides paid clips and the journal (kling/store/disk.py): the oldest
    # go first past each cap. Paid clips are never removed automatically (python -m kling prune).
    preview_clips_bytes: int = 1 << 30
    films_bytes: int = 2 << 30
    frames_bytes: int = 256 << 20
    inputs_bytes: int = 512 << 20
    # A film: at most this many clips (repeats included) and this many seconds; a visitor keeps at
    # most films_per_visitor films (the oldest goes); stitch_workers films are cut at once, at most
    # one per visitor, so one visitor's long film never holds up another's.
    film_max_clips: int = 12
    film_max_seconds: int = 180
    films_per_visitor: int = 10
    stitch_workers: int = 2
    share_server_address: str | None = None  # Gradio's own GRADIO_SHARE_SERVER_ADDRESS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        if environ is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(override=False)
            environ = os.environ
        default = cls()
        return cls(
            api_key=api_key_from_env(environ),
            base_url=base_url_from_env(environ),
            data_dir=Path(environ.get("KLING_DATA_DIR", "").strip() or default.data_dir),
            concurrency=_int(environ, "KLING_CONCURRENCY", default.concurrency),
            tasks_per_hour_per_browser=_int(
                environ, "KLING_TASKS_PER_HOUR_PER_BROWSER", default.tasks_per_hour_per_browser
            ),
            tasks_per_hour_per_ip=_int(environ, "KLING_TASKS_PER_HOUR_PER_IP", default.tasks_per_hour_per_ip),
            daily_budget_cents=_dollars(environ, "KLING_DAILY_BUDGET_USD"),
            in_flight_per_visitor=_int(environ, "KLING_IN_FLIGHT_PER_VISITOR", default.in_flight_per_visitor),
            in_flight_per_address=_int(environ, "KLING_IN_FLIGHT_PER_ADDRESS", default.in_flight_per_address),
            decodes_in_flight=_int(environ, "KLING_DECODES_IN_FLIGHT", default.decodes_in_flight),
            previews_per_hour_per_ip=_int(environ, "KLING_PREVIEWS_PER_HOUR_PER_IP", default.previews_per_hour_per_ip),
            require_user_key=_flag(environ, "KLING_REQUIRE_USER_KEY"),
            prompt_help_per_hour_per_browser=_int(
                environ, "KLING_PROMPT_HELP_PER_HOUR_PER_BROWSER", default.prompt_help_per_hour_per_browser
            ),
            prompt_help_per_hour_per_ip=_int(
                environ, "KLING_PROMPT_HELP_PER_HOUR_PER_IP", default.prompt_help_per_hour_per_ip
            ),
            auth=_auth(environ.get("KLING_AUTH", "")),
            admins=tuple(filter(None, (name.strip() for name in environ.get("KLING_ADMINS", "").split(",")))),
            public_url=_url(environ, "KLING_PUBLIC_URL"),
            webhook_secret=environ.get("KLING_WEBHOOK_SECRET", "").strip() or None,
            session_capacity=_int(environ, "KLING_SESSION_CAPACITY", default.session_capacity),
            trusted_proxies=_count(environ, "KLING_TRUSTED_PROXIES", default.trusted_proxies),
            space_id=environ.get("SPACE_ID", "").strip() or None,
            hf_oauth=bool(environ.get("OAUTH_CLIENT_ID", "").strip()),
            require_login=_flag(environ, "KLING_REQUIRE_LOGIN"),
            state_secret=environ.get("KLING_STATE_SECRET", "").strip() or None,
            gradio_max_file_size=_file_size(environ, "KLING_MAX_UPLOAD", default.gradio_max_file_size),
            clip_cache_bytes=_int(environ, "KLING_CLIP_CACHE_MB", default.clip_cache_bytes >> 20) << 20,
            upload_max_age_s=_int(environ, "KLING_UPLOAD_MAX_AGE_S", default.upload_max_age_s),
            preview_clips_bytes=_int(environ, "KLING_PREVIEW_CLIPS_MB", default.preview_clips_bytes >> 20) << 20,
            films_bytes=_int(environ, "KLING_FILMS_MB", default.films_bytes >> 20) << 20,
            frames_bytes=_int(environ, "KLING_FRAMES_MB", default.frames_bytes >> 20) << 20,
            inputs_bytes=_int(environ, "KLING_INPUTS_MB", default.inputs_bytes >> 20) << 20,
            film_max_clips=_int(environ, "KLING_FILM_MAX_CLIPS", default.film_max_clips),
            film_max_seconds=_int(environ, "KLING_FILM_MAX_SECONDS", default.film_max_seconds),
            films_per_visitor=_int(environ, "KLING_FILMS_PER_VISITOR", default.films_per_visitor),
            stitch_workers=_int(environ, "KLING_STITCH_WORKERS", default.stitch_workers),
            share=_flag(environ, "KLING_SHARE"),
            # GRADIO_MCP_SERVER too: it is what the "Use via API" page's MCP tab tells a visitor to set.
            mcp=_flag(environ, "KLING_MCP") or _flag(environ, "GRADIO_MCP_SERVER"),
            share_server_address=environ.get("GRADIO_SHARE_SERVER_ADDRESS", "").strip() or None,
            showcase_dir=Path(environ.get("KLING_SHOWCASE_DIR", "").strip() or default.showcase_dir),
            gallery=environ.get("KLING_GALLERY", "").strip().lower() not in ("0", "false", "no", "off"),
            space_host=environ.get("SPACE_HOST", "").strip().strip("/") or None,
            **_visitor_limits(environ, default),
        )

    @property
    def preview(self) -> bool:
        return self.api_key is None

    @property
    def on_space(self) -> bool:
        return self.space_id is not None

    @property
    def sign_in(self) -> bool:
        """Offer "Sign in with Hugging Face": on a Space with OAuth enabled, never elsewhere."""
        return self.on_space and self.hf_oauth

    @property
    def folder(self) -> DataFolder:
        """The data folder's layout."""
        return DataFolder(self.data_dir)

    @property
    def outputs_dir(self) -> Path:
        return self.folder.outputs

    @property
    def journal_path(self) -> Path:
        return self.folder.journal

    @property
    def disk_caps(self) -> DiskCaps:
        return DiskCaps(self.preview_clips_bytes, self.films_bytes, self.frames_bytes, self.inputs_bytes)


@dataclass(frozen=True)
class DataFolder:
    """Where everything under KLING_DATA_DIR lives: the one place that knows the layout. Every path
    under the data folder is derived from it; it lives here, in the bottom layer, because the store,
    the media code (films) and the page (the state secret) all need it."""

    root: Path

    @property
    def journal(self) -> Path:
        return Path(self.root) / "jobs.sqlite3"

    @property
    def outputs(self) -> Path:
        """Every clip downloaded, paid or preview: outputs/<task id>.mp4."""
        return Path(self.root) / "outputs"

    @property
    def inputs(self) -> Path:
        """Copies of input images, named by content, for "Use these settings"."""
        return Path(self.root) / "inputs"

    @property
    def films(self) -> Path:
        """Stitched films, each with its owner's JSON sidecar."""
        return Path(self.root) / "films"

    @property
    def shares(self) -> Path:
        """Which clips their owners shared (kling.store.share_links), beside the journal."""
        return Path(self.root) / "shares.sqlite3"

    @property
    def posters(self) -> Path:
        """The poster frame of each shared clip, made when it was shared."""
        return Path(self.root) / "shared"

    @property
    def frames(self) -> Path:
        """Last frames handed to "Continue from the last frame"."""
        return Path(self.root) / "frames"

    @property
    def secret(self) -> Path:
        """The random key that signs browser ids when KLING_STATE_SECRET is not set (owner-only)."""
        return Path(self.root) / ".state-secret"

    @property
    def showcase_pending(self) -> Path:
        """Showcase submits whose answer never arrived: `python -m kling showcase` warns of them."""
        return Path(self.root) / "showcase-pending.json"


@dataclass(frozen=True)
class DiskCaps:
    """Bytes each removable part of the data folder may take (kling/store/disk.py keeps them)."""

    preview_clips: int
    films: int
    frames: int
    inputs: int

    @property
    def total(self) -> int:
        return self.preview_clips + self.films + self.frames + self.inputs
