"""The Gradio page: Studio (the services and launch), the page (page.py, with page.js and style.css
beside it), a module per tab under `tabs` (each tab's handlers, builder and wiring), the texts it
shows (views), its building blocks (widgets), and who is asking (identity, visitor, the Hugging
Face user).

May import everything below it: kling.jobs, kling.store, kling.api, kling.media, kling.config,
kling.errors, kling.strings, kling.examples. Nothing imports kling.app except app.py.
"""
