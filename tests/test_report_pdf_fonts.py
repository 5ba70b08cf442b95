"""pdf_fonts: our font subsetting gives the fonts WeasyPrint's own fontTools path gives."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import weasyprint
from fontTools.ttLib import TTFont

from gsmreport.report import pdf_fonts


def _font_file(family: str) -> Path:
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", family], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("fontconfig's fc-match is not installed")
    if not found.endswith((".ttf", ".otf")) or not Path(found).is_file():
        pytest.skip(f"no TrueType/OpenType file for {family!r} (fc-match said {found!r})")
    return Path(found)


def _tables(data: bytes) -> dict[str, bytes]:
    """Raw table data; `head` left out: it holds the save time and the file checksum."""
    font = TTFont(io.BytesIO(data))
    return {tag: font.reader[tag] for tag in font.reader.tables if tag != "head"}


@pytest.mark.parametrize("family", ["DejaVu Sans", "DejaVu Sans:bold", "DejaVu Sans Mono"])
@pytest.mark.parametrize("missing", [False, True])
def test_same_subset_as_weasyprint(family: str, missing: bool) -> None:
    if pdf_fonts.ORIGINAL_SUBSET is None:
        pytest.skip(f"WeasyPrint {weasyprint.__version__} has no fontTools subset method")
    content = _font_file(family).read_bytes()
    glyphs = {gid: "" for gid in [0, *range(3, 90), 120, 250, 600]}  # ASCII and a few more
    theirs = SimpleNamespace(file_content=content, index=0, missing={0x1F600: 1} if missing else {})
    pdf_fonts.ORIGINAL_SUBSET(theirs, glyphs, False)
    ours = pdf_fonts.subset_font(content, 0, frozenset(glyphs), False, missing)
    assert len(ours) < len(content) / 4  # really a subset
    assert _tables(ours) == _tables(theirs.file_content)


def test_installed_for_the_checked_version_and_cached() -> None:
    installed = pdf_fonts.install()
    assert installed == str(weasyprint.__version__).startswith(pdf_fonts.KNOWN_VERSIONS)
    if not installed:
        pytest.skip(f"WeasyPrint {weasyprint.__version__} keeps its own subsetting")
    content = _font_file("DejaVu Sans").read_bytes()
    first = SimpleNamespace(file_content=content, index=0, missing={})
    second = SimpleNamespace(file_content=content, index=0, missing={})
    pdf_fonts._cached_subset(first, {0: "", 36: ""}, False)
    pdf_fonts._cached_subset(second, {36: "", 0: ""}, False)
    assert first.file_content is second.file_content  # the second came from the cache
