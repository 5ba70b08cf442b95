"""`gsmreport render --all --pdf` of many runs, as a ratio to WeasyPrint alone (same run).

Generates N runs (default 100) in a temporary runs folder, each with a metrics.jsonl of S
training log events (default 2,000: loss, learning_rate, grad_norm, mean_token_accuracy,
num_tokens; eval entries every 100 steps; the final summary), one evaluation folder and a
run.yaml (the writers of tests/run_fixtures.py), then times:

  measured   gsmreport render --all --pdf --html --jobs J  (a child process; Markdown, HTML,
             PDF and the charts of every run, metrics ingested on the way)
  baseline   WeasyPrint alone writing a PDF from each report.html that `measured` wrote,
             base_url = the report folder, on J spawned worker processes the same way

Target (issue): measured / baseline <= 1.5x. Also prints the charts (SVGs) per report.
Usage: python benchmarks/render.py [--runs 100] [--steps 2000] [--jobs 2] [--keep DIR]
       [--profile]   (then profile one run's render in this process: where its time goes)
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def generate(runs_dir: Path, runs: int, steps: int) -> None:
    """runs/run-<i>/{run.yaml, metrics.jsonl, evals/e1/{results.json, samples.jsonl}}."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.run_fixtures import SUMMARY, eval_log, jsonl_line, write_eval, write_record

    rng = random.Random(0)
    for i in range(runs):
        run_dir = runs_dir / f"run-{i:04d}"
        run_dir.mkdir(parents=True)
        lines: list[str] = []
        loss = 2.5
        for step in range(1, steps + 1):
            loss = max(0.05, loss * 0.999 + rng.gauss(0, 0.02))
            log = {
                "loss": round(loss, 6),
                "grad_norm": round(abs(rng.gauss(1, 0.3)), 6),
                "learning_rate": 2e-4 * (1 - step / steps),
                "mean_token_accuracy": round(0.6 + 0.3 * step / steps, 6),
                "num_tokens": float(step * 4096),
                "epoch": round(step / steps * 3, 6),
            }
            lines.append(jsonl_line(step, log))
            if step % 100 == 0:
                acc = 0.6 + 0.3 * step / steps
                lines.append(jsonl_line(step, eval_log(step, round(loss + 0.1, 6), acc)))
        lines.append(jsonl_line(steps, {**SUMMARY, "epoch": 3.0}))
        (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_eval(run_dir)
        write_record(run_dir)


def measured(root: Path, jobs: int) -> float:
    """The CLI in a child process; every run must come back rendered."""
    env = {
        **os.environ,
        "GSMREPORT_RUNS_DIR": str(root / "runs"),
        "GSMREPORT_REPORTS_DIR": str(root / "reports"),
    }
    cmd = [sys.executable, "-m", "gsmreport", "render", "--all", "--pdf", "--html"]
    t0 = time.perf_counter()
    out = subprocess.run(
        [*cmd, "--jobs", str(jobs)], check=True, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    rendered = sum(line.startswith("rendered ") for line in out.stdout.splitlines())
    assert rendered == len(list((root / "runs").iterdir())), out.stdout + out.stderr
    return seconds


def _weasyprint_one(html_path: str, pdf_path: str) -> int:
    """Worker entry: WeasyPrint alone, the report folder as base_url (charts and CSS)."""
    from weasyprint import HTML

    folder = Path(html_path).parent
    document = HTML(filename=html_path, base_url=folder.as_uri() + "/")
    pdf = document.write_pdf()
    Path(pdf_path).write_bytes(pdf)
    return len(pdf)


def baseline(reports: list[Path], out_dir: Path, jobs: int) -> float:
    """Same final HTML, same worker count and start method (spawn), nothing but WeasyPrint."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(min(jobs, len(reports)), mp_context=get_context("spawn")) as pool:
        sizes = list(
            pool.map(
                _weasyprint_one,
                [str(r / "report.html") for r in reports],
                [str(out_dir / f"{r.name}.pdf") for r in reports],
            )
        )
    seconds = time.perf_counter() - t0
    assert all(size > 0 for size in sizes)
    return seconds


def profile_one(root: Path) -> None:
    """One run rendered again in this process under cProfile: seconds per stage (cumulative)."""
    from gsmreport.report.render import render_run_report
    from gsmreport.runs import read_record

    run_dir = sorted((root / "runs").iterdir())[0]
    scratch = root / "profile" / run_dir.name
    (run_dir / "metrics.parquet").unlink(missing_ok=True)  # ingest again, as the first render did
    record = read_record(run_dir / "run.yaml")
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    render_run_report(run_dir, record, scratch, pdf=True, html=True)
    profiler.disable()
    total = time.perf_counter() - t0
    stats: dict[tuple[str, int, str], Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    stages = {
        "ingest metrics (load_metrics)": ["load_metrics"],
        "training charts (spec + vl-convert)": ["training_charts"],
        "eval charts (spec + vl-convert)": ["eval_charts"],
        "  of which vl-convert calls": ["vl_convert", "vegalite_to"],
        "context (analysis, tables)": ["build_context"],
        "templates (Jinja md + html)": ["_render"],
        "  of which Jinja compile": ["compile"],
        "PDF (html_to_pdf, WeasyPrint)": ["html_to_pdf"],
    }
    print(f"profile   one run's render in-process               {total:8.2f} s")
    for label, names in stages.items():
        seconds = 0.0
        for (filename, _line, func), row in stats.items():
            where = f"{filename}:{func}"
            if label.startswith("  of which Jinja"):
                hit = func == "compile" and "jinja2" in filename and "environment" in filename
            elif label.startswith("  of which vl"):
                hit = any(n in where for n in names) and func.startswith("<built-in")
            else:
                hit = func in names and "gsmreport" in filename
            if hit:
                seconds += row[3]  # cumulative time
        print(f"  {label:<44} {seconds:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="generate here and keep the files")
    parser.add_argument("--profile", action="store_true", help="also profile one run's render")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gsmreport-bench-render-"))
    try:
        t0 = time.perf_counter()
        generate(root / "runs", args.runs, args.steps)
        print(
            f"generated {args.runs} runs x {args.steps} steps "
            f"(metrics.jsonl + 1 evaluation each) in {time.perf_counter() - t0:.1f} s"
        )
        t_ours = measured(root, args.jobs)
        reports = sorted(p for p in (root / "reports").iterdir() if p.is_dir())
        t_base = baseline(reports, root / "baseline", args.jobs)
        charts = Counter(len(list(r.glob("charts/*.svg"))) for r in reports)
        chart_text = ", ".join(f"{n} charts x {k} reports" for n, k in sorted(charts.items()))
        n = len(reports)
        print(f"runs      {n} reports, {args.steps} steps each, jobs={args.jobs}")
        print(
            f"measured  gsmreport render --all --pdf --html  {t_ours:8.2f} s"
            f"  {n / t_ours:6.2f} reports/s"
        )
        print(
            f"baseline  WeasyPrint alone, same report.html   {t_base:8.2f} s"
            f"  {n / t_base:6.2f} reports/s"
        )
        ratio = t_ours / t_base if t_base > 0 else math.inf
        print(f"ratio     measured / baseline  {ratio:6.2f}x   (target <= 1.5x)")
        print(f"charts    per report: {chart_text}")
        if args.profile:
            profile_one(root)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
