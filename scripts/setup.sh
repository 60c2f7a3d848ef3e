#!/usr/bin/env bash
# Set up refsheets on this machine: system libraries (when we may install them), a
# virtual environment in .venv, and the package with its dependencies.
#   scripts/setup.sh        what rendering needs
#   scripts/setup.sh --dev  plus what the tests need (poppler-utils, LibreOffice Writer,
#                           Chromium and its WebDriver for the preview page's test)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libharfbuzz-subset0)       # fast font subsetting for WeasyPrint (else fontTools, 3-10x slower)
if [[ "${1:-}" == "--dev" ]]; then
  packages+=(poppler-utils libreoffice-writer-nogui)  # pdftoppm; LibreOffice converts .docx cards for page counts
  packages+=(chromium chromium-driver)  # a real browser loads `refsheets preview`'s page (selenium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v apt-get >/dev/null && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "setup: installing ${missing[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: cannot install ${missing[*]} (not root, no apt-get); install them by hand" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
extra=""
[[ "${1:-}" == "--dev" ]] && extra="[dev]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import refsheets" 
