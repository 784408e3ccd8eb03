"""Kling Studio, the Hugging Face Space entry point: `python app.py`."""

from kling.ui import build_app, launch_kwargs

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
