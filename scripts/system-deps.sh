#!/usr/bin/env bash
# System packages the platform needs on Debian/Ubuntu: WeasyPrint's Pango, a CJK font (PDFs in Chinese),
# poppler-utils (the PDF tests read fonts and text back), and Chromium (the browser tests drive Debian's
# /usr/bin/chromium; Playwright never downloads a browser). Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdffonts >/dev/null 2>&1 || need+=(poppler-utils)
# Each listing is read whole before it is searched: `lister | grep -q` under pipefail fails when grep stops
# at the first match and the lister dies of SIGPIPE — which re-installed what was already there.
fonts=$(fc-list 2>/dev/null || true)
grep -qi "Noto Sans CJK" <<<"$fonts" || need+=(fonts-noto-cjk)
libs=$(ldconfig -p 2>/dev/null || true)
grep -q libpangoft2-1.0 <<<"$libs" || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages (${need[*]}) and no apt-get: install them with your package manager" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
