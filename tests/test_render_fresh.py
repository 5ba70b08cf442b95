"""`render --all` decides "up to date" from the report folder's manifest (freshness.py), and a
render replaces the report folder in one step (staging.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gsmreport import pipeline
from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RunProblem
from gsmreport.core.settings import Dirs
from gsmreport.report import freshness
from gsmreport.report.batch import BatchResult, RenderOptions
from gsmreport.report.freshness import MANIFEST, FreshnessCheck, changed_while_rendering
from gsmreport.report.staging import staged_folder
from tests.run_fixtures import make_train_run

REPO = Path(__file__).resolve().parent.parent


def _statuses(results: list[BatchResult]) -> dict[str, str]:
    return {r.run_id: r.status for r in results}


def _bump(path: Path) -> None:
    """A later mtime, as an edit or a re-import would leave (coarse clocks need the margin)."""
    later = time.time() + 5
    os.utime(path, (later, later))


def test_unchanged_runs_are_skipped_and_a_touched_metrics_file_renders_again(
    tmp_path: Path, dirs: Dirs
) -> None:
    for rid in ("run-a", "run-b"):
        make_train_run(tmp_path, rid)
    first = pipeline.render_runs(dirs, None, RenderOptions())
    assert _statuses(first) == {"run-a": "rendered", "run-b": "rendered"}
    report_a = dirs.reports / "run-a" / "report.md"
    stamp = report_a.stat().st_mtime_ns

    again = pipeline.render_runs(dirs, None, RenderOptions())
    assert _statuses(again) == {"run-a": "up to date", "run-b": "up to date"}
    assert report_a.stat().st_mtime_ns == stamp  # not written again

    _bump(dirs.runs / "run-b" / "metrics.jsonl")
    third = pipeline.render_runs(dirs, None, RenderOptions())
    assert _statuses(third) == {"run-a": "up to date", "run-b": "rendered"}

    # A new evaluation folder is a new input, though no recorded file changed.
    new_eval = dirs.runs / "run-a" / "evals" / "e2"
    new_eval.mkdir()
    (new_eval / "eval.yaml").write_text("model: x\n")
    assert _statuses(pipeline.render_runs(dirs, None, RenderOptions()))["run-a"] == "rendered"

    forced = pipeline.render_runs(dirs, None, RenderOptions(), force=True)
    assert _statuses(forced) == {"run-a": "rendered", "run-b": "rendered"}


def test_a_template_change_renders_again(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "run-a")
    user = tmp_path / "templates"
    user.mkdir()
    (user / "report.md.j2").write_text("# {{ run.id }} custom\n")
    options = RenderOptions(templates=user)
    assert _statuses(pipeline.render_runs(dirs, None, options)) == {"run-a": "rendered"}
    assert _statuses(pipeline.render_runs(dirs, None, options)) == {"run-a": "up to date"}
    # Without the user folder the report came from other templates: not up to date.
    assert _statuses(pipeline.render_runs(dirs, None, RenderOptions())) == {"run-a": "rendered"}
    assert _statuses(pipeline.render_runs(dirs, None, options)) == {"run-a": "rendered"}

    (user / "report.md.j2").write_text("# {{ run.id }} edited\n")
    _bump(user / "report.md.j2")
    assert _statuses(pipeline.render_runs(dirs, None, options)) == {"run-a": "rendered"}
    assert "edited" in (dirs.reports / "run-a" / "report.md").read_text()


def test_builtin_templates_and_the_version_are_inputs(
    tmp_path: Path, dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked on the manifest directly: our own template folder is not ours to edit here."""
    run_dir, _ = make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions())
    out = dirs.reports / "run-a"
    outputs = RenderOptions().outputs()
    assert FreshnessCheck.for_templates(None).up_to_date(run_dir, out, outputs)

    copy = tmp_path / "builtin-copy"
    copy.mkdir()
    for f in freshness.BUILTIN_TEMPLATES.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
        os.utime(copy / f.name, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns))
    monkeypatch.setattr(freshness, "BUILTIN_TEMPLATES", copy)
    assert FreshnessCheck.for_templates(None).up_to_date(run_dir, out, outputs)
    _bump(copy / "report.css")
    assert not FreshnessCheck.for_templates(None).up_to_date(run_dir, out, outputs)

    monkeypatch.undo()
    monkeypatch.setattr(freshness, "__version__", "999.0")
    assert not FreshnessCheck.for_templates(None).up_to_date(run_dir, out, outputs)


