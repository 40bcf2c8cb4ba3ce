"""Email templates: their documented contexts, the renderer, and the MIME message."""
