"""Report rendering: numbers traceable to the parquet, safe HTML/PDF, no network, no stray files."""

from __future__ import annotations

import logging
import math
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from weasyprint import HTML

from gsmreport.core.errors import GsmReportError
from gsmreport.core.fmt import md_block, num, pct
from gsmreport.core.redact import REDACTED, is_secret_key
from gsmreport.core.runs import RunRecord
from gsmreport.report.context import hyperparameters
from gsmreport.report.freshness import MANIFEST
from gsmreport.report.render import ReportPaths, ReportURLFetcher, render_run_report
from tests.run_fixtures import jsonl_line, make_train_run, write_eval, write_record


@pytest.fixture
def train_run(tmp_path: Path) -> tuple[Path, RunRecord]:
    return make_train_run(tmp_path)


def _render(run: tuple[Path, RunRecord], tmp_path: Path, **kw: object) -> ReportPaths:
    run_dir, record = run
    return render_run_report(run_dir, record, tmp_path / "reports" / record.id, **kw)  # type: ignore[arg-type]


def test_markdown_numbers_equal_the_parquet(
    train_run: tuple[Path, RunRecord], tmp_path: Path
) -> None:
    paths = _render(train_run, tmp_path)
    md = paths.md.read_text()
    frame = pl.read_parquet(train_run[0] / "metrics.parquet")
    loss = frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss")).sort("step")
    first, final = loss.row(0, named=True), loss.row(-1, named=True)
    low = loss.sort("value").row(0, named=True)
    drop = (first["value"] - final["value"]) / first["value"] * 100
    assert f"| train loss | {num(first['value'])} (step {first['step']}) " in md
    assert f"{num(final['value'])} (step {final['step']})" in md
    assert f"{num(low['value'])} (step {low['step']})" in md
    finding = f"Training loss fell {num(drop, 1)} % ({num(first['value'])} at step {first['step']}"
    assert finding in md
    assert "| strict-match | 33.3 % | 2 / 6 |" in md
    assert "![Figure 1: Learning curve](charts/loss.png)" in md
    assert paths.html is None and paths.pdf is None


def test_charts_written_as_png_and_svg(train_run: tuple[Path, RunRecord], tmp_path: Path) -> None:
    paths = _render(train_run, tmp_path)
    names = {p.name for p in paths.charts}
    four = ("loss", "learning_rate", "token_accuracy", "accuracy_by_steps")
    assert names == {f"{n}.{ext}" for n in four for ext in ("png", "svg")}
    out = paths.md.parent
    assert (out / "charts" / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "charts" / "loss.svg").read_text().lstrip().startswith("<svg")
    # no temp files left; the one dot file is the render's manifest (report/freshness.py)
    assert [p.name for p in out.rglob("*") if p.name.startswith(".")] == [MANIFEST]


def test_html_is_escaped_inlines_svg_and_redacts_secrets(
    train_run: tuple[Path, RunRecord], tmp_path: Path
) -> None:
    paths = _render(train_run, tmp_path, html=True)
    assert paths.html is not None
    html = paths.html.read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<svg" in html and "charts/loss.png" not in html
    for path in (paths.md, paths.html):
        text = path.read_text()
        assert "hf_SECRET123" not in text and REDACTED in text


def test_pdf_has_the_learning_curve(train_run: tuple[Path, RunRecord], tmp_path: Path) -> None:
    paths = _render(train_run, tmp_path, pdf=True)
    assert paths.pdf is not None and paths.html is not None
    assert paths.pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(paths.pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Learning curve" in text
    out = paths.pdf.parent
    document = HTML(
        string=paths.html.read_text(),
        base_url=out.as_uri() + "/",
        url_fetcher=ReportURLFetcher(out),
    ).render()
    headings = [label for label, *_ in document.make_bookmark_tree()[0][2]]
    assert "Learning curve and further-training potential" in headings
    assert len(document.pages) >= 2


def test_fetcher_serves_only_the_report_folder(tmp_path: Path) -> None:
    root = tmp_path / "report"
    (root / "charts").mkdir(parents=True)
    (root / "charts" / "a.png").write_bytes(b"\x89PNG")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "outside.txt")
    fetcher = ReportURLFetcher(root)
    assert fetcher.fetch((root / "charts" / "a.png").as_uri()).read() == b"\x89PNG"
    for url in (
        "file:///etc/passwd",
        "http://example.com/",
        "https://example.com/x.css",
        (tmp_path / "outside.txt").as_uri(),
        (root / "link.txt").as_uri(),
        (root / ".." / "outside.txt").as_uri(),
    ):
        with pytest.raises(PermissionError):
            fetcher.fetch(url)


