#!/usr/bin/env bash
# The emulated part of CI: the CUDA tests (PixMix and AugMix), the demo, AugMix's augment
# and the fractal renderer on the CUDA driver emulator (scripts/emulated-cuda.sh), compared
# with the CPU path byte for byte, the Python extension's CUDA batches, and the emulated
# profiles (PixMix and AugMix). Every check is on; a missing device, a check's report or a
# difference fails the run. Expects the release build and the Python wheel of .ci/run (it
# builds what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIXMIX_REQUIRE_CUDA=1 CUDA_EMU_CHECKS=all
emu=scripts/emulated-cuda.sh
out=target/ci-emulated
rm -rf "$out" && mkdir -p "$out"
t0=$SECONDS
step() { echo "== emulated: $* ($((SECONDS - t0)) s)"; }

step "tests/cuda.rs"
$emu cargo test --release --locked --test cuda -- --include-ignored --test-threads=1
step "tests/cuda.rs again with stream jitter (operations delayed at random, seeded)"
CUDA_EMU_JITTER=1 CUDA_EMU_JITTER_US=300 $emu cargo test --release --locked --test cuda -- \
  --include-ignored --test-threads=1 cuda_writes_into owned_buffers gpu_fractals dropped another
step "tests/cuda_augmix.rs: AugMix on CUDA equals the CPU executor byte for byte"
$emu cargo test --release --locked --test cuda_augmix -- --include-ignored --test-threads=1
CUDA_EMU_JITTER=1 CUDA_EMU_JITTER_US=300 $emu cargo test --release --locked --test cuda_augmix -- \
  --include-ignored --test-threads=1 owned_buffers
step "tests/cuda_devices.rs: two emulated devices"
CUDA_EMU_DEVICES=2 $emu cargo test --release --locked --test cuda_devices -- --include-ignored
step "tests/cuda_old_driver.rs: a CUDA 12.4 driver refuses the kernels, with a message"
CUDA_EMU_DRIVER=12.4 PIXMIX_REQUIRE_OLD_DRIVER=1 $emu cargo test --release --locked --test cuda_old_driver -- --include-ignored
cargo build --release --locked --quiet
step "demo: --device cuda equals --device cpu, byte for byte"
target/release/pixmix demo --device cpu --out "$out/demo-cpu.png"
$emu target/release/pixmix demo --device cuda --out "$out/demo-cuda.png"
cmp "$out/demo-cpu.png" "$out/demo-cuda.png"
step "augment --method augmix: --device cuda equals --device cpu, byte for byte (JSD views)"
for device in cpu cuda; do
  $emu target/release/pixmix augment --method augmix --jsd --images assets/photos --preset imagenet \
    --count 6 --batch 4 --format npy --device "$device" --out "$out/augmix-$device"
done
cmp "$out/augmix-cpu/augmented.npy" "$out/augmix-cuda/augmented.npy"
step "fractals: the CUDA renderer equals the CPU renderer"
target/release/pixmix fractals --count 3 --size 48 --device cpu --out "$out/fractals-cpu"
$emu target/release/pixmix fractals --count 3 --size 48 --device cuda --out "$out/fractals-cuda"
for f in "$out"/fractals-cpu/*.png; do cmp "$f" "$out/fractals-cuda/$(basename "$f")"; done
[ "$(ls "$out"/fractals-cpu/*.png | wc -l)" = "$(ls "$out"/fractals-cuda/*.png | wc -l)" ]
step "Python: CUDA batches through DLPack"
root=$PWD
py=${PIXMIX_PYTHON:-}
if [ -z "$py" ]; then
  # The package as the README installs it, into a virtualenv of this run.
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install --quiet --disable-pip-version-check ./python pytest
  py=$root/$out/venv/bin/python
fi
(cd /tmp && "$root/$emu" "$py" -m pytest -q "$root/python/tests/test_cuda.py")
step "bench --device cuda: the emulated profile"
$emu target/release/pixmix bench --device cuda --batch 16 --preset cifar
$emu target/release/pixmix bench --device cuda --batch 16 --preset cifar --method augmix
step "done"
