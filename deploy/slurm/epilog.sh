#!/usr/bin/env bash
# Slurm Epilog (slurm.conf: Epilog=/etc/slurm/gpuledger-epilog.sh): removes the job's
# GPU mapping files and records its end with the gpuledger server. Never fails the job.
set -u
GPULEDGER_SERVER=${GPULEDGER_SERVER:-http://gpuledger.internal:8080}
TOKEN_FILE=${GPULEDGER_TOKEN_FILE:-/etc/gpuledger/agent.token}
# An https:// server with a self-signed or private-CA certificate: GPULEDGER_CA_FILE.

for idx in ${SLURM_JOB_GPUS//,/ }; do
  # Only our own mapping: a later job may already own the GPU.
  if [ "$(cut -d' ' -f1 "/run/gpustat/$idx" 2>/dev/null)" = "$SLURM_JOB_ID" ]; then rm -f "/run/gpustat/$idx"; fi
done

if [ "${SLURMD_NODENAME:-}" = "$(scontrol show hostnames "$SLURM_JOB_NODELIST" 2>/dev/null | head -n1)" ]; then
  # PATCH ends the job (and its open holds with it). The start is the job's own
  # (SLURM_JOB_START_TIME, Unix seconds, Slurm 23.02+).
  start=${SLURM_JOB_START_TIME:+$(date -u -d "@$SLURM_JOB_START_TIME" +%Y-%m-%dT%H:%M:%SZ)}
  status=succeeded
  case "${SLURM_JOB_EXIT_CODE2:-0:0}" in 0:0) ;; *) status=failed ;; esac
  body=$(printf '{"status": "%s", %s"end": "%s"}' "$status" "${start:+\"start\": \"$start\", }" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
  curl -fsS -m 5 ${GPULEDGER_CA_FILE:+--cacert "$GPULEDGER_CA_FILE"} -X PATCH -H "Authorization: Bearer $(cat "$TOKEN_FILE")" -H 'Content-Type: application/json' \
    -d "$body" "$GPULEDGER_SERVER/api/v1/jobs/slurm-$SLURM_JOB_ID" >/dev/null ||
    logger -t gpuledger-epilog "job $SLURM_JOB_ID: end not recorded with $GPULEDGER_SERVER"
fi
exit 0
