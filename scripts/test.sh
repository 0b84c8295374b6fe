#!/usr/bin/env bash
# Set up (venv + install) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
# Tests never touch a model hub: models come from installed packages or are built by the tests.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python -m pytest "$@"
