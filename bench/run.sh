#!/usr/bin/env bash
# `make bench`: okrbot's receiver beside the reference receivers of ../shared/bench, in one run, on the
# same body, connections and database kind; prints both, the ratios, and whether every acknowledged
# delivery is in the database. A benchmark, not a test: figures go to the README.
#   BENCH_SECS (default 10), BENCH_CONNS (16), BENCH_ROUNDS (2), BENCH_PG (libpq URL of the server)
#   BENCH_PARTS (default "ingest apply writeback sync summary dashboard"): which parts to run
#   BENCH_BESIDE_REF=1: also run writeback, sync and summary beside the reference (bench/beside_ref.py)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared=${OKRBOT_SHARED:-$root/../shared}
bench=$shared/bench
body=${BENCH_BODY:-$shared/fixtures/github/issues/octokit-webhooks__opened.payload.json}
secs=${BENCH_SECS:-10} conns=${BENCH_CONNS:-16} rounds=${BENCH_ROUNDS:-2}
pg_server=${BENCH_PG_SERVER:-postgresql://postgres@127.0.0.1:5432}
port=8198
export PATH="$root/.venv/bin:$PATH"   # the reference needs flask, gunicorn and psycopg: ours has them

if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk (Debian package)" >&2
  (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; })
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql_do() { psql "$pg_server/postgres" -qAt -c "$1" >/dev/null; }

run_okrbot() {  # $1 = sqlite|pg ; prints the RESULT line with the stored/acknowledged counts
  local kind=$1 db queue log=$work/okrbot-$1.log
  if [ "$kind" = pg ]; then
    psql_do "drop database if exists okrbot_bench" && psql_do "create database okrbot_bench"
    db="postgresql+psycopg://${pg_server#postgresql://}/okrbot_bench" queue="redis://127.0.0.1:6379/14"
    redis-cli -n 14 flushdb >/dev/null
  else
    rm -f "$work"/okrbot.db*; db="sqlite:///$work/okrbot.db" queue="sqlite:///$work/queue.db"
  fi
  export OKRBOT_DATABASE_URL=$db OKRBOT_QUEUE_URL=$queue OKRBOT_GITHUB_WEBHOOK_SECRET=bench-secret
  okrbot db upgrade >/dev/null
  # exactly the Procfile's web line (2 workers x 4 threads, gthread)
  PORT=$port bash -c "$(sed -n 's/^web: //p' Procfile)" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  # one worker answering is not all of them: wrk's keep-alive connections would all stick to the
  # first worker up, and the run would measure one process instead of the Procfile's
  sleep 2
  local result
  result=$("$bench/load.sh" "http://127.0.0.1:$port/webhooks/github" "$body" bench-secret issues "$conns" "$secs")
  kill -TERM $pid; wait $pid 2>/dev/null || true
  local acked stored
  acked=$(grep -c 'outcome=accepted' "$log" || true)
  stored=$(python3 - "$db" <<'PY'
import sys
from sqlalchemy import create_engine, text
with create_engine(sys.argv[1]).connect() as c:
    print(c.execute(text("select count(*) from deliveries")).scalar())
PY
)
  echo "${result/RESULT/RESULT okrbot=$kind} acknowledged=$acked stored=$stored"
  [ "$stored" -ge "$acked" ] || echo "LOST: $((acked - stored)) acknowledged deliveries are not in the database" >&2
}

run_baseline() {  # $1 = persist|persist-pg
  if [ "$1" = persist-pg ]; then
    psql_do "drop database if exists okrbot_bench_ref" && psql_do "create database okrbot_bench_ref"
    export BENCH_PG="$pg_server/okrbot_bench_ref"
  fi
  BENCH_PORT=$((port + 1)) "$bench/baseline.sh" "$1" "$body" "$conns" "$secs"
}

field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

parts=" ${BENCH_PARTS:-ingest apply writeback sync summary dashboard} "
want() { [[ "$parts" == *" $1 "* ]]; }

