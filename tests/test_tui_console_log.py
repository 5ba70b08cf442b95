"""The run view's console: which log it shows, and its last lines as a terminal showed them."""

from __future__ import annotations

from pathlib import Path

from gsmreport.tui.console_log import TAIL_BYTES, console_path, tail
from tests.conftest import shared_data


def test_our_training_log_comes_before_an_imports_console(tmp_path: Path) -> None:
    assert console_path(tmp_path) is None
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "console.log").write_text("imported\n")
    assert console_path(tmp_path) == tmp_path / "logs" / "console.log"
    (tmp_path / "logs" / "stdout.log").write_text("ours\n")
    assert console_path(tmp_path) == tmp_path / "logs" / "stdout.log"


def test_progress_bar_redraws_collapse_to_their_last_draw(tmp_path: Path) -> None:
    log = tmp_path / "out.log"
    log.write_text("start\n 10%|█ | 1/10\r 50%|█████ | 5/10\r100%|██████████| 10/10\n\ndone\n")
    assert tail(log) == ["start", "100%|██████████| 10/10", "done"]
    assert tail(log, 1) == ["done"]


def test_a_large_log_is_read_from_its_end_only(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    lines = [f"line {i} " + "x" * 50 for i in range(5000)]  # ~290 kB, past TAIL_BYTES
    log.write_text("\n".join(lines) + "\n")
    assert log.stat().st_size > TAIL_BYTES
    shown = tail(log, 40)
    assert shown == lines[-40:]
    assert all(line.startswith("line ") for line in tail(log, 10_000))  # no cut first line


def test_missing_file_is_no_lines(tmp_path: Path) -> None:
    assert tail(tmp_path / "gone.log") == []


def test_wandb_output_log_of_a_real_run() -> None:
    run = shared_data("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project")
    output = next(run.rglob("output.log"))
    shown = tail(output, 30)
    assert shown and not any("\r" in line for line in shown)
    assert shown[-1] == "Accuracy on Gujarati test data: 0.3512898330804249"  # W&B's test/accuracy
    assert any(line.startswith("100%|") and "498/498" in line for line in shown)  # last draw
