// Per-sample tables from channel histograms: ImageOps.autocontrast and ImageOps.equalize,
// and ImageEnhance.Contrast's mean luma (src/ops/lut.rs, src/ops/enhance.rs).
#pragma once
#include "common.cuh"

PIXMIX_HD void pixmix_autocontrast_table(const u32* h, u8* table) {
    i32 lo = -1, hi = -1;
    for (i32 i = 0; i < 256; i++) {
        if (h[i] != 0u) {
            if (lo < 0) lo = i;
            hi = i;
        }
    }
    if (lo < 0 || hi <= lo) {
        for (i32 i = 0; i < 256; i++) table[i] = (u8)i;
        return;
    }
    double scale = 255.0 / (double)(hi - lo);
    double offset = -(double)lo * scale;
    for (i32 i = 0; i < 256; i++) {
        i64 v = (i64)((double)i * scale + offset);
        table[i] = (u8)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
}

PIXMIX_HD void pixmix_equalize_table(const u32* h, u8* table) {
    u32 nonzero = 0u;
    i32 last = -1;
    u64 total = 0ull;
    for (i32 i = 0; i < 256; i++) {
        if (h[i] != 0u) {
            nonzero++;
            last = i;
        }
        total += h[i];
    }
    u64 step = nonzero > 1u ? (total - h[last]) / 255ull : 0ull;
    if (step == 0ull) {
        for (i32 i = 0; i < 256; i++) table[i] = (u8)i;
        return;
    }
    u64 n = step / 2ull;
    for (i32 i = 0; i < 256; i++) {
        u64 v = n / step;
        table[i] = (u8)(v > 255ull ? 255ull : v);
        n += h[i];
    }
}

// int(mean + 0.5) of the luma, from its sum over `count` pixels.
PIXMIX_HD u8 pixmix_mean_luma(u64 sum, u64 count) { return (u8)((double)sum / (double)count + 0.5); }
