#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (run as root):
#   bash scripts/bootstrap.sh demo   install everything, then start `kiosk demo`
#   bash scripts/bootstrap.sh test   install everything, then run the whole test suite
# It is idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-}"
case "$what" in
  demo|test|install) ;;
  *) echo "usage: bash scripts/bootstrap.sh demo|test|install" >&2; exit 2 ;;
esac

# Debian packages: Mesa GL for Kivy's software rendering, libmtdev (quiet start-up),
# a CJK font (Kivy's default font has no Chinese glyphs), venv for Python, espeak-ng for
# the voice guidance of elder mode; pcscd and libpcsclite-dev for PC/SC readers (pyscard
# compiles against it, with gcc and the Python headers); vsmartcard-vpcd, the virtual reader
# the tests and the demo put virtual cards in (never on a production image: it listens on
# every interface); libcups2-dev for pycups (it compiles against it) and cups-daemon, the CUPS
# the certificate printer is driven through (the tests and the demo start a private cupsd
# with a virtual A4 printer; a terminal uses the system's); libusb-1.0-0 for USB receipt
# printers; postgresql, the server the tests and benchmarks run the reference back office on
# (they start a private cluster of their own and remove it; the package's own cluster is not
# used); rime-data-pinyin-simp, the pinyin dictionary the on-screen keyboard turns typed
# pinyin into Chinese characters with (screens/pinyin.py reads it; nothing is downloaded);
# systemd, whose systemd-analyze and systemd-sysusers check the shipped units
# (deploy/systemd/; in a container it is only installed, never PID 1).
APT_PACKAGES=(python3 python3-venv python3-pip python3-dev gcc libgl1 libegl1 libmtdev1
              fonts-wqy-microhei espeak-ng pcscd libpcsclite-dev vsmartcard-vpcd
              libcups2-dev cups-daemon libusb-1.0-0 postgresql rime-data-pinyin-simp systemd)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "bootstrap: run as root to install Debian packages" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Python environment lives in .venv beside the project.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# Byte-compiled as an installed package is (pip compiles Kivy's and the rest): a terminal's
# cold start never pays for compiling the project's modules. Only changed files are redone.
.venv/bin/python -m compileall -q -j0 kiosk backoffice devices offline_queue provisioning \
  screens bench >/dev/null

case "$what" in
  demo) exec .venv/bin/kiosk demo ;;
  test) exec bash scripts/test.sh ;;
  install) echo "bootstrap: installed; run .venv/bin/kiosk --help" ;;
esac
