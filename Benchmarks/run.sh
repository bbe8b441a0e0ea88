#!/usr/bin/env bash
# Every launch-day figure of issue 15, one command:  Benchmarks/run.sh [--quick] [--skip-pages] [--skip-launch]
#
# The release build, measured side by side with an anchor in the same run on the same cores; each
# figure is printed with its anchor, the ratio and the target:
#   search  at 10k, 100k and 1M products (--quick: 10k and 100k; demo catalogs, seeded once),
#           for five query mixes — queries.txt (the project's), queries-broad.txt (several
#           common words, short prefixes, heavy filters, every sort, limit=100, browsing without
#           text), queries-everywhere.txt (several words each in nearly every product),
#           queries-probes.txt (prefixes after those words, filters without words), and one
#           drawn at random from each catalog (random_mix.py, a new seed each
#           run unless SOUK_BENCH_MIX_SEED is set): p50 and p99 in-process (`souk bench search`,
#           one searcher, facet counts on)
#           against tantivy 0.27 (PyPI) on the same corpus and mix, one thread, facets on; HTTP
#           queries/s (wrk, 2 threads, 64 connections) against in-process with two searchers,
#           as served (repeated queries answered from the kept answers) and with every address
#           made new (every request searched).
#   pages   Benchmarks/pages.sh on the same catalogs: each store page's single-request p50/p99
#           and requests/s against nginx serving the same bytes; start to healthy, memory.
#   routes  Benchmarks/routes.sh on the largest catalog: 84 routes (store pages with sorts,
#           filters and deep pages, the API, a seller's dashboard from first page to last, sales,
#           a buyer's orders and library, the admin pages), one request at a time, each against
#           the 10 ms target; then 90 on the smallest catalog with a year of 100,000 sales
#           (Benchmarks/seed_sales.py: the orders' pages and deep pages of the sales list too).
#   rebuild Benchmarks/rebuild.sh at 1M products (not with --quick): resident memory while the
#           index is rebuilt after 200,000 products are edited by another process.
#   launch  Benchmarks/launch.py: idle memory and start against a bare Hummingbird server
#           (Benchmarks/bare-hummingbird); webhooks accepted and orders fulfilled against raw
#           SQLite commits; a 256 MiB download at 1 and 16 connections against nginx sendfile,
#           with the store's memory growth.
# Writes it all to Benchmarks/results-<date>.txt as it goes. Needs wrk, nginx and curl
# (apt-get install wrk nginx-light curl) and python3; makes .venv-bench (tantivy) and .venv (the
# end-to-end suite's packages) if missing. SOUK_BENCH_DIR keeps the seeded catalogs between runs;
# SOUK_BENCH_SECONDS sets the length of each timed run (default 10); SOUK_BENCH_BARE names a
# bare-hummingbird binary built earlier.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=(10000 100000 1000000)
pages_option=--full
run_pages=yes
run_launch=yes
for argument in "$@"; do
  case $argument in
    --quick) SIZES=(10000 100000); pages_option= ;;
    --skip-pages) run_pages=no ;;
    --skip-launch) run_launch=no ;;
    *) echo "usage: Benchmarks/run.sh [--quick] [--skip-pages] [--skip-launch]" >&2; exit 2 ;;
  esac
done
SECONDS_PER_RUN=${SOUK_BENCH_SECONDS:-10}
WORK=${SOUK_BENCH_DIR:-$(mktemp -d /tmp/souk-bench.XXXXXX)}
mkdir -p "$WORK"
OUT="$ROOT/Benchmarks/results-$(date -u +%Y-%m-%d).txt"
MIXES=(Benchmarks/queries.txt Benchmarks/queries-broad.txt Benchmarks/queries-everywhere.txt Benchmarks/queries-probes.txt)
# A third mix, drawn at random from each catalog's own words and values (random_mix.py): a new
# one every run unless SOUK_BENCH_MIX_SEED fixes it, so no run measures only mixes tuned for.
MIX_SEED=${SOUK_BENCH_MIX_SEED:-$(( RANDOM % 1000 + 1 ))}

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install wrk nginx-light curl python3" >&2; exit 1; }
done
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install -q tantivy==0.27.0
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
source Benchmarks/common.sh
build_souk
if [ -n "${SOUK_BENCH_BARE:-}" ]; then
  BARE=$SOUK_BENCH_BARE  # a bare-hummingbird binary built earlier
