"""Where the train form finds its presets, wherever the TUI was started.

Searched in order, each folder once: the folder named in the user settings (`presets_dir`),
the nearest `configs/` at or above the working directory (the project the user is in), and
the `configs/` beside the runs folder (its parent: `gsmreport --runs-dir ~/proj/runs` from
anywhere finds `~/proj/configs`). No Textual here, so it is tested without a terminal.
"""

from __future__ import annotations

from pathlib import Path

from gsmreport.core.settings import Dirs
from gsmreport.core.user_settings import UserSettings, load_user_settings
from gsmreport.tui.train_form import discover_presets

CONFIGS = "configs"


def _nearest_configs(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / CONFIGS).is_dir():
            return folder / CONFIGS
    return None


def preset_roots(dirs: Dirs, settings: UserSettings, cwd: Path | None = None) -> list[Path]:
    """The preset folders that exist, in search order, without repeats (module docstring)."""
    cwd = (cwd or Path.cwd()).resolve()
    candidates: list[Path | None] = [
        Path(settings.presets_dir).expanduser() if settings.presets_dir else None,
        _nearest_configs(cwd),
        (cwd / dirs.runs).resolve().parent / CONFIGS,
    ]
    found: list[Path] = []
    for root in candidates:
        if root is not None and root.is_dir() and root.resolve() not in found:
            found.append(root.resolve())
    return found


def shown(path: Path, cwd: Path | None = None) -> Path:
    """A preset as the form names it: relative to the working directory when under it (as a
    user would type it for `gsmreport train`), absolute otherwise."""
    cwd = (cwd or Path.cwd()).resolve()
    absolute = path if path.is_absolute() else cwd / path
    try:
        return absolute.relative_to(cwd)
    except ValueError:
        return absolute


def find_presets(dirs: Dirs, settings: UserSettings | None = None) -> list[Path]:
    """Every preset of every root (see `discover_presets` for the order within one)."""
    settings = settings or load_user_settings()
    out: list[Path] = []
    for root in preset_roots(dirs, settings):
        out += [shown(p) for p in discover_presets(root)]
    return list(dict.fromkeys(out))


def initial_preset(presets: list[Path], settings: UserSettings) -> Path | None:
    """The preset the form opens on: the one launched last while it still exists, else the
    first found (the CPU demos come first)."""
    last = settings.last_preset
    if last and Path(last).is_file():
        return shown(Path(last))
    return presets[0] if presets else None


def searched_text(dirs: Dirs, settings: UserSettings) -> str:
    """Where presets were looked for, for the form's 'none found' line."""
    cwd = Path.cwd().resolve()
    looked = [str(shown(r)) for r in preset_roots(dirs, settings)]
    looked = looked or [f"{CONFIGS}/ at or above {cwd}", f"beside {dirs.runs}"]
    return ", ".join(looked)
