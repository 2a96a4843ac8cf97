#!/usr/bin/env bash
# Import benchmark: homeward's CSV import into SQLite (all validation on,
# identity versions, status events, indexes, one transaction) against the
# sqlite3 shell's `.import` of the same file into a plain table, run in the
# same command on the same machine.
#
#   bash bench/import.sh                 # 100,000 and 1,000,000 persons
#   bash bench/import.sh 50000 200000    # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sqlite3 >/dev/null; then
  echo "installing Debian's sqlite3 for the baseline"
  (apt-get update -qq && apt-get install -y -qq sqlite3) >/dev/null
fi
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

cargo build --release --locked -q -p homeward
bin=$PWD/target/release/homeward
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)

printf '%-10s %-10s %12s %12s %8s %14s %14s\n' persons file_MB sqlite3_s homeward_s ratio sqlite3_MB homeward_peak_MB
for n in "${sizes[@]}"; do
  csv="$work/persons-$n.csv"
  "$bin" demo --write-csv "$csv" --persons "$n" >/dev/null
  mb=$(( $(stat -c %s "$csv") / 1000000 ))

  rm -f "$work/base.db"
  /usr/bin/time -f "%e %M" -o "$work/base.time" sqlite3 "$work/base.db" ".mode csv" ".import $csv persons"

  data="$work/hw-$n"
  "$bin" --data-dir "$data" --log warn demo --no-serve --persons 0 >/dev/null 2>&1
  /usr/bin/time -f "%e %M" -o "$work/hw.time" "$bin" --data-dir "$data" --log warn import persons "$csv" --source A >/dev/null

  read -r bs bkb < "$work/base.time"
  read -r hs hkb < "$work/hw.time"
  rows=$(sqlite3 "$data/homeward.db" "select count(*) from person")
  [ "$rows" -eq "$n" ] || { echo "homeward stored $rows persons, expected $n" >&2; exit 1; }
  ratio=$(awk -v h="$hs" -v b="$bs" 'BEGIN { printf "%.2f", h / b }')
  printf '%-10s %-10s %12s %12s %8s %14s %14s\n' "$n" "$mb" "$bs" "$hs" "${ratio}x" $((bkb / 1024)) $((hkb / 1024))
  rm -rf "$data" "$work/base.db" "$csv"
done