else
  swift build -c release --static-swift-stdlib --package-path Benchmarks/bare-hummingbird \
    --scratch-path Benchmarks/bare-hummingbird/.build-release
  BARE="$(swift build -c release --static-swift-stdlib --package-path Benchmarks/bare-hummingbird \
    --scratch-path Benchmarks/bare-hummingbird/.build-release --show-bin-path)/bare-hummingbird"
fi

pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT

# One figure as launch.py prints it: what, Souk's figure, the anchor, the ratio, target, verdict.
# ratio_figure WHAT SOUK ANCHOR-NAME ANCHOR UNIT TARGET(le|ge) BOUND
ratio_figure() {
  python3 - "$@" <<'PY'
import sys
what, souk, anchor_name, anchor, unit, direction, bound = sys.argv[1:]
souk, anchor, bound = float(souk), float(anchor), float(bound)
ratio = souk / anchor if anchor else float("inf")
met = ratio <= bound if direction == "le" else ratio >= bound
sign = "≤" if direction == "le" else "≥"
print(f"{what:<44} {souk:>17.2f} {unit:<4}  {anchor_name + ' ' + format(anchor, '.2f') + ' ' + unit:<34} "
      f"{ratio:6.2f}×  target {sign} {bound:.2f}×  {'met' if met else 'NOT MET'}")
PY
}
# "… 804 q/s, p50 1.30 ms, p99 1.66 ms …" -> "804 1.30 1.66"
qps_p50_p99() { sed -E 's/.* ([0-9]+) q\/s, p50 ([0-9.]+) ms, p99 ([0-9.]+) ms.*/\1 \2 \3/'; }

{
echo "# Souk launch-day benchmark (issue 15) — $(date -u +%Y-%m-%dT%H:%MZ)"
machine_line
echo "# ${SECONDS_PER_RUN}s per measurement; catalogs: ${SIZES[*]} products (souk demo seed --seed 42)"
} | tee -a "$OUT"

for n in "${SIZES[@]}"; do seed_catalog "$WORK/data-$n" "$n"; done

echo "## search" | tee -a "$OUT"
for n in "${SIZES[@]}"; do
  data="$WORK/data-$n"
  declare -A inprocess_qps=()
  mkdir -p "$WORK/mixes-$n"
  random_mix="$WORK/mixes-$n/random-seed$MIX_SEED.txt"
  python3 Benchmarks/random_mix.py --db "$data/souk.db" --seed "$MIX_SEED" --count 300 >"$random_mix"
  mixes=("${MIXES[@]}" "$random_mix")
  for mix in "${mixes[@]}"; do
    name=$(basename "$mix" .txt)
    one=$(SOUK_STORAGE_DATA_DIR="$data" "$SOUK" bench search --queries "$mix" --seconds "$SECONDS_PER_RUN" --concurrency 1)
    two=$(SOUK_STORAGE_DATA_DIR="$data" "$SOUK" bench search --queries "$mix" --seconds "$SECONDS_PER_RUN" --concurrency 2)
    anchor=$(.venv-bench/bin/python Benchmarks/tantivy_anchor.py --db "$data/souk.db" --queries "$mix" \
      --seconds "$SECONDS_PER_RUN" --facets)
    { echo "[$n $name, 1 searcher] $one"; echo "[$n $name, 2 searchers] $two"; echo "[$n $name] $anchor"; } >>"$OUT"
    read -r _ s50 s99 <<<"$(qps_p50_p99 <<<"$one")"
    read -r _ t50 t99 <<<"$(qps_p50_p99 <<<"$anchor")"
    read -r q2 _ _ <<<"$(qps_p50_p99 <<<"$two")"
    inprocess_qps[$name]=$q2
    ratio_figure "search p50, $name, $n" "$s50" tantivy "$t50" ms le 1 | tee -a "$OUT"
    ratio_figure "search p99, $name, $n" "$s99" tantivy "$t99" ms le 1 | tee -a "$OUT"
  done
  # HTTP search against the same searches in-process (two searchers: this machine's cores).
  port=$((20000 + RANDOM % 20000))
  SOUK_STORAGE_DATA_DIR="$data" SOUK_SERVER_PORT=$port SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE=0 \
    SOUK_LOG_LEVEL=notice "$SOUK" serve >"$WORK/serve-search-$n.log" 2>&1 &
  pid=$!
  # The in-memory index builds in the background (FTS5 answers meanwhile): wait for it, so HTTP is
  # compared with the same engine.
  # (Logged at notice: at info every request would be logged too.)
  for _ in $(seq 1 1200); do grep -q "search ready" "$WORK/serve-search-$n.log" && break; sleep 0.1; done
  # Twice per mix: as served (wrk cycles through the mix, so a repeated query's answer comes from
  # the store's kept answers, as a launch crowd's popular searches do), and with every address
  # made new (SOUK_UNIQUE: each request searched and its JSON written anew).
  for mix in "${mixes[@]}"; do
    name=$(basename "$mix" .txt)
    for unique in 0 1; do
      label="HTTP search q/s, $name, $n"; [ $unique = 1 ] && label="HTTP search q/s, $name, every address new, $n"
      http=$(SOUK_UNIQUE=$unique SOUK_QUERIES="$(realpath "$mix")" wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency \
        -s Benchmarks/search.lua "http://127.0.0.1:$port" | grep '^JSON ' | cut -c6-)
      echo "[$n $name, http wrk -t2 -c64, unique addresses $unique] $http" >>"$OUT"
      qps=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["errors"] == 0, r; print(r["qps"])' "$http")
      ratio_figure "$label" "$qps" "in-process" "${inprocess_qps[$name]}" q/s ge 0.7 | tee -a "$OUT"
    done
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done

