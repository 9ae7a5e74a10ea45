#!/usr/bin/env bash
# Install the system packages the project needs when they are missing:
#   chromium        the real browser the dashboard and report tests drive (through Playwright)
#   fonts-noto-cjk  Chinese glyphs for charts and pages (indicator names are bilingual)
# Uses apt-get (as root, or through sudo). Prints what is missing and fails when it cannot.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
  echo "error: missing system packages: ${missing[*]}; install them (apt-get install ${missing[*]}) and re-run." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages: ${missing[*]} and no apt-get here; install them and re-run." >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
