#!/usr/bin/env bash
# Rebuilds tests/data/checks.ptx, the kernels of the check tests (tests/checks.rs,
# tests/config.rs), from tests/kernels/checks.cu, and tests/data/calls.ptx (the device
# function calls of tests/forms.rs) from tests/kernels/calls.cu, with the pinned nvcc
# (scripts/install-nvcc.sh puts it in .cache/cuda-venv; NVCC overrides):
#   checks.ptx   nvcc --ptx -O3 --fmad=false for compute_80 (PTX ISA 9.0, .target sm_80)
# The tests name PTX lines and instructions of this file: rerun them after regenerating.
set -euo pipefail
emu="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$emu")"
nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
  venv="$root/.cache/cuda-venv"
  nvcc=$(ls "$venv"/lib/python3*/site-packages/nvidia/cu13/bin/nvcc 2>/dev/null | head -1 || true)
fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  echo "make-check-kernels.sh: nvcc not found; run scripts/install-nvcc.sh or set NVCC" >&2
  exit 1
fi
cd "$emu/tests"
"$nvcc" --ptx -O3 --fmad=false -arch=compute_80 -o data/checks.ptx kernels/checks.cu
"$nvcc" --ptx -O3 --fmad=false -arch=compute_80 -o data/calls.ptx kernels/calls.cu
ls -l data/checks.ptx data/calls.ptx
