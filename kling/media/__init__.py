"""Everything that touches pixels: reading and checking images, last frames and stitched films
(PyAV), the preview's stand-in clips, the examples' thumbnails.

May import: kling.config, kling.errors and kling.files (atomic writes). Never kling.api,
kling.jobs, kling.app or kling.cli: media work is pure file in, file out.
"""
