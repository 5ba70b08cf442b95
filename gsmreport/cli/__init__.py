"""The command line: a Typer shell over gsmreport.pipeline (see app.py)."""
