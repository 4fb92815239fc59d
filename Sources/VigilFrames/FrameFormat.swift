// Frame codec: see docs/frame-format.md.
