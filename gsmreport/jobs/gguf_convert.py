"""Child process: `python -m gsmreport.jobs.gguf_convert GGUF_FILE DEST`.

Loads a GGUF checkpoint through transformers (which de-quantises it to float32) and saves it
as an ordinary Hugging Face folder — model, tokenizer and chat template — so that training
and evaluation load it like any other local model. Written to a sibling temp folder and
renamed into place, so a conversion cut short never looks like a finished model.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from gsmreport.core.fsutil import umask


def convert(gguf_file: Path, dest: Path) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # A model loaded from GGUF keeps a GGUF quantisation marker and refuses save_pretrained,
    # although its weights are plain float32 by now: copy them into a fresh, unmarked model.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict(), strict=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        # 500 MB of weights must never be committed by accident (as pytest and mypy do
        # with their caches: the folder ignores itself).
        (tmp / ".gitignore").write_text("# written by gsmreport prepare-smollm2\n*\n")
        tmp.chmod(0o777 & ~umask())  # mkdtemp made it private; a model folder is not
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m gsmreport.jobs.gguf_convert GGUF_FILE DEST", file=sys.stderr)
        return 2
    dest = convert(Path(args[0]), Path(args[1]))
    print(f"[gsmreport] converted {args[0]} -> {dest}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
