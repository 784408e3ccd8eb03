"""Where things are: the repository, and the clips the tests' simulators share."""

from __future__ import annotations

import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Clips rendered by the tests' simulators, shared for the session: a clip asked for again (same
# model, prompt, length, images) is not rendered again. Tests of rendering itself render their own.
SIM_CLIPS = Path(tempfile.mkdtemp(prefix="kling-test-clips-"))
