#!/usr/bin/env bash
# Set up (venv + install) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
# Headless Chromium lets a test look at the MLflow UI (skipped without it); install it where we may.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium for the MLflow UI test (skipped if this fails)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 ||
    echo "could not install chromium; the MLflow UI test will be skipped" >&2
fi
# Tests never touch a model hub: models come from installed packages or are built by the tests.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python -m pytest "$@"
