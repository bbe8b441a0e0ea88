# What the benchmark scripts share; sourced by run.sh and pages.sh from the repository root.

# Builds the static release binary (as shipped) and sets $SOUK to it.
build_souk() {
  swift build -c release --static-swift-stdlib --scratch-path .build-release --product souk
  SOUK="$(swift build -c release --static-swift-stdlib --scratch-path .build-release --show-bin-path)/souk"
}

# The machine a result was measured on, as a comment line.
machine_line() {
  echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr);" \
    "$(nginx -v 2>&1); sqlite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)')"
}

# seed_catalog DATA-DIR PRODUCTS: the demo catalog (50 sellers, seed 42), once per folder.
seed_catalog() {
  [ -f "$1/souk.db" ] && return 0
  echo "seeding $2 products into $1…" >&2
  SOUK_STORAGE_DATA_DIR="$1" "$SOUK" migrate >/dev/null
  SOUK_STORAGE_DATA_DIR="$1" "$SOUK" demo seed --products "$2" --sellers 50 --seed 42 >/dev/null
}
