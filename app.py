"""Kling Studio, the Hugging Face Space entry point: `python app.py [--host H] [--port P] [--share]`."""

import argparse

from kling.app.studio import Studio, launch

studio = Studio.from_env()
demo = studio.build()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Kling Studio: Kling v2.0 master videos via WaveSpeed, as a Gradio app."
    )
    parser.add_argument("--host", help="address to serve on (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: GRADIO_SERVER_PORT or 7860)")
    parser.add_argument(
        "--share", action="store_true", default=None, help="ask Gradio for a public share link (also KLING_SHARE=1)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    args = parse_args()
    launch(demo, studio, host=args.host, port=args.port, share=args.share)
