"""`gsmreport study`: every preset in configs/studies/ runs on a CPU with the tiny local model.

Each preset is run as a user runs it (the CLI in a subprocess) with `--model` / `--data`
pointing at the tiny Llama and GSM8K-format data built here, and two optimizer steps per run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.study.config import load_study
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
STUDIES = sorted((ROOT / "configs" / "studies").glob("*.yaml"))
# Two optimizer steps, W&B off, float32 (bf16 on a CPU is slow and not what is tested here).
CPU = [
    "--set",
    "training.max_steps=2",
    "--set",
    "training.logging_steps=1",
    "--set",
    "training.eval_steps=1",
    "--set",
    "logging.wandb=disabled",
]


def _socratic(answer: str) -> str:
    """GSM8K socratic style: each reasoning line preceded by its sub-question."""
    *steps, final = answer.splitlines()
    asked = [f"What is step {i}? ** {line}" for i, line in enumerate(steps, 1)]
    return "\n".join([*asked, final])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(tiny model, GSM8K folder with main + socratic files, alpaca jsonl)."""
    from gsmreport.jobs.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("study")
    data = write_gsm8k_folder(root / "gsm8k", n_train=60, n_test=20, seed=5)
    for split in ("train", "test"):
        rows = [json.loads(line) for line in (data / f"{split}.jsonl").read_text().splitlines()]
        lines = [json.dumps(r | {"answer": _socratic(r["answer"])}) + "\n" for r in rows]
        (data / f"{split}_socratic.jsonl").write_text("".join(lines))
    alpaca = root / "alpaca.jsonl"
    alpaca.write_text(
        "".join(
            json.dumps(
                {
                    "instruction": f"Add {i} and {i + 3}.",
                    "input": "" if i % 2 else f"Show the sum of {i} and {i + 3}.",
                    "output": f"{i} + {i + 3} = {2 * i + 3}.",
                }
            )
            + "\n"
            for i in range(40)
        )
    )
    model = build_tiny_model(root / "model", data / "train.jsonl")
    return model, data, alpaca


def gsm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, timeout=600, env={"OMP_NUM_THREADS": "1"})


def _local_args(study: Path, tiny: tuple[Path, Path, Path]) -> list[str]:
    model, data, alpaca = tiny
    is_alpaca = load_study(study).runs[0].train.data.source == "alpaca"  # type: ignore[union-attr]
    return ["--model", str(model), "--data", str(alpaca if is_alpaca else data)]


def _run(study: Path, tmp_path: Path, tiny: tuple[Path, Path, Path], *extra: str) -> str:
    args = ["study", str(study), *_local_args(study, tiny), *CPU, *extra]
    if load_study(study).runs[0].eval is not None:
        args += ["--eval-n", "3", "--set", "eval.max_new_tokens=8", "--set", "eval.batch_size=3"]
    proc = gsm(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _check_runs(dirs: Dirs, study: Path, ids: list[str]) -> None:
    plan = load_study(study)
    store = RunStore(dirs.runs)
    for run in plan.runs:
        if run.run_id not in ids:
            assert not store.exists(run.run_id)
            continue
        record = store.read(run.run_id)
        assert (record.kind, record.status) == (run.kind, "completed"), record.error
        assert len(store.eval_ids(run.run_id)) == (1 if run.eval else 0)


# Studies 1-3 share one shape (a LoRA run and the base model); the base model's evaluation is
# exercised by the gemma-2b-it study below, so here each preset trains and evaluates its run.
SINGLE = [s for s in STUDIES if s.stem != "gemma-2b-it-gsm8k"]


@pytest.mark.slow
@pytest.mark.parametrize("study", SINGLE, ids=lambda p: p.stem)
def test_preset_runs_on_cpu(
    study: Path, tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path, Path]
) -> None:
    plan = load_study(study)
    first = plan.runs[0]
    out = _run(study, tmp_path, tiny, "--only", first.run_id)
    _check_runs(dirs, study, [first.run_id])
    table = out.split("\n\n")[-2]
    assert first.run_id in table
    # One run is not a comparison: it gets its own report.
    assert out.strip().endswith(f"report: {dirs.reports / first.run_id / 'report.md'}")
    assert (dirs.reports / first.run_id / "report.md").is_file()


