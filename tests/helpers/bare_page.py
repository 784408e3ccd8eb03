"""A bare Gradio page with the same kinds of components as Kling Studio's page, configured as the
page has them, with Gradio's own theme and no CSS: what the accessibility test compares with."""

from __future__ import annotations

import gradio as gr


def bare_page() -> gr.Blocks:
    with gr.Blocks(title="Bare") as demo:
        gr.Markdown("# Title\nA tagline.")
        with gr.Accordion("Key", open=False):
            gr.Textbox(label="Key", type="password")
            gr.Button("Save", size="sm")
        with gr.Tabs():
            with gr.Tab("One"):
                with gr.Row():
                    with gr.Column():
                        with gr.Row():
                            image = gr.Image(
                                label="Start image", type="filepath", sources=["upload", "clipboard"], height=160
                            )
                            gr.Image(label="End image", type="filepath", sources=["upload", "clipboard"], height=160)
                        prompt = gr.Textbox(label="Prompt", lines=3)
                        gr.Markdown("0 / 2500 characters")
                        with gr.Row():
                            for name in ("A", "B", "C", "D"):
                                gr.Button(name, size="sm")
                        gr.Radio([5, 10], value=5, label="Duration")
                        with gr.Row():
                            gr.Markdown("$1.30")
                            gr.Button("Go", variant="primary")
                        negative = gr.Textbox(label="Negative prompt")
                        with gr.Accordion("More", open=False):
                            gr.Slider(0, 1, value=0.5, label="Guidance")
                    with gr.Column():
                        gr.Markdown("Ready.")
                        gr.Video(label="clip", interactive=False)
                        gr.Button("Copy link", size="sm")
                        gr.Textbox(show_label=False, interactive=False)
                gr.Examples([["a fox", "blur"]], inputs=[prompt, negative])
                del image
            with gr.Tab("Two"):
                gr.Radio(["16:9", "9:16"], label="Aspect ratio")
            with gr.Tab("Three"):
                gr.Markdown("three")
            with gr.Tab("Four"):
                gr.Dataframe(headers=["When", "Status"], interactive=False)
    return demo
