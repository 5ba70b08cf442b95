"""`gsmreport render --all --pdf` of many runs, as a ratio to WeasyPrint alone (same run).

Generates N runs (default 100) in a temporary runs folder, each with a metrics.jsonl of S
training log events (default 2,000: loss, learning_rate, grad_norm, mean_token_accuracy,
num_tokens; eval entries every 100 steps; the final summary), one evaluation folder and a
run.yaml (the writers of tests/run_fixtures.py), then times:

  measured   gsmreport render --all --pdf --html --jobs J  (a child process; Markdown, HTML,
             PDF and the charts of every run, metrics ingested on the way)
  baseline   WeasyPrint alone writing a PDF from each report.html that `measured` wrote,
             base_url = the report folder, on J spawned worker processes the same way

Target (issue 17): measured / baseline <= 1.25x (1.48x measured before). Also prints the
charts (SVGs) per report. Note: gsmreport's PDF step subsets fonts faster than stock
WeasyPrint (report/pdf_fonts.py), so part of the gain is on the PDF side; --profile shows
the stages.
With --repeat K the two are run alternately K times and the fastest of each is compared: on
a shared machine, other processes' load then falls on both sides alike. The CPU seconds of
each side (user + system, every process) are printed too: on a machine shared with other
jobs, wall time measures the queue for a core as much as the work.
Usage: python benchmarks/render.py [--runs 100] [--steps 2000] [--jobs 2] [--repeat 1]
       [--keep DIR] [--profile]   (then profile a warm render in this process, by stage)
The default (100 runs x 2,000 steps, 2 jobs, 1 repeat) took 8 minutes on the 2-core dev
machine while other jobs shared it (264 s measured + 216 s baseline); fewer runs weigh the
per-worker start (imports, the Vega runtime) more, so the ratio at --runs 20 is higher.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import random
import resource
import shutil
import statistics
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


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process of this one, and theirs:
    on a shared machine this is what each side cost, however long it waited for a core."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {"measured": [], "baseline": []}


def measured(root: Path, jobs: int) -> float:
    """The CLI in a child process (`--force`: a repeat renders everything again); every run
    must come back rendered. metrics.parquet is removed first, so each repeat ingests too."""
    for parquet in (root / "runs").glob("*/metrics.parquet"):
        parquet.unlink()
    env = {
        **os.environ,
        "GSMREPORT_RUNS_DIR": str(root / "runs"),
        "GSMREPORT_REPORTS_DIR": str(root / "reports"),
    }
    cmd = [sys.executable, "-m", "gsmreport", "render", "--all", "--force", "--pdf", "--html"]
    t0, cpu0 = time.perf_counter(), children_cpu()
    out = subprocess.run(
        [*cmd, "--jobs", str(jobs)], check=True, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    CPU["measured"].append(children_cpu() - cpu0)  # the CLI and its workers (it waits for them)
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
    t0, cpu0 = time.perf_counter(), children_cpu()
    with ProcessPoolExecutor(min(jobs, len(reports)), mp_context=get_context("spawn")) as pool:
        sizes = list(
            pool.map(
                _weasyprint_one,
                [str(r / "report.html") for r in reports],
                [str(out_dir / f"{r.name}.pdf") for r in reports],
            )
        )
    seconds = time.perf_counter() - t0
    CPU["baseline"].append(children_cpu() - cpu0)  # the workers, joined when the pool closed
    assert all(size > 0 for size in sizes)
    return seconds


def profile_one(root: Path) -> None:
    """Two runs rendered again in this process; the second (warm: templates compiled, Vega
    runtime started, as in a batch worker) under cProfile, in seconds per stage (cumulative)."""
    from gsmreport.core.runs import read_record
    from gsmreport.report.render import render_run_report

    first, second = sorted((root / "runs").iterdir())[:2]
    for run_dir in (first, second):
        (run_dir / "metrics.parquet").unlink(missing_ok=True)  # ingest again, as a first render
    profiler = cProfile.Profile()
    render_run_report(
        first, read_record(first / "run.yaml"), root / "profile" / first.name, html=True
    )
    record = read_record(second / "run.yaml")
    t0 = time.perf_counter()
    profiler.enable()
    render_run_report(second, record, root / "profile" / second.name, pdf=True, html=True)
    profiler.disable()
    total = time.perf_counter() - t0
    stats: dict[tuple[str, int, str], Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    stages = {
        "ingest metrics (load_metrics)": ("gsmreport", ("load_metrics",)),
        "training charts (spec + vl-convert)": ("gsmreport", ("training_charts",)),
        "eval charts (spec + vl-convert)": ("gsmreport", ("eval_charts",)),
        "  of which Vega-Lite -> SVG": ("", ("vegalite_to_svg",)),
        "  of which SVG -> PNG": ("", ("svg_to_png",)),
        "evaluation sections (samples.jsonl)": ("gsmreport", ("eval_sections",)),
        "context (analysis, tables)": ("gsmreport", ("build_context",)),
        "templates (Jinja md + html)": ("gsmreport", ("render_template",)),
        "PDF (html_to_pdf, WeasyPrint)": ("gsmreport", ("html_to_pdf",)),
    }
    print(f"profile   one warm render in-process                {total:8.2f} s")
    for label, (where, names) in stages.items():
        seconds = sum(
            row[3]  # cumulative time
            for (filename, _line, func), row in stats.items()
            if where in filename and any(n in func for n in names)
        )
        print(f"  {label:<44} {seconds:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="alternate both K times, best of")
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
        ours, base = [], []
        for _ in range(max(1, args.repeat)):
            ours.append(measured(root, args.jobs))
            reports = sorted(p for p in (root / "reports").iterdir() if p.is_dir())
            base.append(baseline(reports, root / "baseline", args.jobs))
        t_ours, t_base = min(ours), min(base)
        if len(ours) > 1:
            pairs = sorted(o / b for o, b in zip(ours, base, strict=True))
            print("repeats   measured " + " ".join(f"{t:.1f}" for t in ours) + " s")
            print("          baseline " + " ".join(f"{t:.1f}" for t in base) + " s")
            # Each measured run is paired with the baseline run right after it (similar load).
            print(
                "          ratio per pair "
                + " ".join(f"{r:.2f}" for r in pairs)
                + f"   median {statistics.median(pairs):.2f}x"
            )
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
        print(f"ratio     measured / baseline  {ratio:6.2f}x   (target <= 1.25x)")
        c_ours, c_base = min(CPU["measured"]), min(CPU["baseline"])
        print(
            f"CPU       measured {c_ours:8.2f} s, baseline {c_base:8.2f} s, ratio "
            f"{c_ours / c_base:6.2f}x   (user + system of every process of each side)"
        )
        print(f"charts    per report: {chart_text}")
        if args.profile:
            profile_one(root)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
