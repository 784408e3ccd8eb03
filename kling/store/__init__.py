"""What the app keeps on disk: the task journal (SQLite, versioned with migrations), the clip
shelf the page serves from, films and their owners, shared links and their rules, the data folder's
caps, a task's recipe stamped into its clip, spend per day, and the showcase manifest as the page
reads it.

May import: kling.config, kling.errors, kling.files, kling.api.params (a task's request and price)
and kling.media. Never kling.jobs, kling.app or kling.cli.
"""
