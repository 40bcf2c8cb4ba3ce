"""`make bench`: benchmarks that report each figure next to its baseline (see harness.py)."""
