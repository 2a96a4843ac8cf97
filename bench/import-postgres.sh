#!/usr/bin/env bash
# Import benchmark on PostgreSQL: homeward's CSV import (all validation on,
# identity versions, status events, log entries, one transaction) against
# psql's `\copy` of the same file into a plain table of text columns, in the
# same run on the same server. Then the same file again: every row is
# unchanged, and homeward must tell so and write nothing.
#
#   bash bench/import-postgres.sh                       # 100,000 persons
#   BENCH_DATABASE_URL=postgres://u@host/db bash bench/import-postgres.sh 20000 200000
#
# Each size gets a fresh database `hw_bench_import` on that server (dropped
# and created; the URL's own database is only used to do so).
set -euo pipefail
cd "$(dirname "$0")/.."
url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
command -v psql >/dev/null || { echo "psql is needed (apt-get install postgresql-client)" >&2; exit 1; }
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null
cargo build --release --locked -q -p homeward
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/homeward
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000)
db=hw_bench_import
bench_url="${url%/*}/$db"

printf '%-9s %10s %11s %9s %20s\n' persons copy_s homeward_s ratio "unchanged again_s"
for n in "${sizes[@]}"; do
  csv="$work/persons-$n.csv"
  "$bin" demo --write-csv "$csv" --persons "$n" >/dev/null
  psql -q "$url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1

  # Baseline: the file into one table of text columns, as fast as PostgreSQL loads CSV.
  cols=$(head -n1 "$csv" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)
  psql -q "$bench_url" -c "CREATE TABLE plain ($cols)" >/dev/null
  /usr/bin/time -f "%e" -o "$work/copy.time" psql -q "$bench_url" -c "\\copy plain FROM '$csv' CSV HEADER" >/dev/null

  export HOMEWARD_DATA_DIR="$work/data-$n" HOMEWARD_DATABASE_URL="$bench_url" HOMEWARD_LOG=warn
  "$bin" init --setup docs/examples/conflict.toml >/dev/null 2>&1
  /usr/bin/time -f "%e" -o "$work/hw.time" "$bin" import persons "$csv" --source A >"$work/hw.out"
  /usr/bin/time -f "%e" -o "$work/again.time" "$bin" import persons "$csv" --source A >"$work/again.out"
  grep -q "0 new persons, 0 amended, $n unchanged" "$work/again.out" || { cat "$work/again.out" >&2; exit 1; }
  rows=$(psql -qtA "$bench_url" -c "SELECT count(*) FROM person")
  [ "$rows" -eq "$n" ] || { echo "homeward stored $rows persons, expected $n" >&2; exit 1; }
  unset HOMEWARD_DATA_DIR HOMEWARD_DATABASE_URL HOMEWARD_LOG

  cs=$(cat "$work/copy.time"); hs=$(cat "$work/hw.time"); as=$(cat "$work/again.time")
  printf '%-9s %10s %11s %8sx %20s\n' "$n" "$cs" "$hs" "$(awk -v h="$hs" -v c="$cs" 'BEGIN { printf "%.1f", h / c }')" "$as"
  psql -q "$url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
done
