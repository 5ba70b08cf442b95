"""The evaluate form: a trained run or a base model, N problems, the prompt style.

Launching starts `pipeline.evaluate` in the background (gsmreport.tui.jobs) and switches to
the live view; the results land in the run's evals/ folder, where the runs table and the
run screen read them.
"""

from __future__ import annotations

import shlex
import typing
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from gsmreport.core.config import EvalConfig, scale_conflict, validate_model
from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.tui.jobs import JobManager, manager_of
from gsmreport.tui.messages import ShowError

BASE_MODEL = "__base_model__"  # the target choice that evaluates a model folder or Hub id
PROMPT_STYLES: tuple[str, ...] = typing.get_args(typing.get_type_hints(EvalConfig)["prompt_style"])
NUMBERS = {
    "n": "eval-n",
    "max_new_tokens": "eval-max-new-tokens",
    "num_processes": "eval-num-processes",
}
ONE_DEVICE = "none"  # the device-map choice that keeps the model on one device


def evaluable_runs(dirs: Dirs) -> list[str]:
    """Completed training runs, newest first: the ones with a model to evaluate."""
    records = [
        r
        for r in RunStore(dirs.runs).iter_records()
        if r.kind == "train" and r.status == "completed"
    ]
    return [r.id for r in sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)]


def eval_command(settings: dict[str, Any]) -> str:
    """The `gsmreport eval` command line that does what the form will launch (`settings` as
    EvaluateScreen.settings gives them); options left at the CLI's default are not written."""
    defaults = EvalConfig(model="-")
    args = ["gsmreport", "eval"]
    if settings["run_id"] is not None:
        args += ["--run", settings["run_id"]]
    else:
        args += ["--model", settings["model"] or "MODEL"]
    if settings["data_path"]:
        args += ["--data", settings["data_path"]]
    args += ["-n", settings["n"] or "N"]
    if settings["prompt_style"] != defaults.prompt_style:
        args += ["--prompt-style", settings["prompt_style"]]
    if settings["max_new_tokens"] != str(defaults.max_new_tokens):
        args += ["--max-new-tokens", settings["max_new_tokens"] or "M"]
    if settings.get("num_processes", "1") != str(defaults.num_processes):
        args += ["--num-processes", settings["num_processes"] or "P"]
    if settings.get("device_map"):
        args += ["--device-map", settings["device_map"]]
    return shlex.join(args)


def setting_error(key: str, text: str) -> str | None:
    """The one-line problem with an EvalConfig setting typed in the form, or None."""
    try:
        validate_model({"model": "-", key: text.strip()}, EvalConfig, where="form")
    except GsmReportError as exc:
        return str(exc).removeprefix("form: ")
    return None


