"""Every shipped preset must validate: a typo in configs/ would be a user's first error."""

from __future__ import annotations

from pathlib import Path

import pytest

from gsmreport.config import TrainConfig, load_yaml_model

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_preset_validates(path: Path) -> None:
    cfg = load_yaml_model(path, TrainConfig)
    assert cfg.model


def test_presets_exist() -> None:
    assert len(CONFIGS) >= 3
