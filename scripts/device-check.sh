#!/usr/bin/env bash
# The whole GPU verification in one device call.
#
#   scripts/device-check.sh build   # here: build everything, pack binaries into
#                                   # target/device-check (carry that folder)
#   scripts/device-check.sh run     # on the GPU machine, GPU work only: CUDA tests with
#                                   # PIXMIX_REQUIRE_CUDA=1, compute-sanitizer memcheck and
#                                   # racecheck, PyTorch and tch runs, benchmarks; summary
#                                   # in $OUT/summary.md
set -uo pipefail
cd "$(dirname "$0")/.."
pack=target/device-check

build() {
  set -e
  scripts/install-nvcc.sh
  export PIXMIX_REQUIRE_KERNELS=1
  # The CPU suites (golden, reference, executor, kernel math, the emulated CUDA path) run
  # here, so the device's time goes to GPU work only.
  cargo test --release --locked
  scripts/ci-emulated.sh
  cargo build --release --locked --bins --benches
  rm -rf "$pack" && mkdir -p "$pack"
  cargo test --release --locked --no-run --message-format=json 2>/dev/null \
    | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])
' | while read -r name exe; do
      case "$name" in cuda) cp "$exe" "$pack/$name" ;; esac
    done
  cp target/release/pixmix "$pack/pixmix"
  (cd python && ../.cache/py-venv/bin/maturin build --release --quiet -o "../$pack")
  cp "$(ls -t target/release/deps/throughput-* | grep -v '\.d$' | head -1)" "$pack/throughput"
  # tch against libtorch_cuda: links here, runs against the device's PyTorch 2.11 libraries.
  LIBTORCH=$(scripts/install-libtorch.sh --cuda) CARGO_TARGET_DIR=target/tch-cuda \
    cargo build --release --locked --features tch --example train_tch --test torch
  cp target/tch-cuda/release/examples/train_tch "$pack/train_tch"
  cp "$(ls -t target/tch-cuda/release/deps/torch-* | grep -v '\.d$' | head -1)" "$pack/torch"
  find "$pack" -type f ! -name "*.whl" -exec strip {} +
  git rev-parse HEAD > "$pack/commit"
  du -sh "$pack"
  local bytes
  bytes=$(du -sb "$pack" | cut -f1)
  [ "$bytes" -lt $((60 * 1024 * 1024)) ] || { echo "pack too large: $bytes bytes" >&2; exit 1; }
  echo "carry $pack and run: bash scripts/device-check.sh run"
}

run() {
  local out=${OUT:-/tmp/device-check-out}
  mkdir -p "$out"
  local summary=$out/summary.md
  local failed=0
  {
    echo "# device check"
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $(cat "$pack/commit" 2>/dev/null || echo unknown)"
    echo "- device: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
  } > "$summary"
  step() {  # step NAME COMMAND...: run, log, record
    local name=$1
    shift
    local t0=$SECONDS
    "$@" > "$out/$name.log" 2>&1
    local rc=$?
    echo "- $name: $([ $rc -eq 0 ] && echo PASS || echo "FAIL (exit $rc)") in $((SECONDS - t0)) s" >> "$summary"
    [ $rc -eq 0 ] || failed=1
  }
  export PIXMIX_REQUIRE_CUDA=1
  # Only GPU work here: the CPU suites ran in `build`, before the device was held.
  step cuda-tests "$pack/cuda" --include-ignored --nocapture --test-threads=1
  if command -v compute-sanitizer >/dev/null; then
    step memcheck compute-sanitizer --tool memcheck --error-exitcode 9 "$pack/cuda" --include-ignored --test-threads=1 cuda_equals_cpu_for_every_operator_at_odd_sizes cuda_writes_into gpu_fractals
    step racecheck compute-sanitizer --tool racecheck --error-exitcode 9 "$pack/cuda" --include-ignored --test-threads=1 cuda_equals_cpu_for_every_operator_at_odd_sizes gpu_fractals
  else
    echo "- compute-sanitizer: not found" >> "$summary"
    failed=1
  fi
  # PyTorch on the GPU machine: the wheel into a throwaway venv that sees torch.
  python3 -m venv --system-site-packages /tmp/pixmix-py >/dev/null 2>&1 &&
    /tmp/pixmix-py/bin/pip install --quiet --no-deps --no-index "$pack"/pixmix-*.whl >/dev/null 2>&1
  if /tmp/pixmix-py/bin/python -c "import pytest, torch" 2>/dev/null; then
    step python-torch bash -c "cd /tmp && /tmp/pixmix-py/bin/python -m pytest -q -rs $PWD/python/tests"
  else
    echo "- python-torch: not run (pytest or torch missing on the device)" >> "$summary"
  fi
  # tch on the GPU: tensors written in place on torch's stream, and the example trainer.
  local torchlib
  if torchlib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null); then
    step tch-tests env LD_LIBRARY_PATH="$torchlib" "$pack/torch" --nocapture --test-threads=1
    step tch-train env LD_LIBRARY_PATH="$torchlib" "$pack/train_tch" --synthetic \
      --data /tmp/synthetic-cifar --epochs 2 --device cuda --log-every 10
  else
    echo "- tch: not run (no PyTorch on the device)" >> "$summary"
    failed=1
  fi
  step bench-cuda "$pack/pixmix" bench --device cuda --seconds 2 --fractals
  {
    echo
    echo "## CUDA vs CPU agreement"
    grep -E "bit-exact|^test " "$out/cuda-tests.log" || true
    echo
    echo "## Benchmarks"
    cat "$out/bench-cuda.log" 2>/dev/null
    echo
    echo "## tch example trainer"
    grep -E "images/s|accuracy|augmenting" "$out/tch-train.log" 2>/dev/null | tail -n 8
    echo
    echo "## Sanitizers"
    tail -n 3 "$out/memcheck.log" "$out/racecheck.log" 2>/dev/null
  } >> "$summary"
  cat "$summary"
  return $failed
}

case "${1:-build}" in
  build) build ;;
  run) run ;;
  *) echo "usage: $0 [build|run]" >&2; exit 2 ;;
esac
