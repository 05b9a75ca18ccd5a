#!/usr/bin/env bash
# Runs a command with a fresh throwaway PostgreSQL cluster, named to the tests by
# GPULEDGER_TEST_PG; the cluster is stopped and removed however the command ends. The
# cluster lives under /tmp: as root it belongs to the 'postgres' user, who may not be
# able to reach a checkout under /root.
#   scripts/with-pg.sh COMMAND [ARGS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/gpuledger-pg.XXXXXX)
chmod 755 "$dir"
cleanup() { "$here/pg-test-cluster.sh" stop "$dir/cluster"; rm -rf "$dir"; }
trap cleanup EXIT
GPULEDGER_TEST_PG=$("$here/pg-test-cluster.sh" start "$dir/cluster")
export GPULEDGER_TEST_PG
echo "with-pg: PostgreSQL 15 at $GPULEDGER_TEST_PG"
"$@"
