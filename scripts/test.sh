#!/usr/bin/env bash
# The whole check: lint, strict typing, and the test suite on asyncio and trio.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
source "$(dirname "$0")/_venv.sh" dev
cd "$ROOT"
echo "== ruff" && ruff check . && ruff format --check .
echo "== mypy --strict" && mypy
echo "== pytest" && python -m pytest "$@"
