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

# A second reference: SQLite itself moving the rows from the baseline table
# into homeward's tables (person, identity version, status event and their
# two log entries) with INSERT ... SELECT: no parsing, no validation, no
# per-row calls, no tree. The floor that homeward's schema sets for any importer.
floor_sql() {
  cat <<SQL
PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;
ATTACH '$1' AS b;
INSERT INTO party VALUES ('A','A','party'),('B','B','party'),('M','M','mediator');
BEGIN;
CREATE TEMP TABLE ids AS SELECT rowid AS r, CAST(printf('%016d', rowid) AS BLOB) AS id FROM b.persons;
INSERT INTO person (id, status, status_seq, primary_source, primary_record_id, created_at) SELECT ids.id, p.status, 1, 'A', p.record_id, '2026-01-01T00:00:00.000Z' FROM b.persons p JOIN ids ON ids.r = p.rowid ORDER BY ids.id;
INSERT INTO identity_version (source, record_id, version, person_id, recorded_at, fingerprint, family_name, given_names, patronymic, mother_maiden_name, birth_date, place_of_birth, rank, service_number, unit, power, category, person_to_inform, correspondence_address, id, log_id) SELECT 'A', p.record_id, 1, ids.id, '2026-01-01T00:00:00.000Z', randomblob(32), p.family_name, p.given_names, p.patronymic, p.mother_maiden_name, p.birth_date, p.place_of_birth, p.rank, p.service_number, p.unit, p.power, p.category, p.person_to_inform, p.correspondence_address, lower(hex(randomblob(16))), 2 * ids.r - 1 FROM b.persons p JOIN ids ON ids.r = p.rowid;
INSERT INTO status_event (person_id, seq, status, occurred_on, place, details, reported_by, recorded_at, log_id) SELECT ids.id, 1, p.status, p.status_date, p.status_place, NULL, 'A', '2026-01-01T00:00:00.000Z', 2 * ids.r FROM b.persons p JOIN ids ON ids.r = p.rowid ORDER BY ids.id;
INSERT INTO log_entry (id, time_ms, actor_role, actor_party, event_type, record_type, record_id, salt, commitment)
  SELECT 2 * r - 1 + k, 1767225600000, 'party_officer', 'A', CASE k WHEN 0 THEN 'person.registered' ELSE 'status.recorded' END,
         CASE k WHEN 0 THEN 'identity_version' ELSE 'status_event' END,
         'person/' || lower(hex(randomblob(16))) || '/status/1', randomblob(32), randomblob(32)
  FROM ids, (SELECT 0 AS k UNION ALL SELECT 1) ORDER BY 1;
COMMIT;
SQL
}

printf '%-9s %-8s %10s %10s %11s %13s %15s %11s %13s\n' persons file_MB sqlite3_s floor_s homeward_s ratio_vs_sql3 ratio_vs_floor sqlite3_MB homeward_MB
for n in "${sizes[@]}"; do
  csv="$work/persons-$n.csv"
  "$bin" demo --write-csv "$csv" --persons "$n" >/dev/null
  mb=$(( $(stat -c %s "$csv") / 1000000 ))

  rm -f "$work/base.db"
  /usr/bin/time -f "%e %M" -o "$work/base.time" sqlite3 "$work/base.db" ".mode csv" ".import $csv persons"

  rm -f "$work/floor.db"*
  cat crates/store-sqlite/migrations/0001_registry.sql crates/store-sqlite/migrations/0002_log.sql | sqlite3 "$work/floor.db"
  floor_sql "$work/base.db" > "$work/floor.sql"
  /usr/bin/time -f "%e %M" -o "$work/floor.time" sqlite3 "$work/floor.db" < "$work/floor.sql" >/dev/null

  data="$work/hw-$n"
  "$bin" --data-dir "$data" --log warn demo --no-serve --persons 0 >/dev/null 2>&1
  /usr/bin/time -f "%e %M" -o "$work/hw.time" "$bin" --data-dir "$data" --log warn import persons "$csv" --source A >/dev/null

  read -r bs bkb < "$work/base.time"
  read -r hs hkb < "$work/hw.time"
  read -r fs _ < "$work/floor.time"
  rows=$(sqlite3 "$data/homeward.db" "select count(*) from person")
  [ "$rows" -eq "$n" ] || { echo "homeward stored $rows persons, expected $n" >&2; exit 1; }
  ratio=$(awk -v h="$hs" -v b="$bs" 'BEGIN { printf "%.2f", h / b }')
  fratio=$(awk -v h="$hs" -v f="$fs" 'BEGIN { printf "%.2f", h / f }')
  printf '%-9s %-8s %10s %10s %11s %13s %15s %11s %13s\n' "$n" "$mb" "$bs" "$fs" "$hs" "${ratio}x" "${fratio}x" $((bkb / 1024)) $((hkb / 1024))
  rm -rf "$data" "$work/base.db" "$work/floor.db"* "$csv"
done
