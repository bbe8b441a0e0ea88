#!/usr/bin/env bash
# Every page and route a person hits, one request at a time:  Benchmarks/routes.sh SOUK DATA_DIR
#
# Starts SOUK on the demo catalog in DATA_DIR (`souk demo seed`; see common.sh), waits for the
# search index, then requests each route five times with curl, as a visitor, the demo's first
# seller, its second (who has sold nothing), its first buyer and an admin (created here once,
# `routes-admin@example.com`): the store pages with sorts, filters and deep pages, the API, the
# seller's dashboard from its first page to its last, the sales page, the buyer's orders and
# library, and the admin pages; with a sales history (`Benchmarks/seed_sales.py`), the orders'
# own pages and deep pages of the sales list too. Prints, per route, the status, the first request (nothing
# kept yet) and the slowest of the four after it, and flags any over the 10 ms target.
# run.sh calls it on its largest catalog; it also runs alone on any data folder.
set -euo pipefail
SOUK=$1
DATA=$2
port=$((20000 + RANDOM % 20000))
log=$(mktemp /tmp/souk-routes.XXXXXX.log)
jar=$(mktemp /tmp/souk-routes.XXXXXX)
db="$DATA/souk.db"

if ! sqlite3 "$db" "SELECT 1 FROM users WHERE email = 'routes-admin@example.com'" | grep -q 1; then
  echo "routes admin password" | SOUK_STORAGE_DATA_DIR="$DATA" "$SOUK" user create \
    --email routes-admin@example.com --name "Routes Admin" --role admin >/dev/null
fi
SOUK_STORAGE_DATA_DIR="$DATA" SOUK_SERVER_PORT=$port SOUK_LOG_LEVEL=notice "$SOUK" serve >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log" "$jar" "$jar".*' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.05; done
for _ in $(seq 1 12000); do grep -q "search ready" "$log" && break; sleep 0.01; done

sign_in() {  # sign_in EMAIL PASSWORD JAR
  curl -sf -c "$3" -H 'Content-Type: application/json' -d "{\"email\":\"$1\",\"password\":\"$2\"}" \
    "$base/api/v1/auth/login" >/dev/null
}
sign_in demo-seller-1@example.com "demo password" "$jar.seller"
sign_in demo-seller-2@example.com "demo password" "$jar.seller2"
sign_in demo-buyer-1@example.com "demo password" "$jar.buyer"
sign_in routes-admin@example.com "routes admin password" "$jar.admin"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
top=$(curl -sf "$base/api/v1/products?limit=1&sort=popular")
slug=$(echo "$top" | json 'd["data"][0]["slug"]')
product=$(echo "$top" | json 'd["data"][0]["id"]')
seller=$(echo "$top" | json 'd["data"][0]["seller_id"]')
category=$(curl -sf "$base/api/v1/categories" | json 'd["data"][0]["name"]' | python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip()))')
cursor=$(curl -sf "$base/api/v1/products?limit=100&sort=price_asc" | json 'd.get("next_cursor") or ""')
# The first seller's products: its newest, one in the middle, one of its oldest (deep pages).
seller1=$(sqlite3 "$db" "SELECT id FROM users WHERE email = 'demo-seller-1@example.com'")
count=$(sqlite3 "$db" "SELECT COUNT(*) FROM products WHERE seller_id = '$seller1'")
middle=$(sqlite3 "$db" "SELECT id FROM products WHERE seller_id = '$seller1' ORDER BY created_at, rowid LIMIT 1 OFFSET $((count / 2))")
oldest=$(sqlite3 "$db" "SELECT id FROM products WHERE seller_id = '$seller1' ORDER BY created_at, rowid LIMIT 1 OFFSET 60")

