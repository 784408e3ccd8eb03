"""Kling Studio, the Hugging Face Space entry point: `python app.py`."""

from kling.ui import Studio

studio = Studio.from_env()
demo = studio.build()

if __name__ == "__main__":
    demo.launch(**studio.launch_kwargs())
