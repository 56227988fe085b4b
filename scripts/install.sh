#!/usr/bin/env bash
# Install the system packages zhifa needs, only when they are missing.
#
#   scripts/install.sh system   python3 with venv, node + npm, and what WeasyPrint renders documents
#                               with: Pango, HarfBuzz's subsetter (without it a page takes seconds)
#                               and the Noto CJK fonts (for `make run`)
#   scripts/install.sh test     the above + Debian chromium (for `make test`)
#
# As root, missing packages are installed with apt-get (one `apt-get update` first). As another
# user, the missing packages are listed with the command to install them, and the script fails.
set -euo pipefail

missing=()

need() { # need PACKAGE CHECK-COMMAND...
  local package=$1
  shift
  if ! "$@" >/dev/null 2>&1; then
    missing+=("$package")
  fi
}

python_has_venv() {
  command -v python3 && python3 -c 'import venv, ensurepip'
}

has_cjk_font() {
  command -v fc-list && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]
}

has_library() { # has_library SONAME
  ldconfig -p | grep -q "$1"
}

check_product() {
  need python3 command -v python3
  need python3-venv python_has_venv
  need nodejs command -v node
  need npm command -v npm
  need libpango-1.0-0 has_library libpango-1.0.so.0
  need libpangoft2-1.0-0 has_library libpangoft2-1.0.so.0
  need libharfbuzz-subset0 has_library libharfbuzz-subset.so.0
  need fonts-noto-cjk has_cjk_font
}

check_tests() {
  check_product
  need chromium test -x /usr/bin/chromium
}

install_missing() {
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

case "${1:-}" in
  system) check_product ;;
  test) check_tests ;;
  *)
    echo "usage: $0 system|test" >&2
    exit 2
    ;;
esac
install_missing