# Reviews for the admin's pages: one a page back, and one 250,000 deep (or the oldest).
reviews=$(sqlite3 "$db" "SELECT COUNT(*) FROM reviews")
review25=$(sqlite3 "$db" "SELECT id FROM reviews ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 24")
review_deep=$(sqlite3 "$db" "SELECT id FROM reviews ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $(( reviews > 250000 ? 250000 : reviews - 1 ))")
# Orders, when the store has sales (Benchmarks/seed_sales.py): the buyer's newest and oldest,
# and the seller's order a hundred back (a deep page of the sales list).
buyer1=$(sqlite3 "$db" "SELECT id FROM users WHERE email = 'demo-buyer-1@example.com'")
newest=$(sqlite3 "$db" "SELECT id FROM orders WHERE buyer_id = '$buyer1' ORDER BY created_at DESC LIMIT 1")
first_order=$(sqlite3 "$db" "SELECT id FROM orders WHERE buyer_id = '$buyer1' ORDER BY created_at LIMIT 1")
back=$(sqlite3 "$db" "SELECT order_id FROM seller_orders WHERE seller_id = '$seller1' ORDER BY created_at DESC LIMIT 1 OFFSET 100")
routes=(
  "/" "/search" "/search?q=guide" "/search?q=the+best+guide+for+design" "/search?q=gu" "/search?sort=price_asc"
  "/search?sort=price_desc&min=5&max=50" "/search?sort=newest&kind=file" "/search?sort=rating&rating=4"
  "/search?sort=popular" "/search?q=guide&page=50" "/search?page=100000"
  "/search?q=lifetime+updates+instant+download+access" "/categories" "/categories/$category"
  "/categories/$category?sort=price_asc" "/categories/$category?page=99999" "/products/$slug" "/sellers/$seller"
  "/sellers/$seller?sort=newest&page=399" "/api/v1/products?limit=100"
  "/api/v1/products?limit=100&sort=price_asc&cursor=$cursor" "/api/v1/products?q=guide&limit=100&sort=newest"
  "/api/v1/products?min_price=100&max_price=200&limit=100" "/api/v1/categories" "/api/v1/products/$product"
  "/api/v1/products/$product/reviews" "/api/v1/openapi.json" "/healthz" "/metrics" "/signin" "/signup" "/cart"
  "/password/forgot"
  "seller:/dashboard" "seller:/dashboard?older=$middle" "seller:/dashboard?older=$oldest"
  "seller:/dashboard?newer=$oldest" "seller:/dashboard/sales" "seller:/dashboard/sales?by=month"
  "seller:/dashboard/customers" "seller:/dashboard/new" "seller:/dashboard/mail" "seller:/dashboard/webhooks"
  "seller:/dashboard/export" "seller:/dashboard/products/$middle" "seller:/dashboard/products/$middle/licenses"
  "seller:/dashboard/products/$middle/downloads" "seller:/library" "seller:/orders" "seller:/account"
  "seller:/notifications" "seller:/api/v1/orders" "seller:/api/v1/me"
  "admin:/admin" "admin:/admin/users" "admin:/admin/sellers" "admin:/admin/orders" "admin:/admin/reviews"
  "admin:/admin/reviews?older=$review25" "admin:/admin/reviews?older=$review_deep" "admin:/admin/reviews?newer=$review_deep"
  "admin:/admin/jobs"
  "admin:/admin/webhooks"
  "seller:/dashboard/sales?by=week" "seller:/api/v1/orders?limit=100" "seller:/api/v1/products/$product/downloads"
  "seller2:/api/v1/orders" "seller2:/dashboard/sales" "seller2:/dashboard/customers" "seller2:/orders"
  "buyer:/orders" "buyer:/api/v1/orders" "buyer:/api/v1/orders?limit=100" "buyer:/library" "buyer:/api/v1/library"
  "buyer:/notifications" "buyer:/api/v1/notifications" "buyer:/account" "buyer:/cart" "buyer:/api/v1/cart"
  "buyer:/api/v1/tokens" "admin:/api/v1/orders?status=disputed" "admin:/api/v1/orders?limit=100"
)
if [ -n "$newest" ]; then
  routes+=("buyer:/orders/$newest" "buyer:/orders/$first_order" "buyer:/api/v1/orders/$newest"
    "buyer:/api/v1/orders/$first_order/messages" "seller:/orders/$newest" "admin:/admin/orders?after=$newest")
fi
[ -n "$back" ] && routes+=("seller:/dashboard/sales?older=$back" "seller:/api/v1/orders?cursor=$back")
printf '%-64s %6s %10s %14s\n' route status "first ms" "then max ms"
over=0
for entry in "${routes[@]}"; do
  who=visitor; path=$entry
  case $entry in seller:*|seller2:*|buyer:*|admin:*) who=${entry%%:*}; path=${entry#*:} ;; esac
  cookies=()
  [ "$who" != visitor ] && cookies=(-b "$jar.$who")
  results=()
  for _ in 1 2 3 4 5; do results+=("$(curl -s -o /dev/null "${cookies[@]}" -w '%{http_code} %{time_total}' "$base$path")"); done
  status=${results[0]%% *}
  first=$(echo "${results[0]}" | awk '{printf "%.1f", $2 * 1000}')
  then=$(printf '%s\n' "${results[@]:1}" | awk '{ms = $2 * 1000; if (ms > max) max = ms} END {printf "%.1f", max}')
  flag=""
  if awk -v a="$first" -v b="$then" 'BEGIN {exit !(a > 10 || b > 10)}'; then flag="  over 10 ms"; over=$((over + 1)); fi
  label="$who $path"
  printf '%-64s %6s %10s %14s%s\n' "${label:0:64}" "$status" "$first" "$then" "$flag"
done
echo "# $(( ${#routes[@]} )) routes, $over over 10 ms; $(awk '/VmRSS/ {printf "resident %.0f MB", $2/1024}' /proc/$pid/status)"
