"""Bad inputs a real lab meets (issue 16): each gives one `error:` line naming what is wrong,
and never costs the good inputs beside it."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from textual.widgets import Static

from gsmreport.analysis.evaluation import read_sample_dicts
from gsmreport.core.settings import Dirs
from gsmreport.ingest.importer import import_paths
from gsmreport.tui.app import make_app
from tests.run_fixtures import jsonl_line, make_train_run, train_log, write_record
from tests.test_cli import _one_error_line, gsm
from tests.test_tui import row_ids
from tests.tui_support import async_test

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _state(path: Path, *, loss: str = "1.5") -> Path:
    """A trainer_state.json whose first loss is written verbatim (so it can be any JSON number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '{"log_history": [{"step": 1, "epoch": 0.5, "loss": ' + loss + "}, "
        '{"step": 2, "epoch": 1.0, "loss": 0.5}], "global_step": 2, "max_steps": 2}'
    )
    return path


def _as_plain_user() -> None:
    """Runs in the child before exec: without the DAC capabilities, root meets mode 000 the
    way any other user does (tests run as root in containers, where chmod alone proves
    nothing)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _gsm_as_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gsmreport", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_plain_user,
    )


def test_integer_too_large_for_a_float_is_an_infinity(tmp_path: Path, dirs: Dirs) -> None:
    """Item 1: `"loss": 1` + 400 zeros imported as +inf, and the other source imported too."""
    huge = _state(tmp_path / "huge" / "trainer_state.json", loss="1" + "0" * 400)
    plain = _state(tmp_path / "plain" / "trainer_state.json")
    outcomes = import_paths(dirs.runs, [huge.parent, plain.parent])
    assert [o.error for o in outcomes] == [None, None]
    frame = pl.read_parquet(dirs.runs / "huge" / "metrics.parquet").sort("step")
    assert frame["value"].to_list() == [float("inf"), 0.5]


def test_unreadable_folder_is_one_error_and_its_neighbours_import(
    tmp_path: Path, dirs: Dirs
) -> None:
    """Item 2: a mode-000 folder is named in one line; with -r the readable one is imported."""
    logs = tmp_path / "logs"
    _state(logs / "ok" / "trainer_state.json")
    _state(logs / "locked" / "trainer_state.json")
    (logs / "locked").chmod(0)
    try:
        alone = _gsm_as_user("ingest", str(logs / "locked"), cwd=tmp_path)
        recursive = _gsm_as_user("ingest", "-r", str(logs), cwd=tmp_path)
    finally:
        (logs / "locked").chmod(0o755)
    assert alone.returncode == 1, alone.stderr
    assert alone.stderr.strip() == f"error: {logs / 'locked'}: permission denied " + (
        "(check the folder's permissions)"
    )
    assert "Traceback" not in recursive.stderr, recursive.stderr
    assert recursive.returncode == 1
    assert "imported ok <- " in recursive.stdout
    assert f"{logs / 'locked'}: permission denied" in recursive.stderr
    assert sorted(p.name for p in dirs.runs.iterdir()) == ["ok"]


def _two_evaluated_runs(tmp_path: Path) -> Path:
    for run_id in ("a", "b"):
        make_train_run(tmp_path, run_id)
    return tmp_path / "runs" / "b" / "evals" / "e1" / "samples.jsonl"


def test_compare_with_a_non_utf8_samples_file_is_one_line(tmp_path: Path, dirs: Dirs) -> None:
    """Item 3: `render --compare` names the file, as rendering the run alone does."""
    samples = _two_evaluated_runs(tmp_path)
    samples.write_bytes(samples.read_bytes() + b"\xff\xfe not utf-8\n")
    proc = gsm("render", "--compare", "a", "b", cwd=tmp_path)
    assert proc.returncode != 0
    assert _one_error_line(proc).startswith(f"error: {samples}: samples file is not UTF-8 text")


def test_garbage_lines_in_samples_are_counted_and_named(tmp_path: Path) -> None:
    """Item 10: a garbage line in the middle is not lost quietly: the reader counts and
    names it (the report and `runs` read the count from here)."""
    samples = _two_evaluated_runs(tmp_path)
    lines = samples.read_text().splitlines()
    lines[2:2] = ["{not json", "[1, 2]"]
    samples.write_text("\n".join(lines) + "\n\n")  # a trailing blank line is not a lost row
    rows = read_sample_dicts(samples)
    assert len(rows) == len(lines) - 2
    assert rows.skipped_lines == (3, 4)
    assert rows.warning("s.jsonl") == "s.jsonl: 2 line(s) not a JSON object, skipped (line 3, 4)"
    # ... and every surface says so and counts the same rows: the report's data warnings,
    # `show --json`, and the headline `runs` prints (one analysis, one n).
    proc = gsm("render", "b", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    said = "evals/e1/samples.jsonl: 2 line(s) not a JSON object, skipped (line 3, 4)"
    assert said in (tmp_path / "reports" / "b" / "report.md").read_text()
    shown = json.loads(gsm("show", "b", "--json", cwd=tmp_path).stdout)
    assert said in shown["evaluations"][0]["warnings"]
    listed = json.loads(gsm("runs", "--format", "json", cwd=tmp_path).stdout)
    (row,) = [r for r in listed if r["id"] == "b"]
    assert row["n_eval"] == shown["headline"]["n_eval"] == len(rows)


def test_corrupt_parquet_without_a_source_is_kept_and_named(tmp_path: Path, dirs: Dirs) -> None:
    """Item 10: an imported run whose metrics.parquet is corrupt and whose source is gone is
    not rebuilt into an empty table and a "0 metric rows" report."""
    source = _state(tmp_path / "gone" / "trainer_state.json")
    assert import_paths(dirs.runs, [source.parent])[0].ok
    source.unlink()
    parquet = dirs.runs / "gone" / "metrics.parquet"
    parquet.write_bytes(b"PAR1 not really")
    proc = gsm("render", "gone", cwd=tmp_path)
    assert proc.returncode == 1
    assert f"error: {parquet}: unreadable (" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert parquet.read_bytes() == b"PAR1 not really"


def test_rebuild_never_replaces_data_with_less(tmp_path: Path, dirs: Dirs) -> None:
    """Item 10: `ingest RUN_ID` on an imported run (no log in its folder) keeps its table."""
    source = _state(tmp_path / "logs" / "imp" / "trainer_state.json")
    assert import_paths(dirs.runs, [source.parent])[0].ok
    parquet = dirs.runs / "imp" / "metrics.parquet"
    proc = gsm("ingest", "imp", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kept (2 rows): the logs beside it give only 0" in proc.stderr
    assert pl.read_parquet(parquet).height == 2


def _bad_neighbours(tmp_path: Path) -> Path:
    """Two good runs, a copy of one (`cp -a`), and one whose run.yaml says `id: ../../x`."""
    runs = tmp_path / "runs"
    for run_id in ("a", "b", "bad"):
        make_train_run(tmp_path, run_id)
    shutil.copytree(runs / "a", runs / "a-copy")
    yaml_path = runs / "bad" / "run.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("id: bad\n", "id: ../../x\n"))
    return runs


def test_runs_and_render_all_keep_the_good_runs_and_name_the_bad(
    tmp_path: Path, dirs: Dirs
) -> None:
    """Items 4, 5: a copied run is not listed twice, an invalid id does not end the listing;
    both folders are named, and `render --all` renders the good runs."""
    runs = _bad_neighbours(tmp_path)
    listed = gsm("runs", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = [line.split()[0] for line in listed.stdout.splitlines()[2:]]
    assert sorted(ids) == ["a", "b"]
    warnings = listed.stderr.strip().splitlines()
    assert warnings == [
        f"warning: {runs / 'a-copy' / 'run.yaml'}: `id: a` names another run than its folder "
        "'a-copy' (a copied or renamed run? set `id: a-copy`) (folder skipped)",
        f"warning: {runs / 'bad' / 'run.yaml'}: `id: ../../x` is not a valid run id "
        "(the folder name, 'bad', is) (folder skipped)",
    ]
    rendered = gsm("render", "--all", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.strip().splitlines()[-1] == "2 rendered"
    assert sorted(p.name for p in dirs.reports.iterdir()) == ["a", "b"]
    assert rendered.stderr.strip().splitlines() == warnings


@async_test
async def test_tui_lists_the_good_runs_beside_bad_neighbours(tmp_path: Path) -> None:
    """Items 4, 5: the TUI opens (no DuplicateKey, no KeyError) and names the bad folders."""
    dirs = Dirs(runs=_bad_neighbours(tmp_path), reports=tmp_path / "reports")
    app = make_app(dirs)
    async with app.run_test(size=(160, 36)):
        assert sorted(row_ids(app)) == ["a", "b"]
        info = str(app.screen.query_one("#runs-info", Static).content)
        assert "2 folder(s) skipped: a-copy, bad" in info


def test_eval_with_missing_data_writes_no_run(tmp_path: Path, dirs: Dirs) -> None:
    """Item 6: exit 2 means nothing written; the same --run-id works on the next try."""
    (tmp_path / "model").mkdir()
    args = ("eval", "--model", "model", "--data", str(tmp_path / "missing"), "--run-id", "x")
    first = gsm(*args, cwd=tmp_path)
    assert first.returncode == 2
    assert _one_error_line(first).startswith("error: data folder not found:")
    assert not (dirs.runs / "x").exists()
    again = gsm(*args, cwd=tmp_path)
    assert "already exists" not in again.stderr


PAYLOAD = "<script>alert(1)</script> | <img src=x onerror=alert(2)> &amp;"


def _outside_fences(text: str) -> str:
    """The Markdown outside fenced code blocks (md_block fences problems and responses,
    whose content is shown verbatim and cannot be live HTML)."""
    kept, fence = [], ""
    for line in text.splitlines():
        if fence:
            fence = "" if line == fence else fence
        elif line.startswith("```"):
            fence = line.removesuffix("text")
        else:
            kept.append(line)
    return "\n".join(kept)


def test_untrusted_text_is_inert_in_markdown_reports_and_cards(tmp_path: Path) -> None:
    """Item 11: model, data, warning, eval id and category strings planted with HTML, pipes,
    a leading `#` and line breaks render as text in report.md and the model card."""
    from gsmreport import pipeline

    run_dir, _ = make_train_run(tmp_path, "planted")
    write_record(
        run_dir,
        model=f"# model {PAYLOAD}",
        data=f"data\n# heading from data {PAYLOAD}",
        method=f"lora{PAYLOAD}",
        warnings=[f"first line\n# heading from a warning {PAYLOAD}", f"  #{PAYLOAD}"],
    )
    (run_dir / "evals" / "e1").rename(run_dir / "evals" / "e1<script>x")
    samples = next((run_dir / "evals").glob("*/samples.jsonl"))
    samples.write_text(samples.read_text().replace('"wrong answer"', '"wrong <b>x</b>\\n# c"'))
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    paths = pipeline.render(dirs, "planted", card=True)
    card = paths.md.parent / "README.md"
    for path in (paths.md, card):
        text = _outside_fences(path.read_text(encoding="utf-8"))
        assert "<script" not in text and "<img" not in text and "<b>" not in text, path
        headings = [line for line in text.splitlines() if line.lstrip().startswith("#")]
        assert all(
            line.startswith(("# Run report", "# planted", "## ", "### ", "#### "))
            for line in headings
        ), headings
        assert "heading from" not in "".join(h for h in headings)
    report = paths.md.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| &lt;img" in report
    assert "&amp;amp;" in report  # an entity in the input is shown as typed, not decoded


def test_a_running_run_whose_process_is_gone_reads_as_interrupted(tmp_path: Path) -> None:
    """Item 7 (fast half; tests/test_faults.py kills real trainings): `running` with a dead
    pid becomes interrupted, "process vanished", on disk too; a live pid, a pid on another
    host, and a pid reused by another process are told apart by host and start time."""
    from gsmreport.core.liveness import process_facts, vanished
    from gsmreport.core.runs import RunRecord, RunStore

    child = subprocess.Popen(["sleep", "30"])
    facts = process_facts(child.pid)
    assert vanished(facts) is None
    assert vanished({**facts, "host": "another-node"}) is None
    assert vanished({**facts, "pid_start": "1"}) == (
        f"process vanished (pid {child.pid} now belongs to another process)"
    )
    store = RunStore(tmp_path / "runs")
    store.create(RunRecord(id="r", kind="train", status="running", **facts))
    assert store.read("r").status == "running"
    child.kill()
    child.wait()
    record = store.read("r")
    assert (record.status, record.error) == (
        "interrupted",
        f"process vanished (pid {child.pid} is gone)",
    )
    assert store.read("r", check_alive=False).status == "interrupted"  # kept in run.yaml


def test_small_mistakes_are_one_line_naming_what_is_wrong(tmp_path: Path) -> None:
    """Item 12: an unknown option, a run.yaml schema error (the field), a duplicated YAML key
    and a non-UTF-8 config (the file) are each one `error:` line."""
    from gsmreport.core.config import read_yaml
    from gsmreport.core.errors import ConfigError, GsmReportError
    from gsmreport.core.runs import RunStore

    unknown = gsm("runs", "--bogus", cwd=tmp_path)
    assert unknown.returncode == 2
    assert _one_error_line(unknown).startswith("error: No such option: --bogus")

    run_dir, _ = make_train_run(tmp_path, "s")
    yaml_path = run_dir / "run.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("kind: train", "kind: banana"))
    with pytest.raises(GsmReportError, match=r"run.yaml \('kind': Input should be 'train'"):
        RunStore(tmp_path / "runs").read("s")

    dup = tmp_path / "dup.yaml"
    dup.write_text("model: a\ntraining:\n  seed: 1\n  seed: 2\n")
    with pytest.raises(ConfigError, match=r"dup.yaml:4: not valid YAML \(key 'seed' given twice\)"):
        read_yaml(dup)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"model: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin.yaml: file is not UTF-8 text \(bad byte at"):
        read_yaml(latin)


def test_json_with_a_bom_is_read_and_only_a_cut_file_is_called_truncated(
    tmp_path: Path,
) -> None:
    """Item 12: a UTF-8 byte-order mark is skipped; "may be truncated" only for a file that
    ends too early, not for one broken in the middle."""
    from gsmreport.ingest.files import SourceError, load_json

    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert load_json(bom) == {"a": 1}
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": [1,], "b": 2}')
    with pytest.raises(SourceError) as err:
        load_json(broken)
    assert "truncated" not in str(err.value)
    cut = tmp_path / "cut.json"
    cut.write_text('{"a": [1, 2')
    with pytest.raises(SourceError, match="may be truncated"):
        load_json(cut)


def test_too_few_examples_for_a_split_is_a_config_error() -> None:
    """Item 12: `data.max_samples=1` or `val_fraction=0.9999` was a bare StopIteration in the
    training job; now one example is always left to train on, or one line says why not."""
    from gsmreport.core.errors import ConfigError
    from gsmreport.datasets.sampling import train_val_split

    train, val = train_val_split(list(range(80)), 0.9999, seed=3)
    assert (len(train), len(val)) == (1, 79)
    with pytest.raises(ConfigError, match=r"1 example\(s\) cannot be split .* data.max_samples"):
        train_val_split([0], 0.1, seed=3)
    assert train_val_split([0], 0.0, seed=3) == ([0], [])


def test_losses_of_1e308_render_without_an_overflow(tmp_path: Path) -> None:
    """Item 12: two finite losses of 1e308 at the end of the curve overflowed fsum in the
    trend fit (render failed, leaving a partial charts/); the trend is now not measured."""
    from gsmreport import pipeline

    run_dir = tmp_path / "runs" / "big"
    run_dir.mkdir(parents=True)
    lines = [
        jsonl_line(step, train_log(step, 1e308 if step in (28, 29) else 2.0 - 0.01 * step, 0.5))
        for step in range(1, 31)
    ]
    (run_dir / "metrics.jsonl").write_text("".join(line.rstrip("\n") + "\n" for line in lines))
    write_record(run_dir)
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    report = pipeline.render(dirs, "big").md.read_text(encoding="utf-8")
    assert "### Still improving?" in report


def test_render_out_to_a_file_is_one_usage_line(tmp_path: Path, dirs: Dirs) -> None:
    """Item 12: `render --out FILE` said `error: NotADirectoryError…` after starting to write."""
    make_train_run(tmp_path, "a")
    target = tmp_path / "a-file"
    target.write_text("keep me")
    for out in (target, target / "sub"):
        proc = gsm("render", "a", "--out", str(out), cwd=tmp_path)
        assert proc.returncode == 2
        assert _one_error_line(proc) == f"error: --out {out}: {target} is a file, not a folder"
    assert target.read_text() == "keep me"


def test_demo_data_carries_a_socratic_variant(tmp_path: Path) -> None:
    """Item 12: docs/studies.md runs the five-run gemma-2b-it study on `.demo/data`; its two
    socratic runs failed there ("no train_socratic.jsonl")."""
    from gsmreport.core.config import DataConfig
    from gsmreport.datasets.gsm8k import load_split
    from gsmreport.datasets.synthetic import write_gsm8k_folder

    folder = write_gsm8k_folder(tmp_path / "data", n_train=6, n_test=4, seed=1)
    for split, n in (("train", 6), ("test", 4)):
        main = load_split(DataConfig(path=str(folder)), split)
        twins = load_split(DataConfig(path=str(folder), subset="socratic"), split)
        assert len(twins) == n
        for plain, asked in zip(main, twins, strict=True):
            assert asked["question"] == plain["question"]
            assert asked["answer"].splitlines()[-1] == plain["answer"].splitlines()[-1]
            assert all(" ** " in line for line in asked["answer"].splitlines()[:-1])
