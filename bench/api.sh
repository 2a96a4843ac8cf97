#!/usr/bin/env bash
# API benchmark (issue 5, "Benchmark"): requests per second and p99 latency of
# reading one person's record as an authenticated party officer, against a
# trivial handler of the same server (`/healthz`) as the ceiling, with the
# same load generator (Debian's wrk), duration and connections, in one run.
# SQLite, 1,000,000 persons by default.
#
#   bash bench/api.sh                     # 1,000,000 persons, 10 s per target
#   PERSONS=100000 DURATION=5s CONNECTIONS=16 bash bench/api.sh
#
# Also measured, to split the cost of a read: `/api/v1/me` with the same token
# (the token lookup alone), and the same read by the officer of the other
# party, who may not see that person (404): the token is looked up and the
# record fetched and checked, but no access-log row is written.
set -euo pipefail
cd "$(dirname "$0")/.."

persons="${PERSONS:-1000000}"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-2}"

if ! command -v wrk >/dev/null; then
  echo "installing Debian's wrk"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
fi

if [ -n "${HOMEWARD_BIN:-}" ]; then bin="$HOMEWARD_BIN"; else
  cargo build --release --locked -q -p homeward
  bin="${CARGO_TARGET_DIR:-$PWD/target}/release/homeward"
fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export HOMEWARD_DATA_DIR="$work/data" HOMEWARD_LOG=warn
unset HOMEWARD_DATABASE_URL HOMEWARD_CONFIG

echo "== data: $persons persons in SQLite ($work)"
"$bin" init --setup docs/examples/conflict.toml >/dev/null
"$bin" demo --write-csv "$work/persons.csv" --persons "$persons" >/dev/null
start=$(date +%s)
"$bin" import persons "$work/persons.csv" --source A >/dev/null
echo "   imported in $(( $(date +%s) - start )) s"
for party in A B; do
  user="officer-$(echo "$party" | tr 'A-Z' 'a-z')"
  echo "a long enough bench password" | "$bin" user add "$user" --role party_officer --party "$party" --password-stdin >/dev/null
done
token_a="$("$bin" user token officer-a --name bench 2>/dev/null)"
token_b="$("$bin" user token officer-b --name bench 2>/dev/null)"

"$bin" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
addr=""
for _ in $(seq 1 300); do
  addr="$(grep -o 'http://[0-9.:]*' "$work/serve.out" | head -n1 || true)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.err"; echo "the server printed no URL" >&2; exit 1; }

# A person of power A registered by A: officer-a sees it, officer-b does not.
page="$(curl -sf -H "Authorization: Bearer $token_a" "$addr/api/v1/persons?power=A&limit=1")"
id="$(printf '%s' "$page" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -n1)"
[ -n "$id" ] || { echo "no person found: $page" >&2; exit 1; }
curl -sf -o /dev/null -H "Authorization: Bearer $token_a" "$addr/api/v1/persons/$id"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token_b" "$addr/api/v1/persons/$id")" = 404 ]

# wrk's "99%" line in ms.
p99_ms() {
  awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1;
         printf "%.2f", v * f }' "$1"
}
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1"; }
errors() { awk '/Non-2xx or 3xx responses:/ { print $5; f = 1 } END { if (!f) print 0 }' "$1"; }

run() { # name token path
  wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $2" "$addr$3" > "$work/$1.txt"
}
echo "== wrk -t$threads -c$connections -d$duration on loopback, $(nproc) cores shared by server and wrk"
run ceiling "$token_a" /healthz
run me "$token_a" /api/v1/me
run read "$token_a" "/api/v1/persons/$id"
run hidden "$token_b" "/api/v1/persons/$id"

printf '%-44s %10s %9s %10s\n' target requests/s p99_ms non-2xx
printf '%-44s %10s %9s %10s\n' "GET /healthz (ceiling)" "$(rps "$work/ceiling.txt")" "$(p99_ms "$work/ceiling.txt")" "$(errors "$work/ceiling.txt")"
printf '%-44s %10s %9s %10s\n' "GET /api/v1/me (token lookup only)" "$(rps "$work/me.txt")" "$(p99_ms "$work/me.txt")" "$(errors "$work/me.txt")"
printf '%-44s %10s %9s %10s\n' "GET /api/v1/persons/{id} as officer-a" "$(rps "$work/read.txt")" "$(p99_ms "$work/read.txt")" "$(errors "$work/read.txt")"
printf '%-44s %10s %9s %10s\n' "same, officer-b: 404, no access-log row" "$(rps "$work/hidden.txt")" "$(p99_ms "$work/hidden.txt")" "-"
awk -v r="$(rps "$work/read.txt")" -v c="$(rps "$work/ceiling.txt")" -v h="$(rps "$work/hidden.txt")" \
  'BEGIN { printf "read / ceiling: %.1f%% (goal >= 50%%); read without the access-log write / ceiling: %.1f%%\n", 100 * r / c, 100 * h / c }'
rows="$(sqlite3 "$work/data/homeward.db" 'SELECT count(*) FROM access_log' 2>/dev/null || echo '?')"
echo "access-log rows written: $rows"
