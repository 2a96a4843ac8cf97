#!/usr/bin/env bash
# Shared-log benchmark (issue 3, "Benchmarks"): everything in one command.
#
#   bash bench/log.sh                    # full run: appends, 1M and 10M proofs, verify over 1M
#   QUICK=1 bash bench/log.sh            # small sizes, to try the script
#   PG=postgres://postgres@127.0.0.1:5432/test bash bench/log.sh   # also PostgreSQL appends
#
# 1. Durable appends on SQLite (WAL, synchronous=FULL, a real file): one change
#    per transaction (Store::add_status_event) and batches of 256 import rows
#    per transaction (Store::begin_import/write_batch/finish), each against
#    plain inserts of the same rows in a fresh file with the same pragmas, in
#    the same run, the methods taking turns in slices of 100 transactions (10
#    batches) so that all see the same disk and CPU weather; baselines are
#    plain tables, and homeward's own tables written with the same plain
#    inserts (the schema's cost without homeward's code); then sequence(4096).
# 2. Inclusion and consistency proofs at 1M (a real log: import of 500,000
#    persons, two entries each) and 10M leaves (synthetic entries, real
#    sequencer), through homeward_service::log, each proof verified.
# 3. `homeward log verify` over the 1M log: wall time and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null
cargo build --release --locked -q -p homeward -p homeward-bench
bin=$CARGO_TARGET_DIR/release/homeward
bench=$CARGO_TARGET_DIR/release/homeward-bench

# A real disk (not tmpfs): the figures are about fsync.
work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/var/tmp}/homeward-log-bench.XXXXXX")}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
fs=$(df -T "$work" | awk 'NR == 2 { print $2 }')
echo "work folder $work ($fs); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${QUICK:-}" ]; then
  rounds=2 single=300 batches=20 small=20000 big=100000 samples=300
else
  rounds=${ROUNDS:-5} single=${SINGLE:-2000} batches=${BATCHES:-200} small=1000000 big=10000000 samples=2000
fi

echo
echo "== 1. durable appends, SQLite (load $(cut -d' ' -f1-3 /proc/loadavg)) =="
"$bench" appends --dir "$work/appends" --rounds "$rounds" --single "$single" --batches "$batches" --batch-rows 256
rm -rf "$work/appends"
echo "-- the log's per-entry CPU work alone (content, RFC 8785, salt, SHA-256; no database):"
"$bench" commit-cost --rows 102400

if [ -n "${PG:-}" ]; then
  echo
  echo "== 4. durable appends, PostgreSQL =="
  "$bench" appends --postgres "$PG" --rounds "$rounds" --single "$single" --batches "$batches" --batch-rows 256
fi

echo
echo "== 2/3. (load $(cut -d' ' -f1-3 /proc/loadavg)) a real log of $small leaves: import $((small / 2)) persons, then log verify =="
data="$work/hw"
csv="$work/persons.csv"
# The example setup: the demo's lists its handover points out of code order,
# which `log verify` reports as an edited conflict record (see the report).
"$bin" --data-dir "$data" --log warn init --setup docs/examples/conflict.toml >/dev/null 2>&1
"$bin" demo --write-csv "$csv" --persons $((small / 2)) >/dev/null
/usr/bin/time -f "%e %M" -o "$work/import.time" "$bin" --data-dir "$data" --log warn import persons "$csv" --source A >/dev/null
read -r is ikb < "$work/import.time"
leaves=$(sqlite3 "$data/homeward.db" "select size from log_tree")
echo "import + sequence + sign: $leaves leaves in ${is} s ($(awk -v n="$leaves" -v s="$is" 'BEGIN { printf "%.0f", n / s }') entries/s end to end), peak $((ikb / 1024)) MB"
rm -f "$csv"
for i in 1 2 3; do
  /usr/bin/time -f "%e %M" -o "$work/verify.time" "$bin" --data-dir "$data" --log warn log verify
  read -r vs vkb < "$work/verify.time"
  echo "log verify run $i: ${vs} s, peak $((vkb / 1024)) MB (goal: under 10 s)"
done
"$bench" proofs --db "$data/homeward.db" --samples "$samples"
rm -rf "$data"

echo
echo "== 2. (load $(cut -d' ' -f1-3 /proc/loadavg)) a log of $big leaves (synthetic entries, real sequencer) =="
"$bench" build-log --db "$work/big.db" --leaves "$big"
"$bench" proofs --db "$work/big.db" --samples "$samples"
