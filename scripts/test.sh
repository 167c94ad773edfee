#!/usr/bin/env bash
# The whole test suite: lint, types, tests (unit, loopback integration, offscreen UI, CLI).
# The tests start every peer they need (reference back office on loopback, CLI processes)
# and stop them; nothing has to be running before, nothing is left running after.
set -euo pipefail
cd "$(dirname "$0")/.."
export SDL_VIDEODRIVER=offscreen KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON KIVY_METRICS_DENSITY=1
export KIVY_HOME="${TMPDIR:-/tmp}/kiosk-test-kivy-home"
unset DISPLAY WAYLAND_DISPLAY

echo "== ruff"; .venv/bin/ruff check .
echo "== mypy (strict on kiosk, devices, offline_queue, provisioning)"; .venv/bin/mypy
echo "== pytest"; .venv/bin/pytest "$@"
