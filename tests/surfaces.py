"""Every surface that shows a run's figures must show the same ones (issue: one analysis).

`assert_surfaces_agree` reads, for each run: `gsmreport show RUN --json`, `gsmreport runs
--format json`, the rendered report's analysis.json, the TUI's runs table and the TUI's run
view (through a Pilot), and checks that the final loss, loss drop, token accuracy, runtime,
device-hours, cost, exact match (n, correct) and latest evaluation agree on all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import DataTable, Static
from textual.worker import WorkerFailed
from typer.testing import CliRunner

from gsmreport.cli.app import app as cli_app
from gsmreport.core.fmt import DASH, sig, usd
from gsmreport.core.settings import Dirs
from gsmreport.tui.app import GsmReportApp
from gsmreport.tui.cells import fmt_duration, fmt_em, fmt_float, fmt_pct
from gsmreport.tui.loading import load_detail
from gsmreport.tui.screens.run_detail import RunScreen

FIGURES = (
    "final_loss",
    "loss_drop_pct",
    "token_acc_final",
    "runtime_s",
    "device_hours",
    "cost_usd",
    "em",
    "n_eval",
    "em_correct",
    "latest_eval",
    "run_kind",
)


def _cli(dirs: Dirs, *args: str) -> str:
    """A gsmreport command in this process, on these folders; its stdout (exit 0 asserted)."""
    result = CliRunner().invoke(
        cli_app, ["--runs-dir", str(dirs.runs), "--reports-dir", str(dirs.reports), *args]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _cli_json(dirs: Dirs, *args: str) -> Any:
    return json.loads(_cli(dirs, *args))


def _figures(headline: dict[str, Any]) -> dict[str, Any]:
    return {name: headline.get(name) for name in FIGURES}


def _plain(app: GsmReportApp, selector: str) -> str:
    console = Console(width=400, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return " ".join(console.export_text().split())


async def _tui_texts(
    dirs: Dirs, run_ids: Sequence[str]
) -> tuple[dict[str, list[str]], dict[str, tuple[str, str]]]:
    """(runs-table cells per run, (run-view headline text, evaluations text) per run)."""
    from gsmreport.tui.app import make_app

    app = make_app(dirs)
    table_rows: dict[str, list[str]] = {}
    views: dict[str, tuple[str, str]] = {}
    # Wide enough for every column of the runs table (they drop by priority when narrower).
    async with app.run_test(size=(320, 50)) as pilot:
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        for run_id in run_ids:
            table_rows[run_id] = [str(cell) for cell in table.get_row(run_id)]
        for run_id in run_ids:
            await app.push_screen(RunScreen(load_detail(app.dirs, run_id)))
            with contextlib.suppress(WorkerFailed):
                await app.workers.wait_for_complete()
            await pilot.pause()
            views[run_id] = (_plain(app, "#run-headline"), _plain(app, "#run-evals"))
            app.pop_screen()
            await pilot.pause()
    return table_rows, views


def _tui_expected(h: dict[str, Any]) -> list[str]:
    """The strings the TUI must show for these headline figures (its own formatters)."""
    from gsmreport.analysis.summary import RunSummary

    summary = RunSummary(**h)
    return [
        fmt_float(summary.final_loss),
        fmt_pct(summary.loss_drop_pct, fraction=False),
        fmt_pct(summary.token_acc_final, fraction=True),
        fmt_em(summary),
    ]


def assert_surfaces_agree(dirs: Dirs, run_ids: Sequence[str]) -> None:
    listed = {row["id"]: row for row in _cli_json(dirs, "runs", "--format", "json")}
    table_rows, views = asyncio.run(_tui_texts(dirs, run_ids))
    for run_id in run_ids:
        shown = _cli_json(dirs, "show", run_id, "--json")
        written = json.loads((dirs.reports / run_id / "analysis.json").read_text())
        expected = _figures(shown["headline"])
        assert _figures(listed[run_id]) == expected, f"{run_id}: runs --format json differs"
        assert _figures(written["headline"]) == expected, f"{run_id}: analysis.json differs"
        assert shown["latest_evaluation"] == expected["latest_eval"] == written["latest_evaluation"]
        # The kind, with its evidence, is the one in the analysis: the headline only names it.
        assert shown["run_kind"] == written["run_kind"], run_id
        assert written["run_kind"]["kind"] == expected["run_kind"] is not None, run_id
        cost = shown["cost"]
        assert (cost["usd"] if cost else None) == expected["cost_usd"], run_id
        assert (cost["device_hours"] if cost else None) == expected["device_hours"], run_id
        runtime = shown["runtime"]
        assert (runtime["seconds"] if runtime else None) == expected["runtime_s"], run_id
        latest = [e for e in shown["evaluations"] if e["eval_id"] == expected["latest_eval"]]
        if latest:
            primary = next(
                s for s in latest[0]["scores"] if s["filter"] == latest[0]["primary_filter"]
            )
            assert (primary["correct"], primary["n"]) == (
                expected["em_correct"],
                expected["n_eval"],
            )
        # The TUI: the runs table row and the run view's cards print the same figures.
        cells = table_rows[run_id]
        headline, evals = views[run_id]
        task = shown.get("task_metrics") or []
        # A run with neither exact match nor token accuracy shows its own task metrics on
        # the run view's cards instead of two "—" (the runs table keeps its columns).
        task_cards = bool(task) and listed[run_id]["em"] is None
        task_cards = task_cards and listed[run_id]["token_acc_final"] is None
        for n, text in enumerate(_tui_expected(listed[run_id])):
            assert text in cells, f"{run_id}: runs table lacks {text!r}: {cells}"
            if task_cards and n >= 2:
                continue
            assert text in headline, f"{run_id}: run view lacks {text!r}: {headline}"
        for metric in task[:2] if task_cards else []:
            card = f"{metric['split']}/{metric['metric']}, final"
            value = sig(metric["final"]["value"], 4)
            assert card in headline and value in headline, f"{run_id}: {card} {headline}"
        money = usd(expected["cost_usd"], missing=DASH)
        assert money in cells, f"{run_id}: runs table cost {cells}"
        if expected["cost_usd"] is not None:
            assert money in headline, f"{run_id}: run view cost {headline}"
        assert fmt_duration(expected["runtime_s"]) in headline, f"{run_id}: runtime {headline}"
        if expected["latest_eval"] is not None:
            assert f"{expected['latest_eval']} (latest)" in evals, f"{run_id}: {evals}"


def rendered(dirs: Dirs) -> None:
    """Render every run's Markdown report (writes analysis.json beside each)."""
    _cli(dirs, "render", "--all")


def run_folders(dirs: Dirs) -> list[str]:
    return sorted(p.name for p in Path(dirs.runs).iterdir() if (p / "run.yaml").is_file())