@pytest.mark.slow
def test_gemma_2b_it_study_five_runs_one_comparison(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path, Path]
) -> None:
    study = ROOT / "configs" / "studies" / "gemma-2b-it-gsm8k.yaml"
    plan = load_study(study)
    assert [r.run_id.removeprefix("gemma-2b-it-gsm8k-") for r in plan.runs] == [
        "full-main",
        "full-socratic",
        "lora-main",
        "lora-socratic",
        "base",
    ]
    out = _run(study, tmp_path, tiny)
    _check_runs(dirs, study, plan.ids)
    store = RunStore(dirs.runs)
    socratic = store.read("gemma-2b-it-gsm8k-lora-socratic")
    assert socratic.config["data"]["subset"] == "socratic"
    # Every evaluation scored the same problems (doc ids), so the comparison is paired.
    docs = set()
    for rid in plan.ids:
        eval_dir = store.evals_dir(rid) / store.eval_ids(rid)[0]
        rows = (eval_dir / "samples.jsonl").read_text().splitlines()
        docs.add(frozenset(json.loads(r)["doc_id"] for r in rows))
        prompt_style = json.loads((eval_dir / "results.json").read_text())["prompt_style"]
        assert prompt_style == ("one-shot" if rid.endswith("-base") else "zero-shot")
    assert len(docs) == 1
    compare = dirs.reports / "compare-gemma-2b-it-gsm8k" / "compare.md"
    text = compare.read_text()
    assert all(rid in text for rid in plan.ids)
    table = out.split("\n\n")[-2].splitlines()
    assert [line.split()[0] for line in table[2:]] == plan.ids
    assert out.strip().endswith(f"report: {compare}")

    # A second call skips what is done and only rewrites the comparison.
    again = _run(study, tmp_path, tiny)
    assert again.count("already completed, skipped") == 5
    assert all(len(store.eval_ids(rid)) == 1 for rid in plan.ids)


