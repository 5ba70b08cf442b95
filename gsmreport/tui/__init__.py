"""The Textual front end: the only package that imports textual (DESIGN.md, import direction).

Everything here is presentation; reading runs and rendering reports go through the same core
functions the CLI uses (`analysis.summary.summarize`, `pipeline.render`).
"""
