#!/usr/bin/env bash
# Start N local workers on one sweep: scripts/launch_workers.sh NAME N [key=value ...]
# Needs a storage several processes can share, e.g.
#   scripts/launch_workers.sh bbc 8 storage=postgresql://USER:PASSWORD@HOST/optuna
#   scripts/launch_workers.sh bbc 4 storage=journal:///$PWD/outputs/optuna.log
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 NAME N [key=value ...]" >&2
  exit 2
fi
name=$1 workers=$2
shift 2
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
exec topicsweep sweep "$name" "workers=$workers" "$@"
