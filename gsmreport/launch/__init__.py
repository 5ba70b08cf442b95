"""Build job command lines (pure) and run them as child processes (stream, cancel)."""
