"""Discovery of sources in a folder tree: what is found, in which order, and the keys that
match a source to the run it made before."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gsmreport.ingest.detect import Found, discover, source_keys


def _state(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    history = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]
    (folder / "trainer_state.json").write_text(json.dumps({"log_history": history}))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    for name in ("run-b", "run-a", "nested/deeper/run-c", ".hidden/run-d", "run-e/checkpoint-7"):
        _state(root / name)
    (root / "notes.txt").write_text("not a log")
    (root / "copy__trainer_state.json").write_text((root / "run-a/trainer_state.json").read_text())
    (root / "empty").mkdir()
    (root / "link-to-a").symlink_to(root / "run-a", target_is_directory=True)
    return root


def test_a_recursive_search_finds_each_run_once_in_name_order(tree: Path) -> None:
    found = discover(tree, recursive=True)
    assert all(isinstance(item, Found) for item in found)
    paths = [item.path.relative_to(tree).as_posix() for item in found if isinstance(item, Found)]
    # Loose files of a folder first, then its subfolders by name; hidden and symlinked
    # folders are not entered (a symlink would import its target twice), and folders with
    # nothing to read (`empty`) are passed over, as `notes.txt` is.
    assert paths == [
        "copy__trainer_state.json",
        "nested/deeper/run-c",
        "run-a",
        "run-b",
        "run-e",
    ]


def test_an_unreadable_folder_is_one_error_and_the_rest_is_found(tree: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every folder whatever its mode")
    locked = tree / "locked"
    _state(locked / "run-x")
    locked.chmod(0)
    try:
        found = discover(tree, recursive=True)
    finally:
        locked.chmod(0o755)
    errors = [str(item) for item in found if not isinstance(item, Found)]
    assert f"{locked}: permission denied (check the folder's permissions)" in errors
    assert sum(isinstance(item, Found) for item in found) == 5


def test_source_keys_are_the_found_keys(tree: Path, tmp_path: Path) -> None:
    found = [item for item in discover(tree, recursive=True) if isinstance(item, Found)]
    # Paths a user may give: through a symlinked folder, with '..', a symlink itself.
    (tmp_path / "via").symlink_to(tree, target_is_directory=True)
    given = [
        Found("trainer_state", tmp_path / "via" / "run-b"),
        Found("trainer_state", tree / "nested" / ".." / "run-a"),
        Found("trainer_state", tree / "link-to-a"),
        Found("trainer_state", tree / "run-a" / "."),
        Found("tensorboard", tree / "run-b", files=(tree / "run-b" / "events.out.tfevents.1",)),
        Found("trainer_state", tree / "no-such-run"),
    ]
    items = found + given
    assert source_keys(items) == [item.key for item in items]
    assert source_keys(given)[2] == str((tree / "run-a").resolve())  # a symlink: its target


def test_a_tree_with_nothing_to_read_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "loss.png").write_bytes(b"\x89PNG")
    [error] = discover(tmp_path, recursive=True)
    assert str(error) == f"{tmp_path}: no log gsmreport can read in this folder"
    [error] = discover(tmp_path)
    assert str(error).endswith("(use --recursive to search its subfolders)")
