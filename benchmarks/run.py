"""Run the asynccloud benchmark suite: every client, every workload, side by side, in one run.

    python benchmarks/run.py                 # full sizes, 5 runs each (~10-15 min on 2 cores)
    python benchmarks/run.py --quick --runs 3

Standard library only. It starts ``stub_server.py`` on 127.0.0.1, creates one virtualenv per peer client
under ``benchmarks/.venvs/`` (pip, pinned versions; reused while the pin is unchanged), then runs each
(client, workload) pair ``--runs`` times, each in a fresh subprocess, interleaving clients so that machine
noise spreads evenly. A client times only the workload itself; the runner reads the child's peak RSS from
``os.wait4``. Results go to ``docs/benchmarks.md`` (between the ``results`` markers; the text around them is
kept) and ``benchmarks/.results/latest.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLIENTS_DIR = HERE / "clients"
VENVS = HERE / ".venvs"
MIB = 1 << 20
START, END = "<!-- results:start -->", "<!-- results:end -->"

#: Peer clients, each in its own virtualenv: (venv name, pip requirement).
PEERS = {
    "asynccloud-aiohttp": f"-e {ROOT}[aiohttp]",
    "libcloud": "apache-libcloud==3.9.1",
    "aiobotocore": "aiobotocore==3.10.0",
    "obstore": "obstore==0.12.1",
}

WORKLOADS = {
    "W1": "list {keys:,} keys (1,000 per page)",
    "W2": "GET {n:,} × {size_kib} KiB, concurrency {conc}",
    "W3": "PUT {n:,} × {size_kib} KiB, concurrency {conc}",
    "W4": "stream-download {big_h}",
    "W5": "stream-upload {big_h} from a generator",
    "W6": "create {nodes} nodes, {latency_ms} ms server latency, concurrency {node_conc}",
    "W7": "import + driver construction",
}


@dataclass
class Client:
    name: str
    venv: str | None  # None: the interpreter running this script (the project's venv)
    script: str
    extra: dict[str, Any] = field(default_factory=dict)

    def python(self) -> str:
        return sys.executable if self.venv is None else str(VENVS / self.venv / "bin" / "python")


#: The row every ratio is taken against: asynccloud as recommended on asyncio (``asynccloud[aiohttp]``).
BASE = "asynccloud[aiohttp]"

CLIENTS = [
    Client(BASE, "asynccloud-aiohttp", "asynccloud_client.py"),
    Client("asynccloud, httpx transport", None, "asynccloud_client.py"),
    Client("asynccloud on trio", None, "asynccloud_client.py", {"backend": "trio"}),
    Client("raw socket (ceiling)", None, "raw_socket.py"),
    Client("httpx, one AsyncClient", None, "httpx_client.py"),
    Client("aiobotocore 3.10", "aiobotocore", "aiobotocore_client.py"),
    Client("obstore 0.12 (Rust)", "obstore", "obstore_client.py"),
    Client("Libcloud 3.9.1 sequential", "libcloud", "libcloud_client.py"),
    Client("Libcloud 3.9.1 threads", "libcloud", "libcloud_client.py", {"threads": 32}),
]


def ensure_venv(name: str, requirement: str) -> None:
    venv = VENVS / name
    stamp = venv / ".bench-requirement"
    if stamp.exists() and stamp.read_text() == requirement and (venv / "bin" / "python").exists():
        return
    print(f"creating {venv} with {requirement}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *requirement.split()], check=True)
    stamp.write_text(requirement)


def start_stub(params: dict[str, Any]) -> tuple[subprocess.Popen[str], int]:
    cmd = [
        sys.executable, str(HERE / "stub_server.py"), "--port", "0", "--keys", str(params["keys"]),
        "--object-size", str(params["size"]), "--big-size", str(params["big"]),
        "--latency", str(params["latency"]),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"stub server did not start: {line!r}")
    return proc, int(line.split()[1])


def run_one(client: Client, workload: str, params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One fresh process: the client's JSON result plus its peak RSS (MiB) from wait4."""
    args = [
        client.python(),
        str(CLIENTS_DIR / client.script),
        workload,
        json.dumps({**params, **client.extra}),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=CLIENTS_DIR)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"error": f"timed out after {timeout:.0f} s"}
    # communicate() reaped the child; its rusage is in the children totals, so take it from /proc-free
    # wait4 bookkeeping done below through RUSAGE_CHILDREN deltas is not per child: use the status file.
    rss = _rss.pop(proc.pid, None)
    del started
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:200]}"}
    data: dict[str, Any] = json.loads(lines[-1])
    if rss is not None:
        data["rss_mib"] = rss
    return data


_rss: dict[int, float] = {}


def _install_reaper() -> None:
    """Reap children ourselves with wait4 so that each one's own peak RSS (ru_maxrss, KiB) is known."""
    original = subprocess.Popen._try_wait  # type: ignore[attr-defined]

    def try_wait(self: subprocess.Popen[Any], wait_flags: int) -> tuple[int, int]:
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return original(self, wait_flags)  # type: ignore[no-any-return]
        if pid == self.pid:
            _rss[pid] = usage.ru_maxrss / 1024
        return pid, status

    subprocess.Popen._try_wait = try_wait  # type: ignore[attr-defined]


def sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {"keys": 10_000, "n": 300, "size": 64 * 1024, "conc": 32, "big": 256 * MIB, "nodes": 100,
                "node_conc": 50, "latency": 0.1}  # fmt: skip
    return {"keys": 100_000, "n": 1000, "size": 64 * 1024, "conc": 32, "big": 1024 * MIB, "nodes": 200,
            "node_conc": 50, "latency": 0.1}  # fmt: skip


def describe(workload: str, p: dict[str, Any]) -> str:
    big_h = f"{p['big'] // (1 << 30)} GiB" if p["big"] >= 1 << 30 else f"{p['big'] // MIB} MiB"
    return WORKLOADS[workload].format(
        size_kib=p["size"] // 1024, big_h=big_h, latency_ms=int(p["latency"] * 1000), **p
    )


def throughput(workload: str, seconds: float, sample: dict[str, Any]) -> str:
    if seconds <= 0:
        return ""
    if workload == "W1":
        return f"{sample.get('items', 0) / seconds / 1000:,.0f} k keys/s"
    if workload in ("W2", "W3"):
        return f"{sample.get('items', 0) / seconds:,.0f} req/s"
    if workload in ("W4", "W5"):
        return f"{sample.get('bytes', 0) / seconds / 1e6:,.0f} MB/s"
    if workload == "W6":
        return f"{sample.get('items', 0) / seconds:,.0f} nodes/s"
    return f"{seconds * 1000:,.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (10k keys, 256 MiB, 300 requests, 100 nodes)"
    )
    parser.add_argument("--clients", help="comma-separated name prefixes to run (default: all)")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6,W7")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per client process")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--no-write", action="store_true", help="print the table, leave the docs alone")
    parser.add_argument("--render", metavar="JSON", help="only re-render a saved .results/*.json file")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(Path(args.render).read_text())
        shown = [c for c in CLIENTS if c.name in next(iter(saved["results"].values()))]
        table = render(saved["meta"], saved["results"], shown, list(saved["results"]))
        print(table)
        if not args.no_write:
            write_doc(Path(args.out), table)
        return 0
    if not 1 <= args.runs <= 50:
        parser.error("--runs must be between 1 and 50")

    clients = CLIENTS
    if args.clients:
        wanted = [w.strip().lower() for w in args.clients.split(",")]
        clients = [c for c in CLIENTS if any(c.name.lower().startswith(w) for w in wanted)]
    for venv in sorted({c.venv for c in clients if c.venv}):
        ensure_venv(venv, PEERS[venv])
    _install_reaper()

    params = sizes(args.quick)
    workloads = [w.strip().upper() for w in args.workloads.split(",")]
    stub, port = start_stub(params)
    params["port"] = port
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {c.name: [] for c in clients} for w in workloads
    }
    load_before = os.getloadavg()
    began = time.monotonic()
    try:
        for workload in workloads:
            for run in range(args.runs):
                for client in clients:
                    sample = run_one(client, workload, params, args.timeout)
                    results[workload][client.name].append(sample)
                    shown = sample.get("error") or sample.get("skip") or f"{sample['seconds']:.3f} s"
                    print(f"{workload} run {run + 1}/{args.runs} {client.name:<28} {shown}", file=sys.stderr)
    finally:
        stub.terminate()
        stub.wait(10)
    elapsed = time.monotonic() - began
    meta = {
        "mode": "quick" if args.quick else "full",
        "runs": args.runs,
        "params": params,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "elapsed_s": round(elapsed),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "scripts/bench.sh"
        + (" --quick" if args.quick else "")
        + (f" --runs {args.runs}" if args.runs != 5 else ""),
    }
    out_dir = HERE / ".results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    table = render(meta, results, clients, workloads)
    print(table)
    if not args.no_write:
        write_doc(Path(args.out), table)
    return 0


