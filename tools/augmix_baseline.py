#!/usr/bin/env python3
"""Times the released AugMix per-sample loop (google-research/augmix, `aug`) on one core:
the train transform, Pillow operators and float32 tensor arithmetic (numpy stands in for
torch, as in tools/python_baseline.py). Same inputs as `pixmix bench --method augmix`:
500x375 photos for imagenet, 32x32 for cifar; the released defaults (width 3, depth -1,
alpha 1, the nine default operators, severity 3 / 1). Besides images per second it prints
the CPU time an image takes (`time.process_time()`, setup excluded), which the machine's
other load moves less: `cargo run --release --example augmix_cpu_time` prints pixmix's.

    python3 tools/augmix_baseline.py [--seconds 10]     # requires Pillow and numpy
"""
import argparse
import random
import time

import numpy as np

from golden import OPS, SIGNED, apply, param_from_level
from python_baseline import photo, train_transform

F = np.float32
PRESETS = {
    "cifar": dict(size=32, src=(32, 32), severity=3, mean=[0.5] * 3, std=[0.5] * 3),
    "imagenet": dict(size=224, src=(500, 375), severity=1,
                     mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
}


def preprocess(cfg, img):
    x = np.asarray(img, dtype=F).transpose(2, 0, 1) / F(255)
    return (x - np.array(cfg["mean"], F)[:, None, None]) / np.array(cfg["std"], F)[:, None, None]


def aug(cfg, image, width=3, depth=-1, alpha=1.0):
    size = cfg["size"]
    ws = np.float32(np.random.dirichlet([alpha] * width))
    m = np.float32(np.random.beta(alpha, alpha))
    mix = np.zeros_like(preprocess(cfg, image))
    for i in range(width):
        image_aug = image.copy()
        for _ in range(depth if depth > 0 else np.random.randint(1, 4)):
            op = OPS[np.random.randint(9)]
            param = param_from_level(op, np.random.uniform(0.1, cfg["severity"]), size, size)
            if op in SIGNED and np.random.uniform() > 0.5:
                param = -param
            image_aug = apply(op, param, image_aug)
        mix += ws[i] * preprocess(cfg, image_aug)
    return (1 - m) * preprocess(cfg, image) + m * mix


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--preset", choices=list(PRESETS))
    args = ap.parse_args()
    random.seed(0)
    np.random.seed(0)
    for name, cfg in PRESETS.items():
        if args.preset and name != args.preset:
            continue
        photos = [photo(i, *cfg["src"]) for i in range(16)]
        n, start, cpu = 0, time.perf_counter(), time.process_time()
        while n < 10 or time.perf_counter() - start < args.seconds:
            aug(cfg, train_transform(name, photos[n % len(photos)], cfg["size"]))
            n += 1
        rate = n / (time.perf_counter() - start)
        cpu = (time.process_time() - cpu) / n
        print(f"python {name} augmix: {rate:.0f} images/s on one core (released per-sample loop, numpy for torch), "
              f"{1e3 * cpu:.3f} ms of CPU time an image")


if __name__ == "__main__":
    main()
