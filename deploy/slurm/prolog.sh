#!/usr/bin/env bash
# Slurm Prolog (slurm.conf: Prolog=/etc/slurm/gpuledger-prolog.sh), run as root on each
# node of a job before it starts. It
#   1. writes the jobstats-style mapping /run/gpustat/<GPU index> = "<jobid> <uid>" that
#      the gpuledger agent reads for GPUs the job holds (even while idle), and
#   2. registers the job with the gpuledger server (id slurm-<jobid>, labelled
#      hpc_job=<jobid>, so the agent's samples name it).
# Department: the line "<account> <department>" of /etc/gpuledger/departments.
# It never fails the job: a registration the server does not get is logged only.
set -u
GPULEDGER_SERVER=${GPULEDGER_SERVER:-http://gpuledger.internal:8080}
TOKEN_FILE=${GPULEDGER_TOKEN_FILE:-/etc/gpuledger/agent.token}
# An https:// server with a self-signed or private-CA certificate: GPULEDGER_CA_FILE.

mkdir -p /run/gpustat
# SLURM_JOB_GPUS: the GPU indices allocated to the job on this node ("0,1").
for idx in ${SLURM_JOB_GPUS//,/ }; do
  printf '%s %s\n' "$SLURM_JOB_ID" "$SLURM_JOB_UID" > "/run/gpustat/$idx"
done

json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
account=${SLURM_JOB_ACCOUNT:-default}
department=$(awk -v a="$account" '$1 == a {print $2}' /etc/gpuledger/departments 2>/dev/null)
department=${department:-unassigned}
# Only the first node of the job registers it.
if [ "${SLURMD_NODENAME:-}" = "$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n1)" ]; then
  body=$(printf '{"id": "slurm-%s", "user": "%s", "project": "%s", "department": "%s", "status": "running", "start": "%s", "labels": "hpc_job=%s"}' \
    "$SLURM_JOB_ID" "$(json_escape "$SLURM_JOB_USER")" "$(json_escape "$account")" \
    "$(json_escape "$department")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SLURM_JOB_ID")
  curl -fsS -m 5 ${GPULEDGER_CA_FILE:+--cacert "$GPULEDGER_CA_FILE"} -X POST -H "Authorization: Bearer $(cat "$TOKEN_FILE")" -H 'Content-Type: application/json' \
    -d "$body" "$GPULEDGER_SERVER/api/v1/jobs" >/dev/null ||
    logger -t gpuledger-prolog "job $SLURM_JOB_ID: registration with $GPULEDGER_SERVER failed"
fi
exit 0
