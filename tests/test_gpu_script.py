"""benchmarks/gpu.sh on a machine without a GPU: what it says and does before any benchmark.

The GPU figures themselves need a CUDA device; these tests pin the script's CPU-side
behaviour: its syntax, the one line and exit 2 without CUDA or torch, and in --dry-run the
package check, the wheel install it would do and the benchmark commands (whose scripts must
import and parse here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"
# Makes `trl` and `datasets` look absent to the interpreter, as on the GPU machine.
HIDE = """
import sys

class _Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"trl", "datasets"}:
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, _Hide())
"""


def _gpu_sh(
    *args: str, python: str = sys.executable, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        # No GPU for these tests even on a CUDA machine: gpu.sh would start measuring.
        env={**os.environ, "PYTHON": python, "CUDA_VISIBLE_DEVICES": "", **env},
    )


def test_script_is_valid_bash_and_has_help() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    proc = _gpu_sh("--help")
    assert proc.returncode == 0 and "Usage: benchmarks/gpu.sh [--dry-run]" in proc.stdout
    bad = _gpu_sh("--fast")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "gpu.sh: unknown argument '--fast' (see benchmarks/gpu.sh --help)"


def test_without_cuda_it_says_so_in_one_line_and_measures_nothing() -> None:
    proc = _gpu_sh()
    assert proc.returncode == 2
    (line,) = proc.stdout.strip().splitlines()
    assert line.startswith("[gpu.sh] no CUDA device visible to torch")
    assert "nothing measured" in line


def test_without_torch_it_says_which_python_lacks_it(tmp_path: Path) -> None:
    bare = tmp_path / "python"  # an interpreter that cannot import torch
    bare.write_text(f'#!/bin/sh\nexec {sys.executable} -c "import sys; sys.exit(1)" "$@"\n')
    bare.chmod(0o755)
    proc = _gpu_sh(python=str(bare))
    assert proc.returncode == 2
    assert f"torch is not importable by {bare}" in proc.stdout


def test_dry_run_checks_packages_and_prints_the_plan(tmp_path: Path) -> None:
    proc = _gpu_sh("--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any("train_overhead.py --gpu --steps 40 --repeats 3" in x for x in lines)
    assert any("eval_throughput.py --problems 128" in x for x in lines)
    assert any("would run (gpu_eval_check, at most 90s)" in x for x in lines)
    assert lines[-1] == "[gpu.sh] dry run: nothing measured"


@pytest.mark.slow  # two dry runs, each starting torch: about 30 s on a busy machine
def test_dry_run_names_missing_packages_and_the_install_from_wheels(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(HIDE)
    (tmp_path / "wheels").mkdir()
    env = {"PYTHONPATH": str(tmp_path / "site")}
    proc = _gpu_sh("--dry-run", "--wheels", str(tmp_path / "wheels"), **env)
    out = proc.stdout
    assert proc.returncode == 1, out  # a part would be skipped
    assert "[gpu.sh] train_overhead needs: trl datasets" in out
    assert f"--no-index --find-links {tmp_path / 'wheels'} trl datasets" in out
    assert "train_overhead skipped: trl datasets not importable" in out
    assert "would run (eval_throughput" in out  # the evaluation parts need neither
    assert "would run (gpu_eval_check" in out
    missing = _gpu_sh("--dry-run", "--wheels", str(tmp_path / "none"), **env)
    assert f"no wheels folder at {tmp_path / 'none'}" in missing.stdout
