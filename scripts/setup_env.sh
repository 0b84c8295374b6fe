# Sourced by demo.sh and test.sh: create or reuse the virtual environment and install the project.
# TOPICSWEEP_VENV picks another location (default: .venv in the project root).
venv="${TOPICSWEEP_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment in $venv" >&2
  python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
stamp="$venv/.topicsweep-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing topicsweep and its dependencies into $venv (first time: a few minutes)" >&2
  python -m pip install --quiet --upgrade pip
  # The CPU build of torch keeps installs small; where it is not on hand pip picks the default build.
  python -c "import torch" 2>/dev/null || python -m pip install --quiet "torch==2.13.0" || python -m pip install --quiet "torch>=2.2"
  python -m pip install --quiet -e ".[test,zh]"
  touch "$stamp"
fi
# FASTopic (model=fastopic): its declared dependency topmost requires torchvision and would replace the CPU
# torch; FASTopic's own code needs only what we install anyway, so it goes in without dependencies.
if ! python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('fastopic') is None)"; then
  python -m pip install --quiet --no-deps "fastopic==1.0.1"
fi
