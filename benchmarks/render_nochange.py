"""`gsmreport render --all` when nothing changed, over many runs (default 1,000).

Target (issue 17): under 2 s for 1,000 runs: it should only check inputs. Every run's report
is up to date, so the command reads one small manifest per run and stats the run's inputs
(report/freshness.py), with no run.yaml parsed and no polars, Altair or WeasyPrint imported.

Setup: N runs (benchmarks/render.py's generator, a short metrics.jsonl each). --rendered K
of them (default 10) are rendered for real with `gsmreport render --all`; each other run gets
a copy of one of those report folders and its own manifest, written by the same
freshness.write_manifest the render calls, from that run's own files. The check reads only
the manifest and stats files, so it costs the same either way; --rendered N renders all
(about 1 s of CPU per run).

Times, each in a child process, best of --repeat (default 3):
  measured   gsmreport render --all            (all N up to date; checked from the output)
  baseline   python -c "import gsmreport.cli.app"   (the CLI's own start-up, no command)
Prints both (wall and CPU), the difference per run, and the target.
Usage: python benchmarks/render_nochange.py [--runs 1000] [--rendered 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def prepare(root: Path, runs: int, rendered: int, env: dict[str, str]) -> None:
    from render import generate

    from gsmreport.core.runs import read_record
    from gsmreport.report.freshness import MANIFEST, input_stamps, write_manifest

    generate(root / "runs", runs, 20)
    ids = sorted(p.name for p in (root / "runs").iterdir())
    real, cloned = ids[:rendered], ids[rendered:]
    # Only the first K runs are rendered: move the rest aside for that render.
    aside = root / "aside"
    aside.mkdir()
    for rid in cloned:
        os.rename(root / "runs" / rid, aside / rid)
    cmd = [sys.executable, "-m", "gsmreport", "render", "--all", "--jobs", "2"]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    for i, rid in enumerate(cloned):
        os.rename(aside / rid, root / "runs" / rid)
        run_dir, out = root / "runs" / rid, root / "reports" / rid
        shutil.copytree(root / "reports" / real[i % len(real)], out)
        (out / MANIFEST).unlink()
        status = read_record(run_dir / "run.yaml").status
        written = ["analysis.json", "report.md"]
        assert write_manifest(out, run_dir, input_stamps(run_dir), written, None, status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rendered", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gsmreport-bench-nochange-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GSMREPORT_RUNS_DIR": str(root / "runs"),
        "GSMREPORT_REPORTS_DIR": str(root / "reports"),
    }
    try:
        t0 = time.perf_counter()
        prepare(root, args.runs, max(1, min(args.rendered, args.runs)), env)
        print(
            f"prepared  {args.runs} runs, {min(args.rendered, args.runs)} rendered for real, "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        measured = [sys.executable, "-m", "gsmreport", "render", "--all"]
        baseline = [sys.executable, "-c", "import gsmreport.cli.app"]
        ours, base = [], []
        for _ in range(max(1, args.repeat)):
            wall, cpu, out = timed(measured, env)
            assert out.splitlines()[-1] == f"{args.runs} up to date", out[-300:]
            ours.append((wall, cpu))
            wall, cpu, _ = timed(baseline, env)
            base.append((wall, cpu))
        (m_wall, m_cpu), (b_wall, b_cpu) = min(ours), min(base)
        print(
            f"measured  gsmreport render --all, {args.runs} up to date  {m_wall:6.2f} s wall"
            f"  {m_cpu:6.2f} s CPU   (target < 2 s)"
        )
        print(
            f"baseline  python -c 'import gsmreport.cli.app'      {b_wall:6.2f} s wall"
            f"  {b_cpu:6.2f} s CPU"
        )
        per_run = (m_wall - b_wall) / args.runs * 1000
        print(f"ratio     {m_wall / b_wall:5.2f}x the start-up; {per_run:.2f} ms per run checked")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
