"""Intake's I/O: MongoDB repositories (one per collection family) and index setup."""
