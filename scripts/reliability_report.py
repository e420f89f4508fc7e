"""Render the figures the fault suite wrote (``ASYNCCLOUD_RELIABILITY_REPORT``) as markdown tables.

Usage: ``ASYNCCLOUD_RELIABILITY_REPORT=/tmp/rel.json .venv/bin/python -m pytest tests/faults -q``, then
``.venv/bin/python scripts/reliability_report.py /tmp/rel.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def render(data: dict[str, object]) -> str:
    faults = data.get("faults", {})
    assert isinstance(faults, dict)
    out = ["| Fault injected | Count |", "|---|---:|"]
    out += [f"| `{kind}` | {n} |" for kind, n in faults.get("faults_injected", {}).items()]
    out += ["", "| Figure | Value |", "|---|---:|"]
    out += [f"| {name} | {n} |" for name, n in faults.get("counters", {}).items()]
    out += ["", "| Body fault on a download | How it was answered (test runs) |", "|---|---:|"]
    out += [f"| {name} | {n} |" for name, n in faults.get("answers", {}).items()]
    return "\n".join(out) + "\n"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "reliability.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))), end="")


if __name__ == "__main__":
    main()
