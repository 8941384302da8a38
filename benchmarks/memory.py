"""Peak memory of fit and transform against the size of the data.

Each case runs in a fresh subprocess: it imports everything, warms up (a tiny fit
and transform, so that lazily imported torch modules and thread pools count in
the baseline, not against the estimator), records the resident set size as the
baseline, creates a float32 array of 200,000 x 200 (160 MB), and runs one
operation. The table reports the peak resident set size above the baseline, in
MB and as a multiple of the array's size. The array itself counts, so a method
that copies nothing scores about 1.0x; API.md promises at most 1.5x for fit and
transform of the autoencoders.

Run with ``python benchmarks/memory.py`` (about two minutes). Writes
benchmarks/results/memory.md.
"""

import json
import subprocess
import sys
from pathlib import Path

N_ROWS, N_FEATURES = 200_000, 200
RESULTS = Path(__file__).parent / "results" / "memory.md"

_CASE = r"""
import json, resource, sys, warnings
import numpy as np
from sklearn.decomposition import PCA, IncrementalPCA
from sklearn.exceptions import ConvergenceWarning
from sk_autoencoder import AutoencoderTransformer

warnings.simplefilter("ignore", ConvergenceWarning)  # max_epochs=1 on purpose
method, phase, n_rows, n_features = sys.argv[1:5]
n_rows, n_features = int(n_rows), int(n_features)


def make(method):
    if method == "AutoencoderTransformer":
        return AutoencoderTransformer(
            n_components=16, hidden_layer_sizes=(128, 64), batch_size=256,
            max_epochs=1, random_state=0,
        )
    if method == "PCA":
        return PCA(n_components=16, random_state=0)
    return IncrementalPCA(n_components=16)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


rng = np.random.default_rng(0)
warm = rng.normal(size=(512, n_features)).astype(np.float32)
make(method).fit(warm).transform(warm)
estimator = make(method)
if phase == "transform":
    estimator.fit(warm)
del warm
baseline = rss_mb()
# the peak so far may exceed the current RSS; only growth beyond both counts
floor = max(baseline, peak_mb())
X = rng.standard_normal(size=(n_rows, n_features), dtype=np.float32)
if phase == "fit":
    estimator.fit(X)
else:
    estimator.transform(X)
peak = max(peak_mb(), floor)
print(json.dumps({"above_baseline_mb": peak - baseline, "array_mb": X.nbytes / 2**20}))
"""


def run_case(method, phase):
    out = subprocess.run(
        [sys.executable, "-c", _CASE, method, phase, str(N_ROWS), str(N_FEATURES)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    rows = []
    for method in ("AutoencoderTransformer", "PCA", "IncrementalPCA"):
        for phase in ("fit", "transform"):
            result = run_case(method, phase)
            ratio = result["above_baseline_mb"] / result["array_mb"]
            rows.append((method, phase, result["above_baseline_mb"], ratio))
            print(f"{method:24s} {phase:9s} {rows[-1][2]:8.0f} MB {ratio:5.2f}x")
    table = [
        f"Peak memory above the interpreter's baseline, float32 X of {N_ROWS:,} x "
        f"{N_FEATURES} ({N_ROWS * N_FEATURES * 4 / 2**20:.0f} MB; the array itself "
        "counts, so copying nothing is about 1.0x). Command: "
        "`python benchmarks/memory.py`.",
        "",
        "| estimator | phase | peak above baseline (MB) | x array size |",
        "|---|---|---:|---:|",
    ]
    table += [f"| {m} | {p} | {mb:.0f} | {r:.2f} |" for m, p, mb, r in rows]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(table) + "\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
