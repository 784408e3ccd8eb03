"""The preview backend: WaveSpeed's API imitated from this project's own reading of the model
pages and docs (docs/API.md), served in-process when there is no key and on loopback for tests.

May import: kling.media (to render its stand-in clips) and the standard library. Never kling.api or
anything above it: the simulator is an independent reading of the API, so a disagreement with the
client shows up in a test instead of being copied into both.
"""
