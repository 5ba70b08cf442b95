"""One screen per file: the runs table, one run's details, the error dialog."""
