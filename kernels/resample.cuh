// One output element of Pillow's antialiased bilinear resize (src/resize/mod.rs), from the
// sample's precomputed filter.
#pragma once
#include "common.cuh"

#define PIXMIX_PRECISION_BITS 22

// Output element of one pass: the window and fixed-point weights of `filter` (an entry
// of a filter laid out by src/resize `kernel_coeffs`: first input index, length, weights)
// applied to the values read through `src` with `stride` bytes between them, three
// channels each. Integer arithmetic only: the weights were computed once per sample, in
// double precision, on the host, as Pillow computes them once per resize.
PIXMIX_HD void pixmix_resample(const u8* src, i64 stride, const i32* filter, u8* out) {
    i64 xmin = filter[0];
    i32 n = filter[1];
    const i32* w = filter + 2;
    i32 acc[3] = {1 << (PIXMIX_PRECISION_BITS - 1), 1 << (PIXMIX_PRECISION_BITS - 1),
                  1 << (PIXMIX_PRECISION_BITS - 1)};
    for (i32 x = 0; x < n; x++) {
        const u8* p = src + (xmin + x) * stride;
        acc[0] += (i32)p[0] * w[x];
        acc[1] += (i32)p[1] * w[x];
        acc[2] += (i32)p[2] * w[x];
    }
    for (int c = 0; c < 3; c++) out[c] = (u8)clamp_i32(acc[c] >> PIXMIX_PRECISION_BITS, 0, 255);
}

// The filter entry of output index `xx` in the filter starting at `filter` (its taps first).
PIXMIX_HD const i32* pixmix_filter_entry(const i32* filter, i32 xx) {
    return filter + 1 + (i64)xx * (2 + filter[0]);
}

// The second pass's filter, which follows the first pass's filter of `out_size` entries.
PIXMIX_HD const i32* pixmix_second_filter(const i32* first, i32 out_size) {
    return first + 1 + (i64)out_size * (2 + first[0]);
}
