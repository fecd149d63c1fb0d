#!/usr/bin/env bash
# Registers, spills, shared memory and theoretical occupancy of every kernel per
# architecture, from ptxas (the pinned nvcc of scripts/install-nvcc.sh), as a Markdown
# table. Occupancy is modelled for the launch's 256-thread blocks from each architecture's
# published limits (threads, registers, shared memory and blocks per multiprocessor).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-nvcc.sh
nvcc=$(ls .cache/cuda-venv/lib/python3*/site-packages/nvidia/cu13/bin/nvcc | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for arch in "${@:-80 86 89 90}"; do
  for a in $arch; do
    "$nvcc" -cubin --fmad=false -O3 -std=c++17 -arch="sm_$a" -Xptxas -v \
      -o "$tmp/k.cubin" kernels/pixmix.cu > "$tmp/sm_$a.txt" 2>&1
  done
done
python3 - "$tmp" ${@:-80 86 89 90} <<'PY'
import re, sys, pathlib
tmp, archs = pathlib.Path(sys.argv[1]), sys.argv[2:]
# threads, registers, shared memory (bytes, usable by blocks) and blocks per multiprocessor
limits = {"75": (1024, 65536, 64 << 10, 16), "80": (2048, 65536, 164 << 10, 32),
          "86": (1536, 65536, 100 << 10, 16), "89": (1536, 65536, 100 << 10, 24),
          "90": (2048, 65536, 228 << 10, 32), "100": (2048, 65536, 228 << 10, 32),
          "120": (1536, 65536, 100 << 10, 24)}
print("| kernel | arch | registers | spill stores / loads (bytes) | stack | shared memory | occupancy (256-thread blocks) |")
print("|---|---|---|---|---|---|---|")
rows = []
for a in archs:
    text = (tmp / f"sm_{a}.txt").read_text()
    for m in re.finditer(r"Compiling entry function '(\w+)' for 'sm_\d+'\n(.*?)(?=ptxas info\s*: Compiling|\Z)", text, re.S):
        name, body = m.group(1), m.group(2)
        regs = int(re.search(r"Used (\d+) registers", body).group(1))
        smem = re.search(r"(\d+) bytes smem", body)
        smem = int(smem.group(1)) if smem else 0
        st = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", body)
        stores, loads = (int(st.group(1)), int(st.group(2))) if st else (0, 0)
        stack = re.search(r"(\d+) bytes stack frame", body)
        stack = int(stack.group(1)) if stack else 0
        threads, regfile, shared, blocks = limits[a]
        per_warp = -(-regs * 32 // 256) * 256
        by_regs = regfile // (per_warp * 8)
        by_smem = shared // (smem + 1024) if smem else blocks
        n = min(threads // 256, by_regs, by_smem, blocks)
        rows.append((name, a, regs, stores, loads, stack, smem, 100 * n * 256 // threads))
for name, a, regs, stores, loads, stack, smem, occ in sorted(rows):
    print(f"| {name} | sm_{a} | {regs} | {stores} / {loads} | {stack} | {smem} | {occ}% |")
PY
