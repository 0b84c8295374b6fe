#!/usr/bin/env bash
# Set up (venv + install) and run the demo on the bundled corpus (300 English news texts).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
topicsweep run "$@"
