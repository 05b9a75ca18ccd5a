#!/usr/bin/env bash
# The Slurm prolog/epilog examples (deploy/slurm) against the real server: the prolog
# writes /run/gpustat-style mapping files and registers the job; the epilog removes only
# its own mappings and records the end. Usage: slurm_scripts_test.sh <gpuledger binary>
set -euo pipefail
BIN=$1
SRC=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$TMP"' EXIT
cd "$TMP"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" admin token create --db l.db --role ingest > tok
"$BIN" server --db l.db --listen 127.0.0.1:0 --retention 0 > server.out &
SERVER=$!
for _ in $(seq 100); do grep -q listening server.out 2>/dev/null && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' server.out)
[ -n "$PORT" ] || fail "server did not start: $(cat server.out)"

# The scripts as shipped, with /run/gpustat moved under the test directory.
for s in prolog epilog; do sed "s#/run/gpustat#$TMP/gpustat#g" "$SRC/deploy/slurm/$s.sh" > "$s.sh"; done
printf '#!/bin/sh\necho node1\n' > scontrol && chmod +x scontrol
printf 'pcb manufacturing\n' > departments
sed -i "s#/etc/gpuledger/departments#$TMP/departments#g" prolog.sh epilog.sh
export PATH=$TMP:$PATH GPULEDGER_SERVER=http://127.0.0.1:$PORT GPULEDGER_TOKEN_FILE=$TMP/tok
export SLURM_JOB_ID=4242 SLURM_JOB_UID=1000 SLURM_JOB_USER='li"si' SLURM_JOB_ACCOUNT=pcb SLURM_JOB_GPUS=0,2
export SLURMD_NODENAME=node1 SLURM_JOB_NODELIST=node1 SLURM_JOB_START_TIME=1795900000

bash prolog.sh
[ "$(cat gpustat/0)" = "4242 1000" ] || fail "gpustat/0: $(cat gpustat/0)"
[ -f gpustat/2 ] && [ ! -f gpustat/1 ] || fail "mapping files: $(ls gpustat)"
row=$(sqlite3 l.db "select user_name, project, department, status, labels from jobs where id = 'slurm-4242'")
[ "$row" = 'li"si|pcb|manufacturing|running|{"hpc_job":"4242"}' ] || fail "registered: $row"

echo "4343 1001" > gpustat/2  # the next job already took GPU 2
SLURM_JOB_EXIT_CODE2=0:0 bash epilog.sh
[ ! -f gpustat/0 ] || fail "own mapping left behind"
[ "$(cat gpustat/2)" = "4343 1001" ] || fail "removed another job's mapping"
row=$(sqlite3 l.db "select status, start_ms, end_ms > start_ms from jobs where id = 'slurm-4242'")
[ "$row" = "succeeded|1795900000000|1" ] || fail "ended: $row"
echo "slurm scripts: ok"
