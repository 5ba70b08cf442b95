"""Data set adapters. Only `synthetic` and `gsm8k` exist so far; all return plain dicts."""
