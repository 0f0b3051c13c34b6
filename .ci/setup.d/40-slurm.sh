#!/usr/bin/env bash
# Slurm (slurm-wlm) and munge for the `executor: slurm` equivalence test of packages/transllm: the test itself
# writes a single-node slurm.conf, starts munged, slurmctld and slurmd, and stops them by pid. Idempotent.
set -euo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
