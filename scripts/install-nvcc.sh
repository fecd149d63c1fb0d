#!/usr/bin/env bash
# Installs the CUDA compiler from PyPI into .cache/cuda-venv (ignored), where build.rs finds
# it. Pinned so its PTX loads on a CUDA 13.0 driver; newer parts produce PTX that driver
# rejects. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/cuda-venv
if ls "$venv"/lib/python3*/site-packages/nvidia/cu13/bin/nvcc >/dev/null 2>&1; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
ls "$venv"/lib/python3*/site-packages/nvidia/cu13/bin/nvcc >/dev/null
