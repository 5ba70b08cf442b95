#!/usr/bin/env bash
# WeasyPrint (PDF reports) needs Pango from the system; the PDF tests read the PDFs back with
# poppler-utils (pdfinfo, pdftotext, pdftoppm). Install what is missing when we can;
# otherwise say exactly what to run. Everything else comes from PyPI.
set -euo pipefail
can_apt() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; }
updated=0
apt_install() {
  if [ "$updated" = 0 ]; then apt-get update -qq; updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}
if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0'; then
  if can_apt; then
    echo "installing Pango for PDF reports (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
    apt_install libpango-1.0-0 libpangoft2-1.0-0
  else
    echo "warning: Pango not found; PDF reports need it." >&2
    echo "  Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2
    echo "  macOS: brew install pango" >&2
  fi
fi
if ! command -v pdftoppm >/dev/null; then
  if can_apt; then
    # Only the tests need it (they skip, saying why, without it): never fail the set-up here.
    echo "installing poppler-utils for the PDF tests (apt-get install poppler-utils)"
    apt_install poppler-utils || echo "warning: poppler-utils not installed; the PDF tests will skip" >&2
  else
    echo "note: poppler-utils (pdftoppm) not found; the PDF tests will skip" >&2
  fi
fi
