"""Work that outlives a request: a generation as a background run (runner: submit once, recover a
lost submit, journal before the first poll, download), the spend guard for the Space's key, and the
Prompt Lab's batches.

May import: kling.api, kling.store, kling.media, kling.config, kling.errors and kling.strings.
Never kling.app or kling.cli: a run is the same whether a page, a script or MCP started it.
"""
