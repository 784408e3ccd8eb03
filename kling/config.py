"""Settings from the environment (and `.env`), read when asked, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://api.wavespeed.ai"


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


@dataclass(frozen=True)
class Settings:
    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = Path("data")
    concurrency: int = 16

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        if environ is None:
            if dotenv:
                from dotenv import load_dotenv

                load_dotenv(override=False)
            environ = os.environ
        return cls(
            api_key=environ.get("WAVESPEED_API_KEY", "").strip() or None,
            base_url=(environ.get("WAVESPEED_BASE_URL", "").strip() or DEFAULT_BASE_URL).rstrip("/"),
            data_dir=Path(environ.get("KLING_DATA_DIR", "").strip() or "data"),
            concurrency=_int(environ, "KLING_CONCURRENCY", 16),
        )

    @property
    def preview(self) -> bool:
        return self.api_key is None

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"