def test_user_template_cannot_pull_files_or_network(
    train_run: tuple[Path, RunRecord], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "report.html.j2").write_text(
        '<html><body><h1>Learning curve</h1><img src="file:///etc/passwd">'
        '<img src="http://example.com/x.png"><link rel="stylesheet" href="/etc/passwd">'
        "<p>{{ run.id }}</p></body></html>"
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        paths = _render(train_run, tmp_path, pdf=True, templates=user)
    assert paths.pdf is not None and paths.pdf.read_bytes().startswith(b"%PDF")
    refused = [r.getMessage() for r in caplog.records if "may not fetch" in r.getMessage()]
    assert any("etc/passwd" in m for m in refused) and any("example.com" in m for m in refused)
    assert "# Run report" in paths.md.read_text()  # report.md.j2 falls back to the built-in


def test_user_template_is_sandboxed(train_run: tuple[Path, RunRecord], tmp_path: Path) -> None:
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "report.md.j2").write_text("{{ run.__class__.__mro__[-1].__subclasses__() }}")
    with pytest.raises(GsmReportError, match=r"report\.md\.j2"):
        _render(train_run, tmp_path, templates=user)


def test_eval_only_run_says_not_measured(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "base-model"
    write_eval(run_dir)
    record = write_record(run_dir, kind="eval", config={})
    paths = render_run_report(run_dir, record, tmp_path / "out", html=True)
    md = paths.md.read_text()
    curve = md.split("## Learning curve", 1)[1].split("##", 1)[0]
    assert "not measured" in curve
    assert "| strict-match | 33.3 % |" in md
    # No training curves; the accuracy-by-step-count chart comes from the evaluation alone.
    assert {p.name for p in paths.charts} == {"accuracy_by_steps.png", "accuracy_by_steps.svg"}
    for section in ("Key training metrics", "Token accuracy"):
        body = md.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert body.strip().startswith("not measured"), body
    assert pl.read_parquet(run_dir / "metrics.parquet").height == 0


def test_stale_parquet_is_rebuilt(train_run: tuple[Path, RunRecord], tmp_path: Path) -> None:
    run_dir, _ = train_run
    _render(train_run, tmp_path)
    jsonl = run_dir / "metrics.jsonl"
    with jsonl.open("a") as fh:
        fh.write(jsonl_line(70, {"loss": 0.8125}) + "\n")
    later = (run_dir / "metrics.parquet").stat().st_mtime + 5
    os.utime(jsonl, (later, later))
    md = _render(train_run, tmp_path).md.read_text()
    assert "0.8125 (step 70)" in md


def test_secret_keys_and_formatting() -> None:
    assert is_secret_key("hf_token") and is_secret_key("wandb.api_key")
    assert not is_secret_key("max_new_tokens") and not is_secret_key("tokenizer")
    assert not is_secret_key("bos_token_id") and not is_secret_key("model.pad_token_id")
    assert is_secret_key("hub_token") and is_secret_key("auth.token.value")
    rows = dict(hyperparameters({"auth": {"password": "p"}, "lora": {"target_modules": ["q"]}}))
    assert rows == {"auth.password": REDACTED, "lora.target_modules": "q"}
    assert num(None) == "not measured" and num(math.nan) == "NaN" and num(math.inf) == "∞"
    assert pct(0.125) == "12.5 %"
    assert md_block("a ``` b").startswith("````text\n")
