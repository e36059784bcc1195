#!/usr/bin/env bash
# Set up msgpt's environment from the project's own files: a venv with every package pinned
# in requirements.lock, installed with --no-deps so that pip does not pull real torch
# (accelerate and peft declare it, but after `import mindnlp` the name `torch` is mindtorch).
# Usage: bash scripts/install.sh [VENV_DIR]   (default .venv; re-running reuses a matching venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-${MSGPT_VENV:-.venv}}
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
    echo "msgpt needs Python 3.11 (mindspore 2.7.0 wheels); $python is $("$python" -V 2>&1)" >&2
    exit 1
}
stamp="$venv/.msgpt-lock"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "msgpt: $venv is up to date with requirements.lock"
    exit 0
fi
start=$(date +%s)
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==26.3"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
# Fails here, not later, if the pinned set does not import together.
DEVICE_TARGET=${DEVICE_TARGET:-CPU} "$venv/bin/python" -c "import msgpt.backend, torch; assert 'mindtorch' in torch.__file__, torch.__file__"
echo "$want" > "$stamp"
echo "msgpt: installed into $venv in $(( $(date +%s) - start )) s ($(du -sh "$venv" | cut -f1))"
