"""Render one run's report: Markdown always, HTML and PDF on request; every write atomic.

Safety boundaries (DESIGN.md, "Reports"): the HTML environment autoescapes, a user's
template folder renders in Jinja's sandbox, and WeasyPrint may fetch only files inside the
report folder — no network, no other local files — since a template or a model response
could otherwise pull `file:///etc/passwd` or a remote URL into a shared PDF.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from gsmreport import __version__
from gsmreport.analysis.run import RunAnalysis, analyse_run
from gsmreport.core.fsutil import atomic_write_bytes, atomic_write_text
from gsmreport.core.runs import RunRecord, now_iso
from gsmreport.report import pdf_fonts
from gsmreport.report.card import card_context, front_matter
from gsmreport.report.charts import eval_charts, training_charts
from gsmreport.report.context import build_context
from gsmreport.report.freshness import input_stamps, write_manifest
from gsmreport.report.staging import staged_folder
from gsmreport.report.templating import render_template


@dataclass(frozen=True)
class ReportPaths:
    md: Path
    html: Path | None
    pdf: Path | None
    charts: tuple[Path, ...]
    card: Path | None = None
    analysis: Path | None = None  # analysis.json: every figure of the report, with its source


class ReportURLFetcher(URLFetcher):  # type: ignore[misc]
    """Serves `file:` URLs under `root` only (and self-contained `data:` URLs); refuses the rest."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self.root = root.resolve()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise PermissionError(f"report may not fetch {url!r}: only files under {self.root}")
        # resolve() follows symlinks, so a link inside the folder cannot point outside it.
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise PermissionError(f"report may not fetch {url!r}: only files under {self.root}")
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes())


def html_to_pdf(html: str, out_dir: Path) -> bytes:
    pdf_fonts.install()  # same fonts embedded, subset with less work (pdf_fonts.py)
    fetcher = ReportURLFetcher(out_dir)
    pdf: bytes = HTML(
        string=html, base_url=out_dir.resolve().as_uri() + "/", url_fetcher=fetcher
    ).write_pdf()
    return pdf


def generated_at() -> str:
    """Now, or SOURCE_DATE_EPOCH when set (the reproducible-builds convention), so a CI job or
    a golden test can render byte-identical reports from the same run."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).isoformat(timespec="seconds")
    return now_iso()


def write_documents(
    out_dir: Path,
    stem: str,
    templates: Path | None,
    context: dict[str, Any],
    *,
    html: bool,
    pdf: bool,
) -> tuple[Path, Path | None, Path | None]:
    """<stem>.md always, <stem>.html and <stem>.pdf on request, from `<stem>.{md,html}.j2`."""
    md_path = out_dir / f"{stem}.md"
    atomic_write_text(md_path, render_template("md", templates, context, f"{stem}.md.j2"))
    html_path = pdf_path = None
    if html or pdf:
        html_text = render_template("html", templates, context, f"{stem}.html.j2")
        html_path = out_dir / f"{stem}.html"
        atomic_write_text(html_path, html_text)
        if pdf:
            pdf_path = out_dir / f"{stem}.pdf"
            atomic_write_bytes(pdf_path, html_to_pdf(html_text, out_dir))
    return md_path, html_path, pdf_path


def write_analysis_json(analysis: RunAnalysis, out_dir: Path) -> Path:
    """analysis.json beside the report: the figures the report printed, machine-readable."""
    path = out_dir / "analysis.json"
    text = json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


def render_run_report(
    run_dir: Path,
    record: RunRecord,
    out_dir: Path,
    *,
    pdf: bool = False,
    html: bool = False,
    card: bool = False,
    templates: Path | None = None,
) -> ReportPaths:
    """report.md and analysis.json always; report.html, report.pdf and a model card
    (README.md) on request. Every figure comes from the run's one analysis.

    Written into a temporary folder that replaces out_dir only when everything is written
    (staging.py), with the manifest that lets `render --all` skip it until an input changes
    (freshness.py)."""
    before = input_stamps(run_dir)
    with staged_folder(out_dir) as work:
        paths = _render_into(
            work, run_dir, record, pdf=pdf, html=html, card=card, templates=templates
        )
        written = [p.relative_to(work).as_posix() for p in _files(paths)]
        write_manifest(work, run_dir, before, written, templates, record.status)
    return _moved(paths, work, out_dir)


def _files(paths: ReportPaths) -> list[Path]:
    return [p for p in (paths.md, paths.html, paths.pdf, paths.card, paths.analysis) if p]


def _moved(paths: ReportPaths, work: Path, out_dir: Path) -> ReportPaths:
    """The same paths under out_dir, where the staged folder now is."""

    def at(path: Path) -> Path:
        return out_dir / path.relative_to(work)

    def maybe(path: Path | None) -> Path | None:
        return None if path is None else at(path)

    return ReportPaths(
        at(paths.md),
        maybe(paths.html),
        maybe(paths.pdf),
        tuple(at(p) for p in paths.charts),
        maybe(paths.card),
        analysis=maybe(paths.analysis),
    )


def _render_into(
    out_dir: Path,
    run_dir: Path,
    record: RunRecord,
    *,
    pdf: bool,
    html: bool,
    card: bool,
    templates: Path | None,
) -> ReportPaths:
    analysis = analyse_run(run_dir, record, rebuild=True)
    sections = analysis.evaluations
    charts = training_charts(analysis.frame) if analysis.frame.height else {}
    charts |= eval_charts({s.summary.eval_id: s.by_steps for s in sections if s.by_steps})
    chart_files: list[Path] = []
    for name, chart in charts.items():
        png, svg = out_dir / "charts" / f"{name}.png", out_dir / "charts" / f"{name}.svg"
        atomic_write_bytes(png, chart.png)
        atomic_write_text(svg, chart.svg)
        chart_files += [png, svg]
    evals = [s.summary for s in sections]
    context = build_context(analysis, charts)
    context |= {"generated_at": generated_at(), "version": __version__}
    md_path, html_path, pdf_path = write_documents(
        out_dir, "report", templates, context, html=html, pdf=pdf
    )
    analysis_path = write_analysis_json(analysis, out_dir)
    card_path = None
    if card:
        card_path = out_dir / "README.md"
        extra = card_context(record, evals, analysis.run_kind.kind)
        body = render_template("md", templates, context | {"card": extra}, "card.md.j2")
        atomic_write_text(card_path, front_matter(extra["metadata"]) + body)
    return ReportPaths(
        md_path, html_path, pdf_path, tuple(chart_files), card_path, analysis=analysis_path
    )
