"""The page, a module per tab: each holds that tab's handlers (a class built over the shared
`Generation` and the page's `Parts`), its builder (components made in place inside the page's
`gr.Blocks`, returned as the named groups of `kling.app.widgets`) and its wiring (`wire_*`, which
connects the tab's controls to its handlers). `generate` holds what both generate tabs share (the
public endpoints, validators, spend, stop and background); `forms` their shared wiring; `common`
the session and the words every tab uses.

May import what `kling.app` may (kling.jobs, kling.store, kling.api, kling.media, kling.config,
kling.errors, kling.strings, kling.examples) and kling.app's building blocks (widgets, views,
identity, visitor, fairness, hf_user, image_input); never kling.app.page or kling.app.studio.
"""
