"""The WaveSpeed API client: what a request is, what it costs and how it is checked (params), how it
is sent, polled and fetched (client, over models, answers, connection, uploads, polling and
downloads; retry), which server answers (backend: WaveSpeed with a key, the
in-process simulator without one) and how WaveSpeed's webhooks wake a wait (webhooks).

May import: kling.config, kling.errors, kling.media (image reading), kling.preview (the backend serves
the simulator in preview). Never kling.store, kling.jobs, kling.app or kling.cli: the client knows
nothing of journals, visitors or pages, so a script can use it alone.
"""
