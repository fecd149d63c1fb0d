#!/usr/bin/env bash
# Rebuilds the fatbin reader's test fixtures in tests/data from tests/data/tiny.cu with the
# pinned nvcc (scripts/install-nvcc.sh puts it in .cache/cuda-venv; NVCC overrides):
#   tiny.ptx                   nvcc --ptx for compute_80, what the fatbins' PTX must match
#   tiny-zstd.fatbin           compute_80 PTX, zstd-compressed (nvcc's default)
#   tiny-lz4.fatbin            compute_80 PTX, LZ4-compressed (--compress-mode=speed)
#   tiny-plain.fatbin          compute_80 PTX, uncompressed (--no-compress)
#   tiny-75-80.fatbin          compute_75 and compute_80 PTX, in that order
#   tiny-80-sm90.fatbin        compute_80 PTX plus sm_90 machine code (as the project builds)
#   tiny-sm90.fatbin           sm_90 machine code only, no PTX
set -euo pipefail
emu="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$emu")"
nvcc="${NVCC:-}"
if [ -z "$nvcc" ]; then
  venv="$root/.cache/cuda-venv"
  nvcc=$(ls "$venv"/lib/python3*/site-packages/nvidia/cu13/bin/nvcc 2>/dev/null | head -1 || true)
fi
if [ -z "$nvcc" ] || [ ! -x "$nvcc" ]; then
  echo "make-fixtures.sh: nvcc not found; run scripts/install-nvcc.sh or set NVCC" >&2
  exit 1
fi
cd "$emu/tests/data"
c80=(-gencode arch=compute_80,code=compute_80)
"$nvcc" --ptx -arch=compute_80 -o tiny.ptx tiny.cu
"$nvcc" -fatbin "${c80[@]}" -o tiny-zstd.fatbin tiny.cu
"$nvcc" -fatbin "${c80[@]}" --compress-mode=speed -o tiny-lz4.fatbin tiny.cu
"$nvcc" -fatbin "${c80[@]}" --no-compress -o tiny-plain.fatbin tiny.cu
"$nvcc" -fatbin -gencode arch=compute_75,code=compute_75 "${c80[@]}" -o tiny-75-80.fatbin tiny.cu
"$nvcc" -fatbin "${c80[@]}" -gencode arch=compute_90,code=sm_90 -o tiny-80-sm90.fatbin tiny.cu
"$nvcc" -fatbin -gencode arch=compute_90,code=sm_90 -o tiny-sm90.fatbin tiny.cu
ls -l tiny.ptx tiny-*.fatbin
