#!/usr/bin/env bash
# Page speed side by side with nginx, one command:  Benchmarks/pages.sh [--full]
#
# Builds the release binary, seeds demo catalogs of 10k and 100k products (--full: also 1M), and
# on each measures the pages a launch crowd hits — home, search, a category, a product page, a
# seller page — plus two signed-in pages (library, dashboard):
#   1. a single request at a time (curl, 50 requests): p50 and p99, the "≤ 10 ms" target;
#   2. wrk, 2 threads, 64 connections: requests/s, p50, p99;
#   3. the anchor, in the same run on the same cores: nginx serving the very same bytes as a
#      static file (sendfile, no logging), through the same wrk command; the ratio is Souk's
#      requests/s over nginx's.
# Prints a table and appends it to Benchmarks/results-pages-<date>.txt (or $SOUK_BENCH_OUT). Needs wrk and nginx
# (apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=(10000 100000)
[ "${1:-}" = "--full" ] && SIZES=(10000 100000 1000000)
SECONDS_PER_RUN=${SOUK_BENCH_SECONDS:-5}
WORK=${SOUK_BENCH_DIR:-$(mktemp -d /tmp/souk-bench.XXXXXX)}
# nginx's workers run as an unprivileged user: they must be able to read the pages it serves.
chmod 755 "$WORK"
OUT=${SOUK_BENCH_OUT:-$ROOT/Benchmarks/results-pages-$(date -u +%Y-%m-%d).txt}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install wrk nginx-light curl" >&2; exit 1; }
done
source Benchmarks/common.sh
build_souk

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# The nginx anchor: one server for the whole run, serving $WORK/static.
mkdir -p "$WORK/static" "$WORK/nginx/logs"
nginx_port=$((20000 + RANDOM % 20000))
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
error_log $WORK/nginx/logs/error.log warn;
pid $WORK/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  default_type text/html;
  server { listen 127.0.0.1:$nginx_port; root $WORK/static; }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

# p50 and p99 of 50 single requests (after 5 to warm up), in milliseconds.
single() { # url [curl options…]
  local url=$1; shift
  for _ in 1 2 3 4 5; do curl -s -o /dev/null "$@" "$url"; done
  for _ in $(seq 1 50); do curl -s -o /dev/null -w '%{time_total}\n' "$@" "$url"; done |
    sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "%.1f %.1f", t[int(NR * 0.5)], t[int(NR * 0.99)] }'
}
# wrk's summary as "qps p50 p99".
load() { # url [wrk options…]
  local url=$1; shift
  wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/plain.lua "$@" "$url" | grep '^JSON ' | cut -c6- |
    python3 -c 'import json,sys; r=json.load(sys.stdin); print("%d %.1f %.1f %d" % (r["qps"], r["p50_ms"], r["p99_ms"], r["errors"]))'
}

{
echo "# Souk page benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
machine_line
echo "# single: 50 sequential curl requests; load: wrk -t2 -c64 -d${SECONDS_PER_RUN}s; anchor: nginx serving the same bytes"
} | tee -a "$OUT"

for n in "${SIZES[@]}"; do
  data="$WORK/data-$n"
  seed_catalog "$data" "$n"
  port=$((20000 + RANDOM % 20000))
  started=$(date +%s%N)
  SOUK_STORAGE_DATA_DIR="$data" SOUK_SERVER_PORT=$port SOUK_LIMITS_REQUESTS_PER_IP_PER_MINUTE=0 \
    SOUK_LIMITS_LOGIN_PER_IP_PER_MINUTE=0 SOUK_LOG_LEVEL=notice "$SOUK" serve >"$WORK/serve-$n.log" 2>&1 &
  pid=$!; pids+=($pid)
  for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.01; done
  healthy_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  # Pages are measured once the in-memory search index is built (FTS5 answers until then).
  # (Logged at notice: at info every request would be logged too.)
  for _ in $(seq 1 12000); do grep -q "search ready" "$WORK/serve-$n.log" && break; sleep 0.01; done
  index_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  base="http://127.0.0.1:$port"
  slug=$(curl -sf "$base/api/v1/products?limit=1&sort=popular" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
  seller=$(curl -sf "$base/api/v1/products?limit=1&sort=popular" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["seller_id"])')
  category=$(curl -sf "$base/api/v1/categories" | python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["data"][0]["name"]))')
  # A buyer with one purchase, and the demo's first seller (`souk demo seed` prints the password).
  cookies="$WORK/cookies-$n.txt"; rm -f "$cookies"
  curl -sf -c "$cookies" -H 'Content-Type: application/json' -d '{"email":"demo-seller-1@example.com","password":"demo password"}' \
    "$base/api/v1/auth/login" >/dev/null
  session=$(awk '$6 == "souk_session" { print $7 }' "$cookies")

  echo "## $n products: healthy $healthy_ms ms after start (target ≤ 300 ms), search index built after $index_ms ms; resident $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/$pid/status)" | tee -a "$OUT"
  printf '%-28s %14s %24s %24s %8s  %s\n' page "single p50/p99" "souk qps p50 p99" "nginx qps p50 p99" ratio \
    "targets: p99 ≤ 10 ms, ≥ 0.5× (signed in 0.2×)" | tee -a "$OUT"
  for entry in "home|/" "search|/search?q=guide" "category|/categories/$category" "product|/products/$slug" \
               "seller|/sellers/$seller" "dashboard (signed in)|/dashboard" "library (signed in)|/library"; do
    name=${entry%%|*}; path=${entry#*|}
    header=()
    [[ $name == *"signed in"* ]] && header=(-H "Cookie: souk_session=$session")
    read -r s50 s99 <<<"$(single "$base$path" "${header[@]}")"
    read -r qps p50 p99 errors <<<"$(load "$base$path" "${header[@]}")"
    # The anchor: the same bytes, as nginx serves a file.
    file="page-$n-$(echo "$name" | tr -c 'a-z' '_').html"
    curl -s "${header[@]}" "$base$path" -o "$WORK/static/$file"
    read -r nqps n50 n99 _ <<<"$(load "http://127.0.0.1:$nginx_port/$file")"
    ratio=$(python3 -c "print('%.2f' % ($qps / $nqps))")
    # Targets: single p99 ≤ 10 ms; ≥ 0.5× nginx anonymous, ≥ 0.2× signed in.
    bound=0.5; [[ $name == *"signed in"* ]] && bound=0.2
    verdict=$(python3 -c "print('met' if $s99 <= 10 and $ratio >= $bound and $errors == 0 else 'NOT MET')")
    printf '%-28s %14s %24s %24s %7s×  %-7s%s\n' "$name" "$s50/$s99 ms" "$qps $p50/$p99 ms" "$nqps $n50/$n99 ms" "$ratio" \
      "$verdict" "$([ "$errors" = 0 ] && echo "" || echo " ($errors errors)")" | tee -a "$OUT"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
echo "results in $OUT; data folders in $WORK (delete when done)"
