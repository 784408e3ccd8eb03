"""The command line, `python -m kling`: generate, resume, history, the operator's commands (lost
submits, pruning), last frames and stitching, the served simulator, and the showcase's paid making.

May import anything but kling.app, and never gradio: a script's start-up stays fast and needs no UI.
"""
