#!/usr/bin/env bash
# The search benchmark, one command:  Benchmarks/run.sh [--quick]
#
# Builds the release binary, seeds demo catalogs of 10k, 100k and 1M products (--quick: 10k and
# 100k), and on each measures search three ways on the same corpus and query mix (queries.txt):
#   1. in-process: `souk bench search` against the engine alone (the ceiling of this design);
#   2. HTTP: wrk at 64 connections against `souk serve` (release build) — 100k only, plus the
#      product page and /healthz;
#   3. tantivy (PyPI), a Lucene-class engine, as the anchor.
# Prints a summary and writes it to Benchmarks/results-<date>.txt. Needs wrk (apt) and a venv
# with tantivy (created at .venv-bench if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=(10000 100000 1000000)
[ "${1:-}" = "--quick" ] && SIZES=(10000 100000)
SECONDS_PER_RUN=${SOUK_BENCH_SECONDS:-10}
WORK=${SOUK_BENCH_DIR:-$(mktemp -d /tmp/souk-bench.XXXXXX)}
OUT="$ROOT/Benchmarks/results-$(date -u +%Y-%m-%d).txt"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q tantivy==0.27.0
fi
swift build -c release --static-swift-stdlib --scratch-path .build-release --product souk
SOUK="$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/souk"

{
echo "# Souk search benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo sqlite)"
echo "# ${SECONDS_PER_RUN}s per measurement; query mix: Benchmarks/queries.txt ($(grep -vc '^#' Benchmarks/queries.txt) lines)"
} | tee "$OUT"

for n in "${SIZES[@]}"; do
  data="$WORK/data-$n"
  if [ ! -f "$data/souk.db" ]; then
    SOUK_STORAGE_DATA_DIR="$data" "$SOUK" demo seed --products "$n" --sellers 50 --seed 42 >/dev/null
  fi
  echo "## $n products" | tee -a "$OUT"
  # One searcher (latency, compared with tantivy's one thread), with and without facet counts,
  # then two (this machine's cores: the throughput ceiling HTTP is compared with).
  for options in "--concurrency 1" "--concurrency 1 --no-facets" "--concurrency 2"; do
    SOUK_STORAGE_DATA_DIR="$data" "$SOUK" bench search --queries Benchmarks/queries.txt \
      --seconds "$SECONDS_PER_RUN" $options | sed "s/^/[memory $options] /" | tee -a "$OUT"
  done
  # The FTS5-only engine (search.engine = "fts5"), for reference.
  SOUK_SEARCH_ENGINE=fts5 SOUK_STORAGE_DATA_DIR="$data" "$SOUK" bench search --queries Benchmarks/queries.txt \
    --seconds "$SECONDS_PER_RUN" --concurrency 1 | sed "s/^/[fts5 --concurrency 1] /" | tee -a "$OUT"
  .venv-bench/bin/python Benchmarks/tantivy_anchor.py --db "$data/souk.db" --queries Benchmarks/queries.txt \
    --seconds "$SECONDS_PER_RUN" --facets | tee -a "$OUT"
  .venv-bench/bin/python Benchmarks/tantivy_anchor.py --db "$data/souk.db" --queries Benchmarks/queries.txt \
    --seconds "$SECONDS_PER_RUN" | tee -a "$OUT"

  if [ "$n" = "100000" ]; then
    port=$((20000 + RANDOM % 20000))
    SOUK_STORAGE_DATA_DIR="$data" SOUK_SERVER_PORT=$port SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE=0 \
      SOUK_LOG_LEVEL=warning "$SOUK" serve >"$WORK/serve.log" 2>&1 &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    echo "server resident memory with the index built: $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$pid/status)" | tee -a "$OUT"
    slug=$(curl -sf "http://127.0.0.1:$port/api/v1/products?limit=1&sort=popular" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
    wrk_run() { # name path-or-script
      local line
      line=$(SOUK_QUERIES="$ROOT/Benchmarks/queries.txt" wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency "$@" | grep '^JSON ' | cut -c6-)
      echo "$line"
    }
    echo "http search (wrk, 64 connections): $(wrk_run -s Benchmarks/search.lua "http://127.0.0.1:$port")" | tee -a "$OUT"
    echo "http product page: $(wrk_run -s Benchmarks/plain.lua "http://127.0.0.1:$port/products/$slug")" | tee -a "$OUT"
    echo "http /healthz: $(wrk_run -s Benchmarks/plain.lua "http://127.0.0.1:$port/healthz")" | tee -a "$OUT"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    trap - EXIT
  fi
done
echo "results in $OUT; data folders in $WORK (delete when done)"
