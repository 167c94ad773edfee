#!/usr/bin/env bash
# Regenerate the README's screenshots with the project's own command (kiosk screenshot).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
for screen in attract home services identify identify-passport consent verify-failed form form-typing form-incomplete confirm result result-offline result-delivered confirm-certificate result-certificate result-certificate-failed result-not-eligible collect-code result-locker rate rate-bad goodbye goodbye-card-left staff-after-hours out_of_service; do
  for lang in zh en; do
    .venv/bin/kiosk screenshot --screen "$screen" --lang "$lang" --out "$out/$screen-$lang.png" >/dev/null
  done
done
.venv/bin/kiosk screenshot --screen home-offline --lang zh --out "$out/home-offline-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen countdown --lang zh --out "$out/countdown-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen services --lang zh --elder --out "$out/services-elder-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen services --lang zh --high-contrast --out "$out/services-contrast-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen services --lang en --landscape --out "$out/services-landscape-en.png" >/dev/null
.venv/bin/kiosk screenshot --screen form-typing --lang zh --elder --landscape --out "$out/form-typing-elder-landscape-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen goodbye-card-left --lang zh --high-contrast --out "$out/goodbye-card-left-contrast-zh.png" >/dev/null
.venv/bin/kiosk screenshot --screen home --lang zh --profile bank-branch --out "$out/home-bank-zh.png" >/dev/null
ls "$out" | wc -l
