#!/usr/bin/env bash
# WeasyPrint (PDF reports) needs Pango from the system. Install it when missing and we can;
# otherwise say exactly what to run. Everything else comes from PyPI.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libpango-1.0'; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Pango for PDF reports (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
  apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
else
  echo "warning: Pango not found; PDF reports need it." >&2
  echo "  Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2
  echo "  macOS: brew install pango" >&2
fi