def test_a_missing_or_unrequested_output_is_not_up_to_date(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions())
    # report.html was not written by that render: asking for it renders again.
    (dirs.reports / "run-a" / "report.html").write_text("<p>someone else's</p>")
    html = RenderOptions(html=True)
    assert _statuses(pipeline.render_runs(dirs, None, html)) == {"run-a": "rendered"}
    assert _statuses(pipeline.render_runs(dirs, None, html)) == {"run-a": "up to date"}
    (dirs.reports / "run-a" / "report.html").unlink()
    assert _statuses(pipeline.render_runs(dirs, None, html)) == {"run-a": "rendered"}
    (dirs.reports / "run-a" / MANIFEST).write_text("{damaged")
    assert _statuses(pipeline.render_runs(dirs, None, html)) == {"run-a": "rendered"}


def test_a_running_run_is_never_up_to_date(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, _ = make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions())
    manifest = dirs.reports / "run-a" / MANIFEST
    data = json.loads(manifest.read_text())
    assert data["status"] == "completed" and data["outputs"] == ["analysis.json", "report.md"]
    manifest.write_text(json.dumps(data | {"status": "running"}))
    outputs = RenderOptions().outputs()
    assert not FreshnessCheck.for_templates(None).up_to_date(run_dir, manifest.parent, outputs)


def test_an_input_changed_while_rendering_leaves_no_manifest() -> None:
    before = {"run.yaml": [10, 1], "metrics.jsonl": [50, 1], "metrics.parquet": [7, 1]}
    # The render's own ingest rewrote metrics.parquet: fine.
    assert not changed_while_rendering(before, before | {"metrics.parquet": [9, 2]})
    assert changed_while_rendering(before, before | {"metrics.jsonl": [80, 2]})
    assert changed_while_rendering(before, before | {"evals/e2/results.json": [1, 1]})


def test_bad_run_folders_go_to_on_problem_and_are_left_out(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "good")
    bad = dirs.runs / "bad"
    bad.mkdir()
    (bad / "run.yaml").write_text("id: [unclosed\n")
    problems: list[RunProblem] = []
    results = pipeline.render_runs(dirs, None, RenderOptions(), on_problem=problems.append)
    assert _statuses(results) == {"good": "rendered"}
    assert [p.folder.name for p in problems] == ["bad"]
    assert "unreadable run.yaml" in str(problems[0])


def test_up_to_date_check_imports_nothing_heavy(tmp_path: Path, dirs: Dirs) -> None:
    """`render --all` with nothing changed reads manifests only: no polars, Altair, vl-convert,
    WeasyPrint or scipy is imported (that is what keeps 1,000 runs under 2 s)."""
    make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions())
    code = (
        "import sys\n"
        "from gsmreport.cli.app import app\n"
        "try:\n"
        "    app(['render', '--all'], standalone_mode=False)\n"
        "finally:\n"
        "    heavy = ('polars', 'altair', 'vl_convert', 'weasyprint', 'scipy', 'jinja2')\n"
        "    print('HEAVY', sorted(m for m in heavy if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "up to date run-a" in proc.stdout
    assert "HEAVY []" in proc.stdout, proc.stdout


def test_a_failed_render_leaves_the_previous_report_whole(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions())
    out = dirs.reports / "run-a"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = tmp_path / "templates"
    broken.mkdir()
    # Charts are written before the templates render: they must not land in the old folder.
    (broken / "report.md.j2").write_text("{{ run.id | no_such_filter }}\n")
    (dirs.reports / "run-a" / "charts" / "loss.png").unlink()
    with pytest.raises(GsmReportError, match="no_such_filter"):
        pipeline.render(dirs, "run-a", templates=broken)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == {k: v for k, v in before.items() if k != Path("charts/loss.png")}
    assert not [p for p in dirs.reports.iterdir() if p.name.startswith(".")]  # no temp folder


def test_a_render_keeps_other_files_and_drops_stale_charts(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "run-a")
    pipeline.render_runs(dirs, None, RenderOptions(html=True))
    out = dirs.reports / "run-a"
    (out / "notes.txt").write_text("mine")
    (out / "charts" / "old_chart.png").write_bytes(b"stale")
    paths = pipeline.render(dirs, "run-a")  # Markdown only this time
    assert paths.md == out / "report.md" and all(p.parent == out / "charts" for p in paths.charts)
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.html").is_file()  # the earlier HTML is kept, as before
    assert not (out / "charts" / "old_chart.png").exists()  # charts/ is this render's
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    # ... but that HTML is not this render's, so asking for HTML renders again.
    html = RenderOptions(html=True)
    assert _statuses(pipeline.render_runs(dirs, None, html)) == {"run-a": "rendered"}


def test_staged_folder_on_error_and_on_success(tmp_path: Path) -> None:
    final = tmp_path / "report"
    with pytest.raises(RuntimeError), staged_folder(final) as work:
        (work / "a.txt").write_text("half")
        raise RuntimeError("boom")
    assert not final.exists() and list(tmp_path.iterdir()) == []
    with staged_folder(final) as work:
        (work / "a.txt").write_text("whole")
    assert (final / "a.txt").read_text() == "whole" and len(list(tmp_path.iterdir())) == 1


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
