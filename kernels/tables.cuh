// Per-sample tables from channel histograms: ImageOps.autocontrast and ImageOps.equalize,
// and ImageEnhance.Contrast's mean luma (src/ops/lut.rs, src/ops/enhance.rs).
#pragma once
#include "common.cuh"

// What the tables of one channel need from its histogram, from one scan of it; the
// tables' 256 entries then follow independently (one thread each on the GPU).
struct PixmixChannelScan {
    // First and last non-empty bin (-1 when empty): ImageOps.autocontrast's range.
    i32 lo;
    i32 hi;
    // ImageOps.equalize's step: (pixels - pixels of the last bin) // 255, 0 for identity.
    u64 step;
};

// Scans histogram `h`, writing its exclusive prefix sums (pixels below each bin) to `prefix`.
PIXMIX_HD PixmixChannelScan pixmix_scan_channel(const u32* h, u32* prefix) {
    i32 lo = -1, hi = -1;
    u32 nonzero = 0u;
    u64 total = 0ull;
    for (i32 i = 0; i < 256; i++) {
        prefix[i] = (u32)total;
        if (h[i] != 0u) {
            if (lo < 0) lo = i;
            hi = i;
            nonzero++;
        }
        total += h[i];
    }
    PixmixChannelScan s;
    s.lo = lo;
    s.hi = hi;
    s.step = nonzero > 1u ? (total - h[hi]) / 255ull : 0ull;
    return s;
}

// Entry i of ImageOps.autocontrast's table.
PIXMIX_HD u8 pixmix_autocontrast_entry(const PixmixChannelScan& s, i32 i) {
    if (s.lo < 0 || s.hi <= s.lo) return (u8)i;
    double scale = 255.0 / (double)(s.hi - s.lo);
    double offset = -(double)s.lo * scale;
    i64 v = (i64)((double)i * scale + offset);
    return (u8)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Entry i of ImageOps.equalize's table: (step // 2 + pixels below bin i) // step.
PIXMIX_HD u8 pixmix_equalize_entry(const PixmixChannelScan& s, const u32* prefix, i32 i) {
    if (s.step == 0ull) return (u8)i;
    u64 v = (s.step / 2ull + prefix[i]) / s.step;
    return (u8)(v > 255ull ? 255ull : v);
}

// int(mean + 0.5) of the luma, from its sum over `count` pixels.
PIXMIX_HD u8 pixmix_mean_luma(u64 sum, u64 count) { return (u8)((double)sum / (double)count + 0.5); }
