#!/usr/bin/env bash
# The main job: the founding walkthrough on AWS drivers (EC2, ELBv2, Route 53, S3) against a moto server it
# starts on 127.0.0.1 and stops at the end (see examples/walkthrough.py; --endpoint URL or --aws to point it
# elsewhere). The storage-only tour on the local filesystem: python examples/local_storage.py
set -euo pipefail
source "$(dirname "$0")/_venv.sh" dev
cd "$ROOT"
exec python examples/walkthrough.py "$@"
