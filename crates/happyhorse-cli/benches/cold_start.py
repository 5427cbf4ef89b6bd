#!/usr/bin/env python3
"""Cold-start time of `happyhorse --version` and `happyhorse validate`, and the binary's size.

Usage: python3 crates/happyhorse-cli/benches/cold_start.py [--json] [path/to/happyhorse] [runs]
(build first: cargo build --release -p happyhorse-cli). Spawning /bin/true is measured in the
same run as the baseline, so the numbers say what happyhorse adds to any process start.

With --json, prints one JSON object instead of the table (read by `cargo xtask bench`):
{"runs", "cores", "rows": [{"command", "median_ms", "p90_ms", "minus_baseline_ms"}],
"binary": {"path", "bytes"}}; the first row is the baseline.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

as_json = "--json" in sys.argv[1:]
args = [a for a in sys.argv[1:] if a != "--json"]
binary = args[0] if len(args) > 0 else "target/release/happyhorse"
runs = int(args[1]) if len(args) > 1 else 50

with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump({"image_url": "https://example.com/horse.webp", "prompt": "The horse trots across the meadow"}, f)
    valid_input = f.name


def measure(argv):
    times = []
    for i in range(runs + 3):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} exited {done.returncode}")
        if i >= 3:  # the first runs warm the page cache
            times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


baseline = measure(["/bin/true"])
rows = [
    ("/bin/true (baseline)", baseline),
    ("happyhorse --version", measure([binary, "--version"])),
    ("happyhorse validate FILE", measure([binary, "validate", valid_input])),
]
os.unlink(valid_input)
size = os.path.getsize(binary)
if as_json:
    print(json.dumps({
        "runs": runs,
        "cores": os.cpu_count(),
        "rows": [
            {"command": name, "median_ms": median, "p90_ms": p90, "minus_baseline_ms": median - baseline[0]}
            for name, (median, p90) in rows
        ],
        "binary": {"path": binary, "bytes": size},
    }))
    sys.exit(0)
print(f"{runs} runs each on {os.cpu_count()} cores")
print("| command | median | p90 | median minus baseline |")
print("|---|---:|---:|---:|")
for name, (median, p90) in rows:
    print(f"| `{name}` | {median:.2f} ms | {p90:.2f} ms | {median - baseline[0]:+.2f} ms |")
print(f"\nrelease binary: {size:,} bytes ({size / 2**20:.1f} MiB), stripped, {binary}")
