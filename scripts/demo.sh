#!/usr/bin/env bash
# Set up (venv + install), run the demo sweep on the bundled corpus (300 English news texts, the
# packaged MiniLM) and export its chosen trial. Extra arguments go to `topicsweep sweep`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
topicsweep sweep default "$@"
topicsweep best --study default
echo "next: topicsweep ui   (MLflow UI on http://127.0.0.1:5000)"