class EvaluateScreen(Screen[None]):
    CSS_PATH = "evaluate.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "launch", "Launch"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, run_id: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.errors: dict[str, str] = {}

    @property
    def jobs(self) -> JobManager:
        return manager_of(self.app)

    def compose(self) -> ComposeResult:
        runs = evaluable_runs(self.jobs.dirs)
        if self.run_id is not None and self.run_id not in runs:
            runs.insert(0, self.run_id)  # refused with its reason at launch, not hidden
        targets = [(f"run {r}", r) for r in runs] + [("base model (a path or Hub id)", BASE_MODEL)]
        yield Header()
        with VerticalScroll(id="eval-form"):
            yield from _row(
                "evaluate",
                Select(
                    targets,
                    value=self.run_id or targets[0][1],
                    allow_blank=False,
                    compact=True,
                    id="eval-target",
                ),
            )
            yield from _row(
                "base model",
                Input(placeholder="model folder or Hub id", compact=True, id="eval-model"),
            )
            yield from _row(
                "data path",
                Input(
                    placeholder="empty: the run's data (else the Hub)", compact=True, id="eval-data"
                ),
            )
            yield from _row("problems (N)", Input("100", compact=True, id="eval-n"))
            yield from _row(
                "prompt style",
                Select(
                    [(s, s) for s in PROMPT_STYLES],
                    value="zero-shot",
                    allow_blank=False,
                    compact=True,
                    id="eval-prompt-style",
                ),
            )
            yield from _row("max new tokens", Input("256", compact=True, id="eval-max-new-tokens"))
            yield from _row("processes", Input("1", compact=True, id="eval-num-processes"))
            yield from _row(
                "device map",
                Select(
                    [("one device", ONE_DEVICE), ("auto: one model over all GPUs", "auto")],
                    value=ONE_DEVICE,
                    allow_blank=False,
                    compact=True,
                    id="eval-device-map",
                ),
            )
        yield Static("", id="eval-preview", markup=False)
        with Horizontal(id="eval-actions"):
            yield Button("Launch (ctrl+l)", id="eval-launch", variant="success", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "evaluate"
        self.revalidate()
        self.query_one("#eval-target", Select).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.revalidate()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.revalidate()

    def settings(self) -> dict[str, Any]:
        """What the form asks pipeline.evaluate for (valid or not)."""
        target = self.query_one("#eval-target", Select).value
        data = self.query_one("#eval-data", Input).value.strip()
        out: dict[str, Any] = {
            "run_id": None if target == BASE_MODEL else str(target),
            "model": self.query_one("#eval-model", Input).value.strip()
            if target == BASE_MODEL
            else None,
            "data_path": data or None,
            "prompt_style": str(self.query_one("#eval-prompt-style", Select).value),
        }
        device_map = str(self.query_one("#eval-device-map", Select).value)
        out["device_map"] = None if device_map == ONE_DEVICE else device_map
        for key, widget_id in NUMBERS.items():
            out[key] = self.query_one(f"#{widget_id}", Input).value.strip()
        return out

    def revalidate(self) -> None:
        from gsmreport.pipeline import resolve_model

        s = self.settings()
        errors: dict[str, str] = {}
        model_input = self.query_one("#eval-model", Input)
        model_input.disabled = s["run_id"] is not None
        if s["run_id"] is None:
            try:
                resolve_model(s["model"] or "")
            except GsmReportError as exc:
                errors["eval-model"] = str(exc)
        if s["data_path"] is not None and not _is_dir(s["data_path"]):
            errors["eval-data"] = f"data folder not found: {s['data_path']}"
        for key, widget_id in NUMBERS.items():
            problem = setting_error(key, s[key])
            if problem:
                errors[widget_id] = problem
        if "eval-num-processes" not in errors and s["num_processes"].isdigit():
            conflict = scale_conflict(int(s["num_processes"]), s["device_map"])
            if conflict:
                errors["eval-num-processes"] = conflict
        self.errors = errors
        for widget_id in ("eval-model", "eval-data", *NUMBERS.values()):
            label = self.query_one(f"#{widget_id}-error", Static)
            label.update(errors.get(widget_id, ""))
            label.display = widget_id in errors
            self.query_one(f"#{widget_id}").set_class(widget_id in errors, "invalid")
        self.query_one("#eval-launch", Button).disabled = bool(errors)
        self.query_one("#eval-preview", Static).update(f"$ {eval_command(s)}")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "eval-launch":
            self.action_launch()

    def action_launch(self) -> None:
        self.revalidate()
        if self.errors:
            self.notify(next(iter(self.errors.values())), title="Cannot launch", severity="error")
            return
        from gsmreport.tui.screens.live import LiveScreen, announce_when_unwatched

        s = self.settings()
        try:
            job = self.jobs.start_evaluate(
                run_id=s["run_id"],
                model=s["model"],
                data_path=s["data_path"],
                n=int(s["n"]),
                max_new_tokens=int(s["max_new_tokens"]),
                prompt_style=s["prompt_style"],
                num_processes=int(s["num_processes"]),
                device_map=s["device_map"],
                on_done=announce_when_unwatched(self.app, self.jobs.dirs),
            )
        except GsmReportError as exc:
            self.post_message(ShowError("Cannot launch the evaluation", str(exc)))
            return
        self.app.switch_screen(LiveScreen(job))


def _row(label: str, widget: Input | Select[str]) -> ComposeResult:
    with Horizontal(classes="field-row"):
        yield Label(label, classes="field-label")
        yield widget
    if isinstance(widget, Input):
        yield Static("", id=f"{widget.id}-error", classes="field-error", markup=False)


def _is_dir(path: str) -> bool:
    from pathlib import Path

    return Path(path).expanduser().is_dir()
