#!/usr/bin/env bash
# The GPU checks of issue 16, in one go (about 6-8 minutes on one GPU):
#   1. tests/test_cuda.py, including the child-process test that loads
#      GPU-trained models where no CUDA device is visible;
#   2. benchmarks/throughput.py --device cuda, which writes
#      benchmarks/results/throughput_cuda.md (the small model, transform against
#      the bare and the host-to-host references, one-row latency, and the
#      200,000 x 784 case on the CPU and the GPU side by side).
# Run from the repository root: bash benchmarks/cuda_check.sh
# Logs go to $OUT (or a new temporary folder when OUT is unset), with a copy of
# the results page. It fails, and writes no table, without CUDA; a benchmark that
# fails leaves no results page behind (never the previous run's).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
LOGS="${OUT:-$(mktemp -d)}"
mkdir -p "$LOGS"
# the package of this checkout, whatever else is installed
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

"$PYTHON" - <<'EOF' 2>&1 | tee "$LOGS/device.txt"
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("cuda_check.sh: torch sees no CUDA device; nothing was measured.")
print("torch", torch.__version__, "CUDA", torch.version.cuda)
print("device:", torch.cuda.get_device_name())
free, total = torch.cuda.mem_get_info()
print(f"free memory: {free / 2**30:.1f} of {total / 2**30:.1f} GiB")
EOF

status=0
# -rs lists every skip with its reason: a skipped CUDA test is not a pass
timeout 240 "$PYTHON" -m pytest tests/test_cuda.py -v -rs -p no:cacheprovider \
    2>&1 | tee "$LOGS/test_cuda.txt" || status=$?
if grep -q "SKIPPED" "$LOGS/test_cuda.txt"; then
    echo "cuda_check.sh: some CUDA tests were skipped" >&2
    status=1
fi

rm -f benchmarks/results/throughput_cuda.md
timeout 330 "$PYTHON" benchmarks/throughput.py --device cuda --repeats 5 \
    --threads 8 2>&1 | tee "$LOGS/throughput_cuda.txt" || status=$?
cp benchmarks/results/throughput_cuda.md "$LOGS/" 2>/dev/null || status=1

echo "cuda_check.sh: exit status $status (logs in $LOGS)"
exit "$status"
