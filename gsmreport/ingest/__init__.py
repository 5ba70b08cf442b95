"""One module per log source, each returning the same long-form polars table (schema.SCHEMA)."""

from gsmreport.ingest.run import ingest_run, load_metrics, needs_ingest
from gsmreport.ingest.schema import SCHEMA, empty_frame, finalize, rows_from_log

__all__ = [
    "SCHEMA",
    "empty_frame",
    "finalize",
    "ingest_run",
    "load_metrics",
    "needs_ingest",
    "rows_from_log",
]
