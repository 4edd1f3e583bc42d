#!/usr/bin/env bash
# Installs uv if missing (from PyPI, the only registry we rely on) and the system packages the
# project needs (a CJK font for PDFs, poppler for checking rendered pages). Idempotent and quiet.
set -euo pipefail
if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  echo "[bootstrap] installing uv"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
fi
need_apt=()
[ -d /usr/share/fonts/opentype/noto ] || fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[bootstrap] installing ${need_apt[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >/dev/null 2>&1 \
    || echo "[bootstrap] could not install ${need_apt[*]}; PDFs fall back to reportlab's built-in CJK font"
fi
