#!/usr/bin/env python3
"""Times torchvision's AugMix (`torchvision.transforms.v2.AugMix`) against `pixmix.AugMix`
on one core, in one run, on the same images: speed only.

torchvision side, per sample, as a Dataset's transform runs it: a uint8 3 x H x W tensor
through the preset's train transform (RandomCrop(32, padding=4) + RandomHorizontalFlip for
cifar, RandomResizedCrop(224) + RandomHorizontalFlip for imagenet), ``v2.AugMix`` with the
released defaults (severity 3 / 1, width 3, depth -1, alpha 1, all_ops=False: torchvision's
own default is all_ops=True), then ``v2.ToDtype(torch.float32, scale=True)`` and
``v2.Normalize`` (the preset's mean and std), so both sides end in the same normalized
float32 3 x S x S tensor. ``torch.set_num_threads(1)``.

pixmix side: ``pixmix.AugMix(preset, threads=1)`` on batches of 64 H x W x 3 uint8 arrays
(the same train transform and AugMix, to the same normalized float32 output), and
``pixmix.AugMixTransform(preset, threads=1)`` one image per call, the way a Dataset's
``__getitem__`` would use it.

Inputs as tools/augmix_baseline.py and ``pixmix bench --method augmix``: 32x32 photos for
cifar, 500x375 for imagenet (tools/python_baseline.py's synthetic photos). The
measurements alternate (torchvision, pixmix batch, pixmix per sample) for --reps
repetitions of --seconds each, and every line prints images/s and the ratio to
torchvision's rate of the same repetition.

torchvision's AugMix is not the released algorithm (google-research/augmix), which pixmix
reproduces bit for bit: it applies its operators to uint8 tensors with torch kernels
instead of Pillow (other interpolation and rounding), draws each operator's magnitude from
the first `severity` of ten fixed bins (0 included) instead of uniformly in
[0.1, severity], has its own parameter tables, and mixes the raw uint8 chains and truncates the mixture back to
uint8 before ToDtype/Normalize, where the released code mixes the normalized float32
chains. The outputs therefore differ in distribution and in every pixel; this compares
speed only.

    python3 tools/augmix_torchvision.py [--seconds 5] [--reps 3] [--preset cifar]
    # needs torch, torchvision, Pillow and the pixmix package (pip install ./python)
"""
import argparse
import time

import numpy as np
import torch
from torchvision.transforms import v2

import pixmix
from python_baseline import photo

PRESETS = {
    "cifar": dict(size=32, src=(32, 32), severity=3, mean=[0.5] * 3, std=[0.5] * 3),
    "imagenet": dict(size=224, src=(500, 375), severity=1,
                     mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
}
BATCH = 64


def torchvision_transform(name, cfg):
    size = cfg["size"]
    if name == "cifar":
        train = [v2.RandomCrop(size, padding=4), v2.RandomHorizontalFlip()]
    else:
        train = [v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()]
    return v2.Compose(train + [
        v2.AugMix(severity=cfg["severity"], mixture_width=3, chain_depth=-1, alpha=1.0,
                  all_ops=False),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(cfg["mean"], cfg["std"]),
    ])


def rate(step, seconds):
    """Images per second of `step()` (which returns how many images it augmented), run for
    at least `seconds` and three calls, after one warm-up call."""
    step()
    n, calls, start = 0, 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        n += step()
        calls += 1
    return n / (time.perf_counter() - start)


def measure(name, cfg, seconds, reps):
    arrays = [np.array(photo(i, *cfg["src"])) for i in range(16)]
    tensors = [torch.from_numpy(a).permute(2, 0, 1).contiguous() for a in arrays]
    tv = torchvision_transform(name, cfg)
    batch_aug = pixmix.AugMix(preset=name, seed=0, threads=1)
    sample_aug = pixmix.AugMixTransform(preset=name, seed=0, threads=1)
    batch = [arrays[i % len(arrays)] for i in range(BATCH)]
    out = tv(tensors[0])
    assert out.dtype == torch.float32 and tuple(out.shape) == (3, cfg["size"], cfg["size"])
    assert batch_aug(batch[:2]).shape == (2, 3, cfg["size"], cfg["size"])
    state = {"i": 0}

    def tv_step():
        for _ in range(16):
            tv(tensors[state["i"] % len(tensors)])
            state["i"] += 1
        return 16

    def batch_step():
        batch_aug(batch)
        return BATCH

    def sample_step():
        for a in arrays:
            sample_aug(a)
        return len(arrays)

    rows = []
    for rep in range(reps):
        t = rate(tv_step, seconds)
        b = rate(batch_step, seconds)
        s = rate(sample_step, seconds)
        rows.append((t, b, s))
        print(f"{name} rep {rep + 1}: torchvision v2.AugMix {t:,.0f} images/s; "
              f"pixmix.AugMix batch {BATCH} {b:,.0f} images/s ({b / t:.1f}x); "
              f"pixmix.AugMixTransform per sample {s:,.0f} images/s ({s / t:.1f}x)", flush=True)
    t, b, s = (np.array(c) for c in zip(*rows))
    print(f"{name} summary over {reps} alternating reps, one thread: torchvision "
          f"{t.min():,.0f} to {t.max():,.0f} images/s; pixmix batch {b.min():,.0f} to "
          f"{b.max():,.0f} ({(b / t).min():.1f}x to {(b / t).max():.1f}x); pixmix per sample "
          f"{s.min():,.0f} to {s.max():,.0f} ({(s / t).min():.1f}x to {(s / t).max():.1f}x)",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    ap.add_argument("--reps", type=int, default=3, help="alternating repetitions per preset")
    ap.add_argument("--preset", choices=list(PRESETS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, torchvision "
          f"{__import__('torchvision').__version__}, pixmix {pixmix.__version__}; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    for name, cfg in PRESETS.items():
        if args.preset in (None, name):
            measure(name, cfg, args.seconds, args.reps)


if __name__ == "__main__":
    main()