# --- without training: the plan, the study file's checks, the CLI's refusals ---------------


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path, dirs: Dirs) -> None:
    study = ROOT / "configs" / "studies" / "gemma-2b-it-gsm8k.yaml"
    proc = gsm("study", str(study), "--dry-run", "--eval-n", "7", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for run in ("full-main", "full-socratic", "lora-main", "lora-socratic", "base"):
        assert f"gemma-2b-it-gsm8k-{run}  [will run]" in out
    assert "lr 1e-05 cosine_with_min_lr (min 1e-06)" in out
    assert "adamw_bnb_8bit, batch 8×2" in out
    assert "gradient checkpointing" in out and "W&B online" in out
    assert "r 16 alpha 32" in out and "gate_proj,up_proj,down_proj" in out
    assert out.count("eval: 7 problems of test") == 5
    assert "baseline google/gemma-2b-it (no training)" in out and "one-shot" in out
    assert f"report: {dirs.reports / 'compare-gemma-2b-it-gsm8k' / 'compare.md'}" in out
    assert not dirs.runs.exists() and not dirs.reports.exists()


def test_dry_run_of_an_instruction_study_has_no_gsm8k_eval(tmp_path: Path, dirs: Dirs) -> None:
    study = ROOT / "configs" / "studies" / "gemma-2b-alpaca-gpt4-lora.yaml"
    proc = gsm("study", str(study), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "alpaca (Hub vicgalle/alpaca-gpt4)" in proc.stdout
    assert "eval: none (eval loss)" in proc.stdout
    assert "early stopping 5" in proc.stdout


GOOD = "name: s\ndefaults: {model: m}\nruns: [{id: a}, {id: b}]\neval: {n: 5}\n"


@pytest.mark.parametrize(
    ("text", "args", "fragment"),
    [
        ("name: s\nruns: [{id: a}]\ncolour: red\n", [], "unknown key 'colour'"),
        ("name: S!\nruns: [{id: a}]\n", [], "'name': String should match pattern"),
        ("name: s\ndefaults: {model: m}\nruns: []\n", [], "'runs': List should have at least"),
        (
            "name: s\ndefaults: {model: m}\nruns: [{id: a, training: {lr: 1}}]\n",
            [],
            "run 'a': unknown key 'training.lr'",
        ),
        ("name: s\nruns: [{id: a}]\n", [], "run 'a': 'model': Field required"),
        ("name: s\ndefaults: {model: m}\nruns: [{id: a}, {id: a}]\n", [], "'a' is used twice"),
        (GOOD.replace("{n: 5}", "{n: 5, model: x}"), [], "'model' belongs to a run"),
        (GOOD.replace("{n: 5}", "{n: 0}"), [], "eval: 'n': Input should be greater"),
        (GOOD.replace("eval: {n: 5}\n", "baselines: [{id: base}]\n"), [], "needs an eval"),
        ("name: s\nruns: [{id: a}\n", [], "not valid YAML"),
        (GOOD, ["--set", "training.max_steps"], "expected KEY=VALUE"),
        (GOOD, ["--set", "training.colour=2"], "run 'a': unknown key 'training.colour'"),
        (GOOD, ["--set", "eval.n=-1"], "eval: 'n'"),
        (GOOD, ["--only", "zz"], "--only 'zz': not a run of study s (a, b)"),
        (GOOD.replace("eval: {n: 5}\n", ""), ["--eval-n", "3"], "the study has no eval section"),
    ],
)
def test_bad_study_exits_2_with_one_line(
    tmp_path: Path, dirs: Dirs, text: str, args: list[str], fragment: str
) -> None:
    (tmp_path / "study.yaml").write_text(text)
    proc = gsm("study", "study.yaml", *args, cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not dirs.runs.exists()


def test_missing_study_file(tmp_path: Path) -> None:
    proc = gsm("study", "nope.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: config file not found: nope.yaml"


def test_an_unfinished_run_blocks_the_study_until_force(tmp_path: Path, dirs: Dirs) -> None:
    from gsmreport.core.runs import RunRecord

    (tmp_path / "study.yaml").write_text(GOOD)
    store = RunStore(dirs.runs)
    store.create(RunRecord(id="s-b", kind="train"))
    store.set_status("s-b", "failed", error="boom")
    proc = gsm("study", "study.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: run s-b exists as a train run with status failed: add --force "
        "(with --only to limit it) to redo it from scratch"
    )
    assert not store.exists("s-a")  # refused before the first run started
    plan = gsm("study", "study.yaml", "--dry-run", cwd=tmp_path).stdout
    assert "s-a  [will run]" in plan and "s-b  [blocked: run s-b exists" in plan
    forced = gsm("study", "study.yaml", "--dry-run", "--force", cwd=tmp_path).stdout
    assert "s-b  [will run (replacing the existing run)]" in forced


def test_set_and_replacements_reach_every_run() -> None:
    from gsmreport.core.config import parse_overrides
    from gsmreport.study.config import Replacements, StudyConfig, resolve

    study = StudyConfig.model_validate(
        {
            "name": "s",
            "defaults": {"model": "org/m", "training": {"learning_rate": 1e-4, "epochs": 2}},
            "runs": [{"id": "a"}, {"id": "b", "training": {"learning_rate": 5e-5}}],
            "eval": {"n": 100, "data": {"subset": "main"}},
            "baselines": [{"id": "base", "prompt_style": "one-shot"}],
        }
    )
    sets = parse_overrides(["training.max_steps=2", "training.learning_rate=1e-3", "eval.seed=7"])
    assert sets == {"training.max_steps": 2, "training.learning_rate": 0.001, "eval.seed": 7}
    plan = resolve(
        study, Replacements(model="/tiny", data="/d", sets=sets, eval_n=4), where="s.yaml"
    )
    a, b, base = plan.runs
    assert a.train and b.train and a.eval and base.eval
    assert (a.train.model, a.train.data.path, a.train.training.max_steps) == ("/tiny", "/d", 2)
    assert a.train.training.epochs == 2  # defaults kept where nothing overrides them
    assert b.train.training.learning_rate == 0.001  # --set wins over the run's own value
    assert (a.eval.n, a.eval.seed, a.eval.data.path) == (4, 7, "/d")
    assert (base.kind, base.eval.model, base.eval.prompt_style) == ("eval", "/tiny", "one-shot")
    local = study.model_copy(update={"defaults": study.defaults | {"data": {"path": "/l"}}})
    local_plan = resolve(local, Replacements(), where="s.yaml")
    assert [r.eval.data.path for r in local_plan.runs if r.eval] == ["/l", "/l", "/l"]
    unchanged = resolve(study, Replacements(), where="s.yaml")
    assert unchanged.runs[1].train and unchanged.runs[1].train.training.learning_rate == 5e-5
    assert unchanged.runs[2].eval and unchanged.runs[2].eval.model == "org/m"
