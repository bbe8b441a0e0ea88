#!/usr/bin/env bash
# Memory while the search index is rebuilt after a burst of changes, one command:
#   Benchmarks/rebuild.sh SOUK_BINARY DATA_DIR [EDITED_PRODUCTS]
# Starts `souk serve` on a seeded catalog (run.sh's data-1000000 for the issue's figure), waits
# for the index, fills the search caches with four HTTP search mixes (wrk, 10 s each, every
# address new), then another process (sqlite3) touches EDITED_PRODUCTS products (default
# 200,000) in one transaction. The next search finds the burst and the index is rebuilt in the
# background while FTS5 answers. Prints the resident memory before, at the peak (VmHWM, reset
# before the edit) and after, the time until searches are answered by the rebuilt index again,
# and the slowest search meanwhile. The touch changes nothing a search sees (updated_at is set
# to itself), so the catalog stays as seeded.
set -euo pipefail
SOUK=$1
DATA=$2
EDITED=${3:-200000}
cd "$(dirname "$0")"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp /tmp/souk-rebuild.XXXXXX.log)
SOUK_STORAGE_DATA_DIR=$DATA SOUK_SERVER_PORT=$PORT SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE=0 \
  SOUK_LOG_LEVEL=notice "$SOUK" serve >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
mb() { awk -v key="$1:" '$1 == key { print int($2 / 1024) }' /proc/$PID/status; }
for _ in $(seq 1 12000); do grep -q "search ready" "$LOG" && break; sleep 0.05; done
grep -q "search ready" "$LOG" || { echo "the index was not built in 10 minutes" >&2; exit 1; }
start_peak=$(mb VmHWM)
for mix in queries.txt queries-broad.txt queries.txt queries-broad.txt; do
  SOUK_QUERIES=$mix SOUK_UNIQUE=1 wrk -t2 -c64 -d10s -s search.lua "http://127.0.0.1:$PORT" >/dev/null
done
before=$(mb VmRSS)
echo 5 > /proc/$PID/clear_refs  # VmHWM from here on
sqlite3 "$DATA/souk.db" >/dev/null \
  "PRAGMA busy_timeout = 10000; UPDATE products SET updated_at = updated_at WHERE rowid <= $EDITED;"
started=$(date +%s.%N)
slowest=0
for i in $(seq 1 1200); do
  took=$(curl -sf -o /dev/null -w "%{time_total}" "http://127.0.0.1:$PORT/api/v1/products?q=guide&_=$i")
  slowest=$(python3 -c "print(max($slowest, $took))")
  # The rebuilt index answers in well under 50 ms at any size; FTS5 on a common word does not.
  if [ "$i" -gt 3 ] && python3 -c "import sys; sys.exit(0 if $took < 0.05 else 1)"; then break; fi
  sleep 0.5
done
elapsed=$(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')")
products=$(sqlite3 "$DATA/souk.db" "SELECT COUNT(*) FROM products WHERE status = 'published'")
echo "rebuild after $EDITED products edited, $products listed: resident $before MB before, peak $(mb VmHWM) MB, $(mb VmRSS) MB after; searched by the rebuilt index again after $elapsed s, slowest search meanwhile ${slowest} s (start-up build peak $start_peak MB)"
echo "PEAK $(mb VmHWM)"