def _stats(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    good = [s for s in samples if "seconds" in s]
    if not good or len(good) < len(samples):
        return None
    secs = [s["seconds"] for s in good]
    rss = [s["rss_mib"] for s in good if "rss_mib" in s]
    return {"median": statistics.median(secs), "min": min(secs), "max": max(secs),
            "rss": max(rss) if rss else math.nan, "sample": good[0]}  # fmt: skip


def render(meta: dict[str, Any], results: dict[str, Any], clients: list[Client], workloads: list[str]) -> str:
    p = meta["params"]
    lines = [
        f"Mode **{meta['mode']}**, median of {meta['runs']} runs, {meta['date']}, Python {meta['python']}, "
        f"{meta['cpus']} CPUs shared by client and stub (load average before {meta['load_before'][0]}, "
        f"after {meta['load_after'][0]}); whole run {meta['elapsed_s']} s. Reproduce: `{meta['command']}`.",
        "",
        f"Seconds (median); × = the client's time / {BASE}'s (above 1: slower than asynccloud).",
        "",
    ]
    head = "| client | " + " | ".join(f"{w} {describe(w, p)}" for w in workloads) + " |"
    lines += [head, "|---" * (len(workloads) + 1) + "|"]
    stats = {w: {c.name: _stats(results[w][c.name]) for c in clients} for w in workloads}
    for c in clients:
        cells = []
        for w in workloads:
            st, base = stats[w][c.name], stats[w].get(BASE)
            if st is None:
                first = results[w][c.name][0] if results[w][c.name] else {}
                cells.append("n/a" if "skip" in first else "failed")
                continue
            ratio = f" ({st['median'] / base['median']:.2f}×)" if base and c.name != BASE else ""
            cells.append(f"{st['median']:.3f}{ratio}")
        lines.append(f"| {c.name} | " + " | ".join(cells) + " |")
    lines.append("")
    for w in workloads:
        lines += [f"**{w}: {describe(w, p)}**", "",
                  "| client | median s | min–max s | throughput | peak RSS MiB |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for c in clients:
            st = stats[w][c.name]
            if st is None:
                errs = [s.get("error") or s.get("skip") for s in results[w][c.name]]
                lines.append(f"| {c.name} | {next((e for e in errs if e), 'n/a')} | | | |")
                continue
            lines.append(
                f"| {c.name} | {st['median']:.3f} | {st['min']:.3f}–{st['max']:.3f} | "
                f"{throughput(w, st['median'], st['sample'])} | {st['rss']:.0f} |"
            )
        lines.append("")
    lines += targets(stats, p)
    return "\n".join(lines)


def targets(stats: dict[str, dict[str, Any]], p: dict[str, Any]) -> list[str]:
    """The issue's targets, checked against this run's medians."""
    out = ["**Targets** (from this run's medians):", ""]

    def med(w: str, name: str) -> float | None:
        st = stats.get(w, {}).get(name)
        return None if st is None else float(st["median"])

    def check(label: str, ok: bool | None, detail: str) -> None:
        mark = "n/a" if ok is None else ("met" if ok else "**missed**")
        out.append(f"- {label}: {mark} ({detail})")

    ac = BASE
    for w in ("W1", "W2", "W3"):
        me = med(w, ac)
        if me is None:
            continue
        libs = [x for x in (med(w, "Libcloud 3.9.1 sequential"), med(w, "Libcloud 3.9.1 threads")) if x]
        if libs:
            check(
                f"{w} ≥ 3× faster than the best Libcloud mode", min(libs) / me >= 3, f"{min(libs) / me:.2f}×"
            )
        abc = med(w, "aiobotocore 3.10")
        if abc and w != "W1":
            check(f"{w} ≥ 3× faster than aiobotocore", abc / me >= 3, f"{abc / me:.2f}×")
        obs = med(w, "obstore 0.12 (Rust)")
        if obs:
            check(f"{w} ≥ 0.6× obstore's throughput", obs / me >= 0.6, f"{obs / me:.2f}×")
    for w in ("W4", "W5"):
        me = med(w, ac)
        raw = med(w, "raw socket (ceiling)")
        if me is None or raw is None:
            continue
        check(f"{w} ≥ 0.9× raw-socket throughput", raw / me >= 0.9, f"{raw / me:.2f}×")
        peers = {n: med(w, n) for n in stats[w] if not n.startswith(("asynccloud", "raw socket"))}
        behind = [n for n, t in peers.items() if t is not None and t < me]
        check(
            f"{w} never behind a peer",
            not behind,
            "behind " + ", ".join(behind) if behind else "ahead of all",
        )
        rss = stats[w][ac]["rss"]
        idle = stats.get("W7", {}).get(ac)
        base_rss = idle["rss"] if idle else 0.0
        bound = (8 * 8 + 50) if w == "W5" else (1 + 50)  # 8 MiB parts, 8 in flight; one 1 MiB chunk
        check(
            f"{w} peak RSS ≤ part size × parts in flight + 50 MiB",
            rss <= bound,
            f"{rss:.0f} MiB vs {bound} MiB"
            + (
                f"; the interpreter with asynccloud imported (W7) already holds {base_rss:.0f} MiB, "
                f"so the transfer added {rss - base_rss:.0f} MiB"
                if idle
                else ""
            ),
        )
    me = med("W6", ac)
    if me is not None:
        ideal = math.ceil(p["nodes"] / p["node_conc"]) * p["latency"]
        check(
            "W6 within 1.2× of ideal",
            me <= 1.2 * ideal,
            f"{me:.3f} s vs ideal {ideal:.2f} s = {me / ideal:.2f}×",
        )
    me, hx = med("W7", ac), med("W7", "httpx, one AsyncClient")
    if me is not None and hx is not None:
        check("W7 import asynccloud ≤ import httpx + 30 ms", me <= hx + 0.030,
              f"{me * 1000:.0f} ms vs {hx * 1000:.0f} ms")  # fmt: skip
    out.append("")
    return out


def write_doc(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    path.write_text(f"{before}{START}\n{table}\n{END}{after}")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
