"""What gsmreport remembers between sessions: the TUI's last preset, a presets folder.

A small JSON file in the user's config folder (`$XDG_CONFIG_HOME/gsmreport/settings.json`,
else `~/.config/gsmreport/settings.json`; `GSMREPORT_SETTINGS` names another file). It is a
convenience, never a requirement: a missing, unreadable or damaged file reads as the defaults
and a failed write is silent, so no command fails because of it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from gsmreport.core.fsutil import atomic_write_text

SETTINGS_ENV = "GSMREPORT_SETTINGS"


@dataclass(frozen=True)
class UserSettings:
    presets_dir: str | None = None
    """A folder of training presets, searched before the ones found beside the project."""
    last_preset: str | None = None
    """The preset the train form last launched (absolute path): the form opens on it."""


def settings_path() -> Path:
    explicit = os.environ.get(SETTINGS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gsmreport" / "settings.json"


def load_user_settings(path: Path | None = None) -> UserSettings:
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UserSettings()
    if not isinstance(data, dict):
        return UserSettings()
    known = {f.name for f in fields(UserSettings)}
    return UserSettings(
        **{k: v for k, v in data.items() if k in known and (v is None or isinstance(v, str))}
    )


def save_user_settings(settings: UserSettings, path: Path | None = None) -> bool:
    """Write the settings; False (and nothing raised) when the folder is not writable."""
    path = path or settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(asdict(settings), indent=2) + "\n")
    except OSError:
        return False
    return True


def remember(**changes: str | None) -> bool:
    """Update some settings in place (read, change, write)."""
    return save_user_settings(replace(load_user_settings(), **changes))
