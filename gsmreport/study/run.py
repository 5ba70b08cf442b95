"""`gsmreport study FILE`: train every run of a study, evaluate them, compare — one command.

Everything goes through gsmreport.pipeline, like `train` and `eval` typed by hand. A run that
already completed (with an evaluation of the same settings) is skipped, so a study that
stopped half-way continues where it stopped; `force` redoes the selected runs from scratch.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gsmreport import pipeline
from gsmreport.core.config import EvalConfig, dump_yaml
from gsmreport.core.errors import JobFailed, UsageError
from gsmreport.core.fsutil import atomic_write_text, load_yaml
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.launch.process import LineSink
from gsmreport.study.config import PlannedRun, StudyPlan

Say = Callable[[str], None]
Todo = Literal["run", "eval only", "skip"]
# The settings that make two evaluations measure the same thing (batch size does not).
_SAME_EVAL = ("split", "n", "seed", "prompt_style", "max_new_tokens", "fewshot_seed", "stop")


@dataclass
class StudyResult:
    completed: list[str] = field(default_factory=list)  # every completed run of the study
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    report: Path | None = None


def select(plan: StudyPlan, only: list[str]) -> list[PlannedRun]:
    """The runs named by `--only` (short `lora-main` or full `<study>-lora-main` ids)."""
    if not only:
        return list(plan.runs)
    prefix = f"{plan.study.name}-"
    wanted = {o if o.startswith(prefix) and o in plan.ids else prefix + o for o in only}
    unknown = sorted(w.removeprefix(prefix) for w in wanted if w not in plan.ids)
    if unknown:
        short = ", ".join(i.removeprefix(prefix) for i in plan.ids)
        raise UsageError(f"--only {unknown[0]!r}: not a run of study {plan.study.name} ({short})")
    return [r for r in plan.runs if r.run_id in wanted]


def todo(store: RunStore, run: PlannedRun, force: bool) -> Todo:
    """What a run needs; an unfinished or foreign run folder is refused unless `force`."""
    if force or not store.exists(run.run_id):
        return "run"
    record = store.read(run.run_id)
    if record.kind == run.kind and record.status == "completed":
        if run.eval is None or _has_eval(store.path(run.run_id), run.eval):
            return "skip"
        if run.kind == "train":
            return "eval only"
        what = "was evaluated with other settings"
    else:
        what = f"exists as a {record.kind} run with status {record.status}"
    raise UsageError(
        f"run {run.run_id} {what}: add --force (with --only to limit it) to redo it from scratch"
    )


def _has_eval(run_dir: Path, wanted: EvalConfig) -> bool:
    for eval_yaml in sorted((run_dir / "evals").glob("*/eval.yaml")):
        if not (eval_yaml.parent / "results.json").is_file():
            continue
        done = (load_yaml(eval_yaml.read_text(encoding="utf-8")) or {}).get("config", {})
        same = all(done.get(k) == getattr(wanted, k) for k in _SAME_EVAL)
        # Not the subset: pipeline.evaluate scores a trained run on its own subset's test
        # file (socratic runs on test_socratic: the same questions and final answers).
        if same and _same_path((done.get("data") or {}).get("path"), wanted.data.path):
            return True
    return False


def _same_path(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def run_study(
    dirs: Dirs,
    plan: StudyPlan,
    *,
    only: list[str] | None = None,
    force: bool = False,
    say: Say = print,
    on_line: LineSink | None = None,
) -> StudyResult:
    store = RunStore(dirs.runs)
    chosen = select(plan, only or [])
    # Decided for every run before the first one starts: a refusal must not come hours in.
    steps = [(run, todo(store, run, force)) for run in chosen]
    result = StudyResult()
    with tempfile.TemporaryDirectory(prefix="gsmreport-study-") as tmp:
        for i, (run, what) in enumerate(steps, 1):
            head = f"[{i}/{len(steps)}] {run.run_id}"
            if what == "skip":
                say(f"{head}: already completed, skipped (--force redoes it)")
                result.skipped.append(run.run_id)
                continue
            if what == "run" and store.path(run.run_id).exists():
                shutil.rmtree(store.path(run.run_id))  # --force: start from nothing
            if not _do(dirs, run, what, Path(tmp), head, say, on_line):
                result.failed.append(run.run_id)
    result.completed = [r.run_id for r in plan.runs if _completed(store, r)]
    result.report = _report(dirs, plan, result.completed)
    return result


def _do(
    dirs: Dirs,
    run: PlannedRun,
    what: Todo,
    tmp: Path,
    head: str,
    say: Say,
    on_line: LineSink | None,
) -> bool:
    """Train and/or evaluate one run; False when it failed. Ctrl-C ends the whole study."""
    if run.kind == "train" and what == "run":
        assert run.train is not None
        say(f"{head}: training ({run.train.method}, {run.train.model})")
        cfg_path = tmp / f"{run.run_id}.yaml"
        atomic_write_text(cfg_path, dump_yaml(run.train))
        record = pipeline.train(dirs, cfg_path, run_id=run.run_id, on_line=on_line)
        if record.status == "interrupted":
            raise JobFailed(f"study stopped: run {run.run_id} was interrupted", exit_code=130)
        if record.status != "completed":
            say(f"{head}: {record.status}: {record.error or 'see its logs/stdout.log'}")
            return False
    if run.eval is None:
        return True
    settings = _eval_settings(run.eval)
    say(f"{head}: evaluating on {run.eval.n or 'all'} problems ({run.eval.prompt_style})")
    try:
        if run.kind == "train":
            pipeline.evaluate(
                dirs, run_id=run.run_id, data=run.eval.data, on_line=on_line, **settings
            )
        else:
            pipeline.evaluate(
                dirs,
                model=run.eval.model,
                eval_run_id=run.run_id,
                data=run.eval.data,
                on_line=on_line,
                **settings,
            )
    except JobFailed as exc:
        if exc.exit_code == 130:
            raise JobFailed(f"study stopped: {exc}", exit_code=130) from exc
        say(f"{head}: {exc}")
        return False
    return True


def _eval_settings(cfg: EvalConfig) -> dict[str, Any]:
    """EvalConfig fields pipeline.evaluate takes as settings (it sets model and data itself)."""
    return cfg.model_dump(exclude={"model", "adapter", "data", "prompt_template"})


def _completed(store: RunStore, run: PlannedRun) -> bool:
    return store.exists(run.run_id) and store.read(run.run_id).status == "completed"


def _report(dirs: Dirs, plan: StudyPlan, ids: list[str]) -> Path | None:
    if not ids:
        return None
    if len(ids) == 1:  # a comparison needs two runs; one run gets its own report
        return pipeline.render(dirs, ids[0]).md
    baselines = [r.run_id for r in plan.runs if r.kind == "eval" and r.run_id in ids]
    paths = pipeline.render_comparison(
        dirs, ids, baseline=baselines[0] if baselines else None, name=plan.study.name
    )
    return paths.md
