"""A report folder replaced in one step: rendered into a temporary sibling, then renamed.

A render that fails half-way (bad template, WeasyPrint error, Ctrl-C) used to leave a new
charts/ beside an old report.md; now the old folder stays as it was and the temporary one
is removed. Files the new render does not write (a PDF from an earlier --pdf render, a file
the user put there) are moved into the new folder before the swap, so nothing else is lost;
the manifest of the previous render (freshness.MANIFEST) is the exception: it described
the old files. The swap is two renames (old aside, new in): a reader in between sees no
folder for a moment, never a mix of two renders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gsmreport.core.fsutil import umask
from gsmreport.report.freshness import MANIFEST


@contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield an empty folder beside `final`; on success it becomes `final`."""
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    os.chmod(work, 0o777 & ~umask())  # mkdtemp's 0700 would make the report private
    try:
        yield work
        swap_in(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def swap_in(work: Path, final: Path) -> None:
    """Make `work` the folder `final`, keeping the files of `final` that `work` lacks."""
    if not final.is_dir():
        os.rename(work, final)
        return
    for entry in final.iterdir():
        if entry.name != MANIFEST and not (work / entry.name).exists():
            os.rename(entry, work / entry.name)
    old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
    with contextlib.suppress(FileNotFoundError):  # another render of this run moved it first
        os.rename(final, old)
    os.rename(work, final)
    shutil.rmtree(old, ignore_errors=True)
