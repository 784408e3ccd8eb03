"""The WaveSpeed key and address: read once, in kling/config.py, for the app and the client alike."""

from __future__ import annotations

import pytest

from kling.config import DEFAULT_BASE_URL, Settings, api_key_from_env, base_url_from_env


def test_key_and_address_default_to_preview_and_the_real_api():
    settings = Settings.from_env({})
    assert settings.api_key is None and settings.preview
    assert settings.base_url == DEFAULT_BASE_URL == Settings().base_url == "https://api.wavespeed.ai"


@pytest.mark.parametrize(
    ("environ", "key", "base_url"),
    [
        ({"WAVESPEED_API_KEY": "  k-1 \n"}, "k-1", DEFAULT_BASE_URL),
        ({"WAVESPEED_API_KEY": "   ", "WAVESPEED_BASE_URL": "  "}, None, DEFAULT_BASE_URL),
        ({"WAVESPEED_BASE_URL": " http://127.0.0.1:8765/ "}, None, "http://127.0.0.1:8765"),
    ],
)
def test_key_and_address_from_the_environment(environ, key, base_url):
    settings = Settings.from_env(environ)
    assert (settings.api_key, settings.base_url) == (key, base_url)
    # The client's own fallback makes the very same reads.
    assert (api_key_from_env(environ), base_url_from_env(environ)) == (key, base_url)
