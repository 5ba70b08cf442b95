"""The train form: a preset, every field validated as you type, the command it amounts to.

Launching starts `pipeline.train` in the background (gsmreport.tui.jobs) and switches to
the live view. The form's logic (fields, validation, preview) is in gsmreport.tui.train_form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from gsmreport.core.errors import GsmReportError
from gsmreport.core.user_settings import load_user_settings, remember
from gsmreport.tui.jobs import JobManager, manager_of
from gsmreport.tui.messages import ShowError
from gsmreport.tui.presets import find_presets, initial_preset, searched_text
from gsmreport.tui.train_form import (
    FIELDS,
    Field,
    command_preview,
    discover_presets,
    field_error,
    overrides,
    preset_texts,
    read_preset,
)
from gsmreport.tui.widgets.path_suggester import PathSuggester

PRESET_ID = "field-preset"
CONFIG_ID = "field-config"
NO_PRESETS = (
    "no presets found in {where}: type a config path above (→ completes), or set "
    "presets_dir in {settings}"
)


class TrainScreen(Screen[None]):
    CSS_PATH = "train.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "launch", "Launch"),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, preset: str | None = None, *, presets_root: Path | None = None) -> None:
        """`preset`: open on it; `presets_root`: list that folder's presets only (else the
        folders of gsmreport.tui.presets, found from the working directory and runs folder)."""
        super().__init__()
        self.wanted = Path(preset) if preset else None
        self.presets_root = presets_root
        self.presets: list[Path] = []
        self.preset: Path | None = None
        self.raw: dict[str, Any] | None = None  # the preset as read; None when unreadable
        self.start: dict[str, str] = {}  # each field's text as the preset fills it
        self.errors: dict[str, str] = {}  # field key (or "preset", "form") -> one line

    @property
    def jobs(self) -> JobManager:
        return manager_of(self.app)

    def _find_presets(self) -> None:
        settings = load_user_settings()
        if self.presets_root is not None:
            self.presets = discover_presets(self.presets_root)
        else:
            self.presets = find_presets(self.jobs.dirs, settings)
        chosen = self.wanted or initial_preset(self.presets, settings)
        if chosen is not None and chosen not in self.presets:
            self.presets.insert(0, chosen)
        self.preset = chosen

    def compose(self) -> ComposeResult:
        self._find_presets()
        yield Header()
        with VerticalScroll(id="train-form"):
            with Horizontal(classes="field-row"):
                yield Label("preset", classes="field-label")
                yield Select(
                    [(str(p), str(p)) for p in self.presets],
                    value=str(self.preset) if self.preset else Select.NULL,
                    allow_blank=self.preset is None,
                    compact=True,
                    id=PRESET_ID,
                )
            with Horizontal(classes="field-row"):
                yield Label("config path", classes="field-label")
                yield Input(
                    str(self.preset) if self.preset else "",
                    placeholder="a training YAML anywhere (→ completes the path)",
                    suggester=PathSuggester(),
                    compact=True,
                    id=CONFIG_ID,
                )
            yield Static("", id=f"{PRESET_ID}-error", classes="field-error", markup=False)
            for field in FIELDS:
                with Horizontal(classes="field-row"):
                    yield Label(field.label, classes="field-label")
                    yield _widget(field)
                yield Static("", id=f"{field.widget_id}-error", classes="field-error", markup=False)
        yield Static("", id="train-form-error", markup=False)
        yield Static("", id="train-preview", markup=False)
        with Horizontal(id="train-actions"):
            yield Button("Launch (ctrl+l)", id="train-launch", variant="success", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "new training run"
        self.load_preset()
        self.query_one(f"#{PRESET_ID}", Select).focus()

    # --- the preset fills the form ------------------------------------------------------------

    def load_preset(self) -> None:
        """Read the chosen preset and put its values in every field."""
        self.raw = None
        if self.preset is None:
            self.revalidate()
            return
        try:
            self.raw = read_preset(self.preset)
        except GsmReportError as exc:
            self.errors = {"preset": str(exc)}
            self.revalidate()
            return
        self.start = preset_texts(self.raw)
        with self.prevent(Input.Changed, Select.Changed):
            for field in FIELDS:
                widget = self.query_one(f"#{field.widget_id}")
                if isinstance(widget, Select | Input):
                    widget.value = self.start[field.key]
        self.revalidate()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == PRESET_ID:
            self.preset = Path(str(event.value)) if event.value is not Select.NULL else None
            with self.prevent(Input.Changed):
                self.query_one(f"#{CONFIG_ID}", Input).value = str(self.preset or "")
            self.load_preset()
        else:
            self.revalidate()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == CONFIG_ID:
            self.use_config_path(event.value)
        else:
            self.revalidate()

    def use_config_path(self, text: str) -> None:
        """A typed config path: load it once it names a file; until then say what is wrong."""
        path = Path(text.strip()).expanduser()
        if not text.strip():
            self.preset, self.raw = None, None
            self.errors = {}
            self.revalidate()
            return
        if not path.is_file():
            self.preset, self.raw = path, None
            self.errors = {"preset": f"config file not found: {path}"}
            self.revalidate()
            return
        self.preset = path
        self.load_preset()

    # --- validation and preview ---------------------------------------------------------------

    def texts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for field in FIELDS:
            widget = self.query_one(f"#{field.widget_id}")
            if isinstance(widget, Select):
                out[field.key] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                out[field.key] = widget.value
        return out

    def revalidate(self) -> None:
        """Check every field against the preset; show each problem under its field."""
        errors: dict[str, str] = {}
        if self.preset is None:
            from gsmreport.core.user_settings import settings_path

            where = searched_text(self.jobs.dirs, load_user_settings())
            errors["preset"] = NO_PRESETS.format(where=where, settings=settings_path())
        elif self.raw is None:
            errors["preset"] = self.errors.get("preset", "the preset could not be read")
        texts = self.texts()
        for field in FIELDS:  # LoRA settings mean nothing to a full fine-tune
            if field.key.startswith("lora."):
                self.query_one(f"#{field.widget_id}").disabled = texts["method"] == "full"
        if self.raw is not None:
            for field in FIELDS:
                problem = field_error(field, texts[field.key], self.raw, self.jobs.dirs)
                if problem:
                    errors[field.key] = problem
            if not errors:
                try:
                    overrides(texts, self.raw)
                except GsmReportError as exc:  # only fields together can say what is wrong
                    errors["form"] = str(exc).removeprefix("form: ")
        self.errors = errors
        self._show_errors()
        preview = command_preview(self.preset, texts, self.start) if self.preset is not None else ""
        self.query_one("#train-preview", Static).update(f"$ {preview}" if preview else "")
        self.query_one("#train-launch", Button).disabled = bool(errors)

    def _show_errors(self) -> None:
        for key, widget_id in [("preset", CONFIG_ID)] + [(f.key, f.widget_id) for f in FIELDS]:
            label = self.query_one(f"#{PRESET_ID if key == 'preset' else widget_id}-error", Static)
            label.update(self.errors.get(key, ""))
            label.display = key in self.errors
            self.query_one(f"#{widget_id}").set_class(key in self.errors, "invalid")
        form = self.query_one("#train-form-error", Static)
        form.update(self.errors.get("form", ""))
        form.display = "form" in self.errors

    # --- launching ----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "train-launch":
            self.action_launch()

    def action_launch(self) -> None:
        self.revalidate()
        if self.errors or self.raw is None or self.preset is None:
            first = next(iter(self.errors.items()), ("form", "the form is incomplete"))
            self.notify(f"{first[0]}: {first[1]}", title="Cannot launch", severity="error")
            return
        from gsmreport.tui.screens.live import LiveScreen, announce_when_unwatched

        try:
            changed = overrides(self.texts(), self.raw)
            job = self.jobs.start_train(
                self.preset,
                overrides=changed,
                on_done=announce_when_unwatched(self.app, self.jobs.dirs),
            )
        except GsmReportError as exc:
            self.post_message(ShowError("Cannot launch the training", str(exc)))
            return
        remember(last_preset=str(self.preset.resolve()))  # the form opens on it next time
        self.app.switch_screen(LiveScreen(job))


def _widget(field: Field) -> Input | Select[str]:
    if field.kind == "choice":
        return Select(
            [(c, c) for c in field.choices],
            allow_blank=False,
            compact=True,
            id=field.widget_id,
        )
    return Input(placeholder=field.hint, compact=True, id=field.widget_id)
