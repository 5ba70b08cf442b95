"""gsmreport: fine-tune small LLMs on reasoning data, evaluate on GSM8K, write honest reports."""

__version__ = "0.1.0"
