// One output element of Pillow's antialiased bilinear resize (src/resize.rs): the filter
// window and its fixed-point weights are recomputed per element, in the same order.
#pragma once
#include "common.cuh"

#define PIXMIX_PRECISION_BITS 22

// Resamples `in_size` values (read through `src` with `stride` bytes between them, three
// channels each) to output index `xx` of `out_size`.
PIXMIX_HD void pixmix_resample(const u8* src, i64 stride, i32 in_size, i32 out_size, i32 xx, u8* out) {
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filterscale;
    double center = ((double)xx + 0.5) * scale;
    double ss = 1.0 / filterscale;
    i64 xmin = (i64)(center - support + 0.5);
    xmin = xmin < 0 ? 0 : xmin;
    i64 xmax = (i64)(center + support + 0.5);
    xmax = xmax > in_size ? in_size : xmax;
    i64 n = xmax - xmin;
    double ww = 0.0;
    for (i64 x = 0; x < n; x++) {
        double t = ((double)(x + xmin) - center + 0.5) * ss;
        t = t < 0.0 ? -t : t;
        ww += t < 1.0 ? 1.0 - t : 0.0;
    }
    i32 acc[3] = {1 << (PIXMIX_PRECISION_BITS - 1), 1 << (PIXMIX_PRECISION_BITS - 1),
                  1 << (PIXMIX_PRECISION_BITS - 1)};
    for (i64 x = 0; x < n; x++) {
        double t = ((double)(x + xmin) - center + 0.5) * ss;
        t = t < 0.0 ? -t : t;
        double k = t < 1.0 ? 1.0 - t : 0.0;
        double w = ww != 0.0 ? k / ww : k;
        double fixed = w * (double)(1 << PIXMIX_PRECISION_BITS);
        i32 wi = w < 0.0 ? (i32)(-0.5 + fixed) : (i32)(0.5 + fixed);
        const u8* p = src + (x + xmin) * stride;
        acc[0] += (i32)p[0] * wi;
        acc[1] += (i32)p[1] * wi;
        acc[2] += (i32)p[2] * wi;
    }
    for (int c = 0; c < 3; c++) out[c] = (u8)clamp_i32(acc[c] >> PIXMIX_PRECISION_BITS, 0, 255);
}
