#!/usr/bin/env bash
# The main job: a tour of asynccloud against a locally started backend.
set -euo pipefail
source "$(dirname "$0")/_venv.sh" dev
cd "$ROOT"
exec python examples/local_storage.py "$@"
