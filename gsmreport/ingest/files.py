"""Open a log file a user pointed at, and say in one line what is wrong with it when it is not one.

Every reader goes through here so that the same bad inputs (a Git-LFS pointer committed in
place of the file, an empty file, binary garbage, a permission error) get the same message,
naming the path and what to do, as a `SourceError` rather than a traceback.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import orjson

from gsmreport.core.errors import GsmReportError

LFS_HEADER = b"version https://git-lfs.github.com/spec/"
# A NUL byte in the first block is the cheapest reliable sign of a binary file.
_SNIFF = 8192


class SourceError(GsmReportError):
    """One input path could not be read; the message names the path and the reason."""


def read_bytes(path: Path) -> bytes:
    """The file's bytes; SourceError for a missing, unreadable, empty or LFS-pointer file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such file") from exc
    except PermissionError as exc:
        raise SourceError(f"{path}: permission denied (check the file's read permission)") from exc
    except IsADirectoryError as exc:
        raise SourceError(f"{path}: is a directory, expected a file") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise SourceError(f"{path}: empty file")
    if data.startswith(LFS_HEADER):
        raise SourceError(f"{path}: is a Git LFS pointer, not the file: run `git lfs pull`")
    return data


def read_text(path: Path) -> str:
    """The file as UTF-8 text; SourceError for binary content as well as read_bytes' cases."""
    data = read_bytes(path)
    if b"\x00" in data[:_SNIFF]:
        raise SourceError(f"{path}: binary data, expected a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); is it the right file?"
        ) from exc


def load_json(path: Path) -> Any:
    """Parse a JSON file. orjson first (about 4x faster: importing a thousand runs is bound by
    this); Python's parser when orjson refuses, because HF writes bare NaN/Infinity tokens
    that only the stdlib accepts, and for the error message when the file is really broken."""
    data = read_bytes(path)
    # A byte-order mark (Windows editors, PowerShell's Out-File) is not content: skip it.
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    text = read_text(path).removeprefix("\ufeff")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Only an error at the very end says the file was cut off; elsewhere it is just broken.
        cut = exc.pos >= len(text.rstrip())
        raise SourceError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            + ("; the file may be truncated" if cut else "")
        ) from exc
    except RecursionError as exc:
        raise SourceError(f"{path}: JSON nested too deeply to read") from exc


def require_mapping(value: Any, path: Path, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(f"{path}: expected {what} (a JSON object), found {type(value).__name__}")
    return value
