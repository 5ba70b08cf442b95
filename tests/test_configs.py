"""Every shipped preset must validate: a typo in configs/ would be a user's first error.

Study files (configs/studies/, configs/smoke/) validate as studies, which resolves every run
into a TrainConfig; accelerate's own configs (configs/accelerate/) only need to be YAML
mappings, since accelerate reads them; everything else is a TrainConfig.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gsmreport.core.config import TrainConfig, load_yaml_model
from gsmreport.study.config import load_study

ROOT = Path(__file__).resolve().parents[1] / "configs"
CONFIGS = sorted(ROOT.rglob("*.yaml"))
STUDY_DIRS = ("studies", "smoke")


def _kind(path: Path) -> str:
    top = path.relative_to(ROOT).parts[0]
    return "study" if top in STUDY_DIRS else "accelerate" if top == "accelerate" else "train"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_preset_validates(path: Path) -> None:
    kind = _kind(path)
    if kind == "study":
        plan = load_study(path)
        assert plan.runs and all(r.train or r.eval for r in plan.runs)
    elif kind == "accelerate":
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)
    else:
        assert load_yaml_model(path, TrainConfig).model


def test_presets_exist() -> None:
    kinds = [_kind(p) for p in CONFIGS]
    assert kinds.count("study") >= 6  # the five studies of issue 3 and the SmolLM2 smoke
    assert kinds.count("train") >= 3


def test_study_names_are_unique() -> None:
    """Two presets with one name would share run folders and a comparison report."""
    names = [load_study(p).study.name for p in CONFIGS if _kind(p) == "study"]
    assert len(names) == len(set(names))
