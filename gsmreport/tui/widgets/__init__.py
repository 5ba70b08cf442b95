"""Reusable widgets: one per file (the braille curve chart, …)."""
