#!/usr/bin/env bash
# Runs a command with the CUDA driver emulator (emu/) as its libcuda: the unchanged CUDA
# path, executed on the CPU with memcheck, racecheck, initcheck and stream-hazard checks.
#
#   scripts/emulated-cuda.sh cargo test --release --test cuda
#   CUDA_EMU_DEVICES=2 scripts/emulated-cuda.sh target/release/pixmix demo --device cuda
#
# Settings are CUDA_EMU_* variables (emu/src/config.rs). No GPU and no CUDA needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml" -p cuda-emu
lib=$root/target/cuda-emu/lib
mkdir -p "$lib"
cp -f "$root/target/release/libcuda_emu.so" "$lib/libcuda.so.1"
ln -sf libcuda.so.1 "$lib/libcuda.so"
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$@"