if [ $run_pages = yes ]; then
  echo "## pages (Benchmarks/pages.sh)" | tee -a "$OUT"
  SOUK_BENCH_DIR="$WORK" SOUK_BENCH_SECONDS=$(( SECONDS_PER_RUN / 2 > 5 ? SECONDS_PER_RUN / 2 : 5 )) \
    SOUK_BENCH_OUT="$OUT" Benchmarks/pages.sh $pages_option
fi

if [ $run_pages = yes ]; then
  largest=${SIZES[${#SIZES[@]}-1]}
  echo "## every route, one request at a time, $largest products (Benchmarks/routes.sh)" | tee -a "$OUT"
  Benchmarks/routes.sh "$SOUK" "$WORK/data-$largest" | tee -a "$OUT"
  # The same routes in a store with a popular creator's year: 100,000 sales (seed_sales.py).
  smallest=${SIZES[0]}
  if [ ! -d "$WORK/sales-$smallest" ]; then
    cp -r "$WORK/data-$smallest" "$WORK/sales-$smallest.tmp"
    SOUK_STORAGE_DATA_DIR="$WORK/sales-$smallest.tmp" "$SOUK" user list >/dev/null
    python3 Benchmarks/seed_sales.py "$WORK/sales-$smallest.tmp" 100000 && mv "$WORK/sales-$smallest.tmp" "$WORK/sales-$smallest"
  fi
  echo "## every route, one request at a time, $smallest products and 100,000 sales (Benchmarks/routes.sh)" | tee -a "$OUT"
  Benchmarks/routes.sh "$SOUK" "$WORK/sales-$smallest" | tee -a "$OUT"
fi

if [[ " ${SIZES[*]} " == *" 1000000 "* ]]; then
  echo "## memory at 1M products while the index is rebuilt (Benchmarks/rebuild.sh)" | tee -a "$OUT"
  rebuilt=$(Benchmarks/rebuild.sh "$SOUK" "$WORK/data-1000000")
  echo "$rebuilt" | grep -v '^PEAK ' | tee -a "$OUT"
  peak=$(echo "$rebuilt" | sed -n 's/^PEAK //p')
  printf '%-44s %17s      %-34s %7s  target ≤ 600 MB  %s\n' "memory at 1M products, rebuild's peak" "$peak MB" "" "—" \
    "$([ "$peak" -le 600 ] && echo met || echo 'NOT MET')" | tee -a "$OUT"
fi

if [ $run_launch = yes ]; then
  echo "## launch (Benchmarks/launch.py)" | tee -a "$OUT"
  .venv/bin/python Benchmarks/launch.py --souk "$SOUK" --bare "$BARE" --seconds "$SECONDS_PER_RUN" | tee -a "$OUT"
fi
echo "results in $OUT; seeded catalogs in $WORK (delete when done)"
