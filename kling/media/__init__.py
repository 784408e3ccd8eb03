"""Everything that touches pixels: reading and checking input images, last frames and stitched
films (PyAV), the preview's stand-in clips, the examples' thumbnails and posters, a shared clip's
poster frame, and a clip's recipe written into its MP4.

May import: kling.config, kling.errors and kling.files (atomic writes). Never kling.api,
kling.preview, kling.store, kling.jobs, kling.app or kling.cli: media work is pure file in, file out.
"""
