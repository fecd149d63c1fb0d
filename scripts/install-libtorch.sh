#!/usr/bin/env bash
# Assembles libtorch 2.11 (the version tch 0.24 pairs with) from PyPI's torch wheel, without
# its CUDA dependencies, under .cache/libtorch (ignored). Prints the folder to export as
# LIBTORCH. Idempotent; the wheel (about 0.5 GB) is downloaded once.
#
#   scripts/install-libtorch.sh          # .cache/libtorch/cpu: CPU tensors only
#   scripts/install-libtorch.sh --cuda   # .cache/libtorch/cuda: also libtorch_cuda, to link
#                                        # binaries that run where PyTorch's CUDA libraries are
#
# PyPI's wheel is the CUDA build: its libtorch.so needs libtorch_cuda.so, which needs cuBLAS,
# cuDNN, NCCL and more (gigabytes). The CPU layout therefore gets its own libtorch.so that, as
# in the official CPU distribution, only pulls in libtorch_cpu; libtorch_cpu itself needs
# libcudart and libcupti, small wheels of their own.
set -euo pipefail
cd "$(dirname "$0")/.."
torch_version=2.11.0
root=.cache/libtorch
kind=cpu
[ "${1:-}" = "--cuda" ] && kind=cuda
dest=$root/$kind

if [ -f "$dest/build-version" ] && [ "$(cat "$dest/build-version")" = "$torch_version" ]; then
  echo "$PWD/$dest"
  exit 0
fi

mkdir -p "$root/wheels"
fetch() {  # fetch SPEC: download one wheel (no dependencies) unless it is there
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$root/wheels" "$1" >&2
}
fetch "torch==$torch_version"
fetch "nvidia-cuda-runtime==13.0.96"
fetch "nvidia-cuda-cupti==13.0.85"

tmp=$root/tmp-$kind
rm -rf "$tmp" "$dest"
mkdir -p "$tmp" "$dest/lib"
libs='torch/lib/libc10.so torch/lib/libc10_cuda.so torch/lib/libtorch_cpu.so torch/lib/libgomp.so.1'
[ "$kind" = cuda ] && libs='torch/lib/*'
# shellcheck disable=SC2086 # the globs are unzip's
unzip -q -o "$root"/wheels/torch-"$torch_version"-*.whl 'torch/include/*' $libs -d "$tmp"
unzip -q -o "$root"/wheels/nvidia_cuda_runtime-*.whl 'nvidia/cu13/lib/libcudart.so.13' -d "$tmp"
unzip -q -o "$root"/wheels/nvidia_cuda_cupti-*.whl 'nvidia/cu13/lib/libcupti.so.13' -d "$tmp"
mv "$tmp/torch/include" "$dest/include"
mv "$tmp"/torch/lib/* "$tmp"/nvidia/cu13/lib/* "$dest/lib/"
if [ "$kind" = cpu ]; then
  # libtorch.so of the CPU distribution: no code, just libtorch_cpu.
  : | gcc -shared -x c - -o "$dest/lib/libtorch.so" -Wl,-soname,libtorch.so \
    -Wl,--no-as-needed -L"$dest/lib" -ltorch_cpu
fi
rm -rf "$tmp"
echo "$torch_version" > "$dest/build-version"
echo "$PWD/$dest"
