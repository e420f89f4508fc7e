#!/usr/bin/env bash
# Run the benchmark suite (docs/benchmarks.md): prepares the project venv, then benchmarks/run.py creates
# the peer clients' virtualenvs under benchmarks/.venvs/ (pip) and writes the table into docs/benchmarks.md.
#   scripts/bench.sh                 # full sizes, median of 5 runs (~15-20 min on 2 cores)
#   scripts/bench.sh --quick         # smaller sizes, for a smoke run
#   scripts/bench.sh --runs 7 --clients asynccloud,obstore --workloads W2,W4
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" dev
exec "$VENV/bin/python" "$ROOT/benchmarks/run.py" "$@"