want ingest && for round in $(seq "$rounds"); do
  for pair in "sqlite persist" "pg persist-pg"; do
    set -- $pair
    ours=$(run_okrbot "$1"); ref=$(run_baseline "$2")
    echo "round $round: $ours"
    echo "round $round: $ref"
    python3 - "$1" "$(field "$ours" rps)" "$(field "$ref" rps)" "$(field "$ours" p99_ms)" "$(field "$ref" p99_ms)" <<'PY'
import sys
kind, rps, ref_rps, p99, ref_p99 = sys.argv[1], *map(float, sys.argv[2:])
print(f"RATIO {kind}: throughput {rps / ref_rps:.2f}x the reference ({rps:.0f} vs {ref_rps:.0f} rps), "
      f"p99 {p99:.1f} ms vs {ref_p99:.1f} ms")
PY
  done
done

# The worker's side: events applied per second by one worker, and the cost of one event on a key result
# with 10 vs 10,000 work items (target: at most 1.5x), on SQLite and PostgreSQL (bench/apply.py).
# Beside the reference, in the same run: bench/apply.py of 051610d (the code before the concurrent apply,
# exported by git) and of this tree in alternate rounds, medians and the ratio current/reference
# (target: events/s >= 1.0x) (bench/beside_ref.py; BENCH_REF, BENCH_REF_ROUNDS).
want apply && BENCH_PG_SERVER=$pg_server python3 bench/beside_ref.py apply

# Many workers: a 3,000-event backlog over 20 key results x 30 items drained by 1, 2 and 4 `okrbot worker`
# processes on PostgreSQL + Redis, beside okrbot's own PostgreSQL ingest rate measured here, in this run
# (target: 2 workers >= 0.5x the ingest rate, goal 1.0x; 2 workers never slower than 1) (bench/apply_workers.py).
if want apply; then
  ingest=$(run_okrbot pg)
  echo "apply: okrbot's PostgreSQL ingest for the ratio: $ingest"
  BENCH_PG_SERVER=$pg_server BENCH_INGEST_RPS=$(field "$ingest" rps) python3 bench/apply_workers.py
fi

# Write-back under bursts: real signed deliveries through `okrbot serve` against a local fake GitHub API;
# writes per key result per burst (target 1.0) and the highest write rate per credential (target <= 1/s),
# with OKRBOT_WRITE_DELAY=3 s for the bench (bench/writeback.py).
want writeback && python3 bench/writeback.py
[ "${BENCH_BESIDE_REF:-0}" = 1 ] && want writeback && BENCH_REF_ROUNDS=1 python3 bench/beside_ref.py writeback

# Reconcile: API calls and time of the first sync of a key result with 2,000 work items (target: the
# page count, no per-item calls) and of a second sync with nothing changed (target: only 304s) (bench/sync.py).
want sync && BENCH_PG_SERVER=$pg_server python3 bench/sync.py
[ "${BENCH_BESIDE_REF:-0}" = 1 ] && want sync && BENCH_PG_SERVER=$pg_server python3 bench/beside_ref.py sync

# Weekly summary: build_view + render over 1,000 key results and 100,000 work items on SQLite (target under
# 1 s), and its SQL statements at 100 vs 1,000 key results (target: the count does not grow) (bench/summary.py).
want summary && python3 bench/summary.py
[ "${BENCH_BESIDE_REF:-0}" = 1 ] && want summary && python3 bench/beside_ref.py summary

# The dashboard: `GET /` over 1,000 key results and 100,000 work items on SQLite (target under 0.5 s), beside the
# read API's listing of the same key results in the same run (the ratio), and its SQL statements at 100 vs 1,000
# key results (target: the count does not grow) (bench/dashboard.py).
want dashboard && python3 bench/dashboard.py
exit 0  # each part above fails the run by itself (set -e); an unwanted part is not a failure
