"""Faster font subsetting for WeasyPrint's fontTools path: same fonts, less work.

Where the system has no libharfbuzz-subset, WeasyPrint subsets every embedded font with
fontTools, and that was the largest single cost of a report PDF (about 40 % of WeasyPrint's
time, measured with cProfile on a benchmark report: 4 fonts, 0.2-0.6 s each). Two wastes:

- fontTools 4.6x decompiles GSUB and GPOS (the biggest tables of DejaVu) before pruning,
  although WeasyPrint asks for both to be dropped. Deleting them from the font first gives
  the same subset: the only table that depends on them is the legacy `kern` table, which
  fontTools drops when GPOS is present, so it is dropped here in that case too.
- A batch embeds the same fonts with, mostly, the same glyphs in every report (the bold,
  mono and chart fonts of two runs' reports used identical glyph sets). The subset of a given
  font for a given glyph set is kept, per process, and reused.

The replacement mirrors WeasyPrint's own `Font._fonttools_subset` (same subset options) and
is installed only for the WeasyPrint versions it was checked against (KNOWN_VERSIONS);
elsewhere WeasyPrint's method stays. tests/test_report_pdf_fonts.py checks that both give
the same tables, byte for byte except `head`'s timestamp and checksum.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from typing import Any

import weasyprint
import weasyprint.pdf.fonts as weasy_fonts
from fontTools import subset
from fontTools.ttLib import TTFont, TTLibError

# Versions whose Font._fonttools_subset was read and mirrored below.
KNOWN_VERSIONS = ("70.",)
_DROPPED = ("GSUB", "GPOS", "SVG ")  # WeasyPrint's drop_tables additions ("SVG" = "SVG ")
_CACHE_SIZE = 32
# WeasyPrint's own method, kept for the equivalence test (captured before install()).
ORIGINAL_SUBSET = getattr(getattr(weasy_fonts, "Font", None), "_fonttools_subset", None)
_subsets: OrderedDict[tuple[str, int, frozenset[int], bool, bool], bytes] = OrderedDict()


def _options(hinting: bool, notdef_outline: bool) -> subset.Options:
    """WeasyPrint's options, as in its Font._fonttools_subset."""
    options = subset.Options(
        retain_gids=True,
        passthrough_tables=True,
        ignore_missing_glyphs=True,
        hinting=hinting,
        desubroutinize=True,
        notdef_outline=notdef_outline,
    )
    options.drop_tables += ["GSUB", "GPOS", "SVG"]
    return options


def subset_font(
    content: bytes, index: int, gids: frozenset[int], hinting: bool, notdef: bool
) -> bytes:
    """The subset WeasyPrint would embed, without decompiling the tables it drops anyway."""
    options = _options(hinting, notdef)
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=gids)
    font = TTFont(io.BytesIO(content), fontNumber=index)
    # fontTools drops a legacy kern table when GPOS is present; GPOS is about to go.
    legacy_kern = "GPOS" in font and not options.legacy_kern
    for tag in (*_DROPPED, "kern") if legacy_kern else _DROPPED:
        if tag in font:
            del font[tag]
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _cached_subset(self: Any, to_unicode: Any, hinting: bool) -> None:
    """Replacement of weasyprint.pdf.fonts.Font._fonttools_subset (same contract)."""
    content: bytes = self.file_content
    key = (
        hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        int(self.index),
        frozenset(to_unicode),
        bool(hinting),
        bool(self.missing),
    )
    cached = _subsets.get(key)
    if cached is None:
        try:
            cached = subset_font(content, key[1], key[2], key[3], key[4])
        except TTLibError:
            return  # as WeasyPrint does: embed the full font (it logs a warning there)
        _subsets[key] = cached
        if len(_subsets) > _CACHE_SIZE:
            _subsets.popitem(last=False)
    else:
        _subsets.move_to_end(key)
    self.file_content = cached


def install() -> bool:
    """Use the faster subsetting in this process; False (and nothing changed) on a WeasyPrint
    version it was not checked against. Idempotent."""
    font_class = getattr(weasy_fonts, "Font", None)
    if font_class is None or not hasattr(font_class, "_fonttools_subset"):
        return False
    if not str(weasyprint.__version__).startswith(KNOWN_VERSIONS):
        return False
    font_class._fonttools_subset = _cached_subset
    return True
