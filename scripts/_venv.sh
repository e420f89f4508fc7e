# Sourced by the scripts in this folder: create or reuse .venv and install the project into it.
# Re-installs only when pyproject.toml changed since the last install (a stamp file records its hash).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ASYNCCLOUD_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating virtualenv $VENV" >&2
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.asynccloud-installed"
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)-${1:-dev}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing asynccloud[${1:-dev}] into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[${1:-dev}]" >&2
    echo "$want" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
