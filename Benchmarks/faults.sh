#!/usr/bin/env bash
# The fault suite of issue 15, one command:  Benchmarks/faults.sh [--full]
#
# Runs Tests/faults (pytest) against the real `souk` binary and prints each scenario's figures:
#   duplicates  N orders paid through a fake Stripe, every webhook delivered 3 times at once and
#               out of order (a third paid late: `completed` unpaid + `async_payment_succeeded`)
#               -> N fulfilments, N receipts, one license key per order, none twice.
#   crash       a storm of N orders' webhooks with `kill -9` at K random moments, a restart on the
#               same data dir each time, failed deliveries retried as Stripe does, then every event
#               delivered once more -> every order fulfilled once, no job lost, doubled or dead.
#   mail outage buyers keep paying while the SMTP server refuses (451), then is down, for T
#               seconds -> every receipt and sale e-mail arrives once when it is back.
#   disk full   an upload larger than the space left on the data volume (a 16 MiB tmpfs the test
#               mounts; needs root) -> a clear 507 problem (insufficient_storage), no partial
#               file, the space given back, the store keeps serving.
#   soak        browsing, search, checkout and downloads at 70 % of the measured peak for S
#               seconds on 16 threads -> the server never stops answering (a 20 s stall fails at
#               once, with gdb backtraces beside its log), no error; memory and open
#               descriptors flat (start/end printed).
#
# Short (default, what CI runs): N=60, K=2, T=10 s, S=20 s; about two minutes with a debug build.
# --full (the issue's figures): N=300, K=5, T=120 s, S=600 s; about 17 minutes.
# One figure alone: SOUK_FAULTS_<NAME>=value (duplicate_orders, crash_orders, kills,
# storm_seconds, outage_seconds, soak_seconds, peak_seconds, soak_threads), e.g.
# SOUK_FAULTS_SOAK_SECONDS=60;
# SOUK_FAULTS_SEED=n replays the crash scenario's kill moments.
#
# The binary: $SOUK_BIN if set (nothing is built); else the static release build, built here
# (swift build -c release --static-swift-stdlib --scratch-path .build-release --product souk).
# Python: .venv at the repository root (created if missing) with Tests/e2e/requirements.txt.
# Extra pytest arguments follow, e.g. Benchmarks/faults.sh -k crash.
set -euo pipefail
cd "$(dirname "$0")/.."

level=short
if [ "${1:-}" = "--full" ]; then level=full; shift; fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt

if [ -z "${SOUK_BIN:-}" ]; then
  swift build -c release --static-swift-stdlib --scratch-path .build-release --product souk
  SOUK_BIN="$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/souk"
fi
export SOUK_BIN

echo "fault suite ($level) against $SOUK_BIN"
started=$(date +%s)
status=0
SOUK_FAULTS=$level .venv/bin/pytest Tests/faults -s -q -p no:cacheprovider -rxX "$@" || status=$?
echo "fault suite ($level): $(( $(date +%s) - started )) s, pytest exit status $status"
exit $status
