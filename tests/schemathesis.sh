#!/usr/bin/env bash
# Property-based checks of the JSON API against its own OpenAPI document with
# schemathesis (PyPI), in a bounded run (issue 5, "Bad input").
#
# Builds the binary, loads a small demo into a temporary data folder, serves
# it on loopback, takes an API token for a role and runs `schemathesis run`
# with its checks. Every 5xx, every answer that the document does not
# describe (status, content type, schema, headers), schema-invalid input
# that is accepted, and a request that gets through without its token fail
# the run.
#
# Usage: tests/schemathesis.sh            (mediator, then officer-a)
# Env:   SCHEMATHESIS_MAX_EXAMPLES (default 50),
#        SCHEMATHESIS_CHECKS (default all), SCHEMATHESIS_EXCLUDE (default positive_data_acceptance),
#        SCHEMATHESIS_VERSION (default 4.*),
#        HOMEWARD_BIN (a built binary; default: cargo build), KEEP=1 keeps the temp dir,
#        SCHEMATHESIS_VENV reuses a venv that has schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
version="${SCHEMATHESIS_VERSION:-4.*}"
work="$(mktemp -d "${TMPDIR:-/tmp}/homeward-schemathesis.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" != 1 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

if [ -z "${HOMEWARD_BIN:-}" ]; then
  cargo build --quiet --locked -p homeward
  HOMEWARD_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/homeward"
fi

echo "== schemathesis ($version) in a venv under $work"
if [ -n "${SCHEMATHESIS_VENV:-}" ]; then ln -s "$SCHEMATHESIS_VENV" "$work/venv"; else
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi
"$work/venv/bin/schemathesis" --version

export HOMEWARD_DATA_DIR="$work/data" HOMEWARD_LOG=warn
unset HOMEWARD_DATABASE_URL HOMEWARD_CONFIG
"$HOMEWARD_BIN" demo --persons 200 --no-serve > /dev/null

"$HOMEWARD_BIN" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(grep -o 'http://[0-9.:]*' "$work/serve.out" | head -n1 || true)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/serve.err"; echo "the server printed no URL" >&2; exit 1; }
echo "== serving on $addr"

status=0
cd "$work" # schemathesis keeps its cache (.schemathesis/) in the working directory
for user in mediator officer-a; do
  token="$("$HOMEWARD_BIN" user token "$user" --name schemathesis 2>/dev/null)"
  echo "== schemathesis as $user: --max-examples $max_examples"
  # Every check but positive_data_acceptance: a schema-valid request may
  # still be refused by the domain's rules (an unknown status, an illegal
  # transition, a party code that is not one of the conflict's, an empty
  # CSV) with a documented 4xx problem, which that check counts as a failure.
  if ! timeout 300 "$work/venv/bin/schemathesis" --no-color run "$addr/api/v1/openapi.json" \
    --url "$addr" \
    --header "Authorization: Bearer $token" \
    --checks "${SCHEMATHESIS_CHECKS:-all}" \
    --exclude-checks "${SCHEMATHESIS_EXCLUDE:-positive_data_acceptance}" \
    --max-examples "$max_examples" \
    --phases examples,coverage,fuzzing \
    --request-timeout 10 \
    --seed 19062026; then
    status=1
  fi
done
if grep -q "internal error" "$work/serve.err"; then
  echo "== the server logged internal errors:" >&2
  grep "internal error" "$work/serve.err" | head -n 20 >&2
  status=1
fi
exit "$status"
