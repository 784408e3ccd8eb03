"""What the app keeps on disk: the task journal (SQLite, versioned with migrations), the clip
shelf the page serves from, films and their owners, atomic file writes, the data folder's caps, and
the showcase manifest as the page reads it.

May import: kling.config, kling.errors, kling.api.params (a task's request and price) and kling.media.
Never kling.jobs, kling.app or kling.cli.
"""
