"""The PDF as a reader gets it: a few pages, the section headings in its text layer, page
numbers and running header from the print stylesheet, and a learning curve that is really
drawn (coloured pixels), checked with poppler's pdftotext / pdftoppm where installed."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image  # Pillow is a WeasyPrint dependency, so it is here wherever PDFs are

from gsmreport.report.render import render_run_report
from tests.run_fixtures import make_train_run

SECTIONS = (
    "Overview",
    "Hyper-parameters",
    "Key training metrics",
    "Learning curve",
    "Token accuracy",
    "Task metrics",
    "Task accuracy",
    "Failure categories",
    "Findings",
    "All logged series",
)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pdf")
    run_dir, record = make_train_run(root, "pdf-run")
    paths = render_run_report(run_dir, record, root / "reports" / record.id, pdf=True)
    assert paths.pdf is not None
    return paths.pdf


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed; the PDF itself was still written")
    return path


def _run(*args: str) -> bytes:
    return subprocess.run(args, capture_output=True, check=True, timeout=60).stdout


def _page_count(pdf: Path) -> int:
    info = _run(_tool("pdfinfo"), str(pdf)).decode()
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    return int(match.group(1))


def _page_text(pdf: Path, page: int) -> str:
    return _run(_tool("pdftotext"), "-f", str(page), "-l", str(page), str(pdf), "-").decode()


def _page_pixels(pdf: Path, page: int) -> np.ndarray:
    png = _run(_tool("pdftoppm"), "-png", "-r", "60", "-f", str(page), "-l", str(page), str(pdf))
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_pdf_page_count_and_headings(pdf: Path) -> None:
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _page_count(pdf)
    # six problems and four charts, plus the health, kind, task-metric and all-series blocks
    assert 2 <= pages <= 9, pages
    texts = [_page_text(pdf, p) for p in range(1, pages + 1)]
    everything = "\n".join(texts)
    for heading in SECTIONS:
        assert heading in everything, f"section {heading!r} missing from the PDF text"
    assert "hf_SECRET123" not in everything
    # Print stylesheet: "page N of M" on every page, the running header from page 2 on.
    for number, text in enumerate(texts, start=1):
        assert f"page {number} of {pages}" in text
    assert all("Run report: pdf-run" in text for text in texts[1:])
    assert texts[0].count("Run report: pdf-run") == 1  # the title; its hidden carrier is not text


def test_learning_curve_page_is_drawn(pdf: Path) -> None:
    pages = _page_count(pdf)
    # The figure caption sits under the chart, on the same page (figures are never split).
    chart_page = next(
        p for p in range(1, pages + 1) if "Figure 1. Training loss" in _page_text(pdf, p)
    )
    overview = _page_pixels(pdf, 1)
    chart = _page_pixels(pdf, chart_page)

    def ink(img: np.ndarray) -> float:
        return float((img.min(axis=2) < 200).mean())

    def coloured(img: np.ndarray) -> int:  # text and tables are grey; the curves are not
        return int(((img.max(axis=2) - img.min(axis=2)) > 60).sum())

    assert ink(overview) > 0.01, "page 1 rendered blank"
    assert ink(chart) > 0.02, "the learning-curve page is nearly blank"
    assert coloured(chart) > 300, f"only {coloured(chart)} coloured pixels: no curves drawn?"
    assert coloured(overview) < 50, "page 1 has no chart, yet it is coloured"
