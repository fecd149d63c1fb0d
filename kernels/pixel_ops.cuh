// The base operators evaluated at one output pixel, as src/ops computes whole rows.
#pragma once
#include "common.cuh"
#include "exact_double.cuh"
#include "plan.cuh"

PIXMIX_HD u8 pixmix_luma(const u8* p) {
    return (u8)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
}

// ImageEnhance's blend of degenerate d with image i by factor f, in float.
PIXMIX_HD u8 pixmix_blend(u8 d, u8 i, float f) {
    float t = (float)d + f * (float)((i32)i - (i32)d);
    return t <= 0.0f ? (u8)0 : (t >= 255.0f ? (u8)255 : (u8)t);
}

// Pillow's bilinear affine sampling (Geometry.c) computes in double: coordinates, weights
// and the interpolation. Here the same roundings happen in integers (no f64 instruction,
// as most GPUs run those at 1/64 of the f32 rate): the coordinates with the soft doubles of
// exact_double.cuh, the interpolation in fixed point, where every value is a multiple of
// 2^-53 (2^-106 for the last product) and each double rounding is a rounding of an exact
// integer to 53 significant bits. src/ops/affine.rs is the reference (tests/kernel_affine.rs).

// v rounded to 53 significant bits, to nearest, ties to even (v < 2^63): for a value
// v * 2^u in the range of normal doubles, its rounding to double, in the same units.
// Branch-free: adding half the dropped range less one, plus the kept part's last bit,
// carries into the kept part exactly when rounding goes up.
PIXMIX_HD u64 pixmix_round53(u64 v) {
    u64 mask = (1ull << (11 - pixmix_clz64(v | (1ull << 52)))) - 1;  // the dropped bits, if any
    return (v + (mask >> 1) + ((v >> 1) & (mask ^ (mask >> 1)) ? 1 : 0)) & ~mask;
}

// The 128-bit hi * 2^64 + lo rounded as pixmix_round53, for values below 2^116 (so the
// dropped bits lie in lo).
PIXMIX_HD void pixmix_round53_wide(u64& hi, u64& lo) {
    i32 s = hi != 0 ? 75 - pixmix_clz64(hi) : 11 - pixmix_clz64(lo | (1ull << 52));
    u64 mask = (1ull << s) - 1;
    u64 add = (mask >> 1) + ((lo >> 1) & (mask ^ (mask >> 1)) ? 1 : 0);
    u64 sum = lo + add;
    hi += sum < add ? 1 : 0;  // carry
    lo = sum & ~mask;
}

// a + (b - a) * dx for bytes a, b and dx = dx53 * 2^-53 (0 <= dx53 <= 2^53), in units of
// 2^-53. The exact product is a whole number of units below 2^61, so its rounding is
// pixmix_round53 (of the magnitude: rounding to nearest is symmetric). Its magnitude rounds
// to at most |b - a| (representable; rounding is monotone), so the sum is a whole number
// of units between a and b, rounded as pixmix_round53 too, and the result lies in [a, b].
PIXMIX_HD u64 pixmix_lerp53(u32 a, u32 b, u64 dx53) {
    u64 p = pixmix_round53((u64)(b >= a ? b - a : a - b) * dx53);
    return pixmix_round53(b >= a ? ((u64)a << 53) + p : ((u64)a << 53) - p);
}

// (u8)(v1 + (v2 - v1) * dy) for v1, v2 in [0, 255] from pixmix_lerp53 and dy = dy53 * 2^-53
// (0 <= dy53 <= 2^53), each step rounded to double. The sum lies in [0, 256), so the byte
// is its floor: if v2 < v1, t = v2 - v1 rounds to a magnitude of at most v1 (-v1 is
// representable) and t * dy to at most |t|, so the sum is >= 0 before and after rounding;
// if v2 >= v1, the sum is at least v1 >= 0 and at most v1 + t <= 255 + ulp(t) / 2, with
// ulp(t) <= 2^-45 = ulp(255), so it rounds to at most 255.
PIXMIX_HD u8 pixmix_lerp_rows(u64 v1, u64 v2, u64 dy53) {
    u64 t = pixmix_round53(v2 >= v1 ? v2 - v1 : v1 - v2);
    // t * dy in units of 2^-106: below 2^61 * 2^53.
    u64 hi = pixmix_mulhi64(t, dy53), lo = t * dy53;
    pixmix_round53_wide(hi, lo);
    // v1 in units of 2^-106, plus or minus the product; below 2^114.
    u64 vhi = v1 >> 11, vlo = v1 << 53;
    if (v2 >= v1) {
        vlo += lo;
        vhi += hi + (vlo < lo ? 1 : 0);
    } else {
        vhi -= hi + (vlo < lo ? 1 : 0);
        vlo -= lo;
    }
    pixmix_round53_wide(vhi, vlo);
    return (u8)(vhi >> 42);  // floor of the value: 2^106 = 2^64 * 2^42
}

// Pillow's bilinear interpolation of the pixels p00, p01 (row above) and p10, p11 (row
// below) with weights dx, dy in units of 2^-53, three channels. Weights of 0 (whole-pixel
// translations, shears along the other axis) skip their step: a + (b - a) * 0 is a.
PIXMIX_HD void pixmix_bilinear(const u8* p00, const u8* p01, const u8* p10, const u8* p11, u64 dx,
                               u64 dy, u8* out) {
    if (dx == 0) {
        for (int c = 0; c < 3; c++)
            out[c] = dy == 0 ? p00[c] : pixmix_lerp_rows((u64)p00[c] << 53, (u64)p10[c] << 53, dy);
        return;
    }
    for (int c = 0; c < 3; c++) {
        u64 v1 = pixmix_lerp53(p00[c], p01[c], dx);
        // Pillow skips the row below when dy is 0.
        out[c] = dy == 0 ? (u8)(v1 >> 53) : pixmix_lerp_rows(v1, pixmix_lerp53(p10[c], p11[c], dx), dy);
    }
}

// One coordinate of an input point inside the image (+0 <= c < size, as double bits): the
// whole pixel at or below c - 0.5 (-1 on (-0.5, 0)) and the weight of the next one, in
// units of 2^-53, which is exact: a whole number in [0, 2^53].
PIXMIX_HD void pixmix_affine_split(u64 c, i64& whole, u64& weight53) {
    if (c < 0x3fe0000000000000ull) {
        // c < 0.5: c - 0.5 lands in [-0.5, 0), and c - 0.5 + 1 in [0.5, 1], rounded
        // once more (to 1 for c just below 0.5).
        u64 d = pixmix_dadd(pixmix_dadd(c, 0xbfe0000000000000ull), 0x3ff0000000000000ull);
        whole = -1;
        weight53 = ((d & (PIXMIX_D_HIDDEN - 1)) | PIXMIX_D_HIDDEN) << ((i32)(d >> 52) - 1022);
        return;
    }
    // 0.5 <= c = m * 2^-k < 2^31, so 22 <= k <= 53: c and c - 0.5 (exact) are multiples of
    // 2^-53, and the fraction of c is frac53 * 2^-53.
    i32 e;
    u64 m = pixmix_d_unpack(c, e);
    i32 k = -e;
    u64 frac53 = (m & ((1ull << k) - 1)) << (53 - k);
    u64 half = 1ull << 52;
    whole = (i64)(m >> k) - (frac53 < half ? 1 : 0);
    weight53 = frac53 < half ? frac53 + half : frac53 - half;
}

// Where output pixel (x, y) samples the w x h input under the affine map m (doubles, as
// bits), in Pillow's order and without fused multiply-adds: xin = (m0 * xc + m1 * yc) + m2,
// yin likewise, with xc = x + 0.5, yc = y + 0.5. False outside the image; inside, each
// coordinate split by pixmix_affine_split.
PIXMIX_HD bool pixmix_affine_point(i32 w, i32 h, const u64* m, i32 x, i32 y, i64& ix, i64& iy,
                                   u64& dx, u64& dy) {
    u64 xc = pixmix_d_from_int(2 * (u64)x + 1, -1), yc = pixmix_d_from_int(2 * (u64)y + 1, -1);
    u64 xin = pixmix_dadd(pixmix_dadd(pixmix_dmul(m[0], xc), pixmix_dmul(m[1], yc)), m[2]);
    u64 yin = pixmix_dadd(pixmix_dadd(pixmix_dmul(m[3], xc), pixmix_dmul(m[4], yc)), m[5]);
    // -0 counts as 0. Then 0 <= xin < w: non-negative doubles order as their bits, and
    // negative ones, infinities and NaNs all compare above w's.
    xin = xin == PIXMIX_D_SIGN ? 0 : xin;
    yin = yin == PIXMIX_D_SIGN ? 0 : yin;
    if (!(xin < pixmix_d_from_int((u64)w, 0) && yin < pixmix_d_from_int((u64)h, 0))) return false;
    pixmix_affine_split(xin, ix, dx);
    pixmix_affine_split(yin, iy, dy);
    return true;
}

// Pillow's bilinear sample of the affine map m (doubles, as bits) at output pixel (x, y);
// black outside.
PIXMIX_HD void pixmix_affine(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y, u8* out) {
    i64 ix, iy;
    u64 dx, dy;
    if (!pixmix_affine_point(w, h, m, x, y, ix, iy, dx, dy)) {
        out[0] = out[1] = out[2] = 0;
        return;
    }
    i64 x0 = ix < 0 ? 0 : (ix > w - 1 ? w - 1 : ix);
    i64 x1 = ix + 1 > w - 1 ? w - 1 : ix + 1;
    i64 r0 = iy < 0 ? 0 : (iy > h - 1 ? h - 1 : iy);
    i64 r1 = iy + 1 < h ? iy + 1 : r0;  // Pillow reads the same row again at the bottom edge
    const u8* row0 = img + r0 * w * 3;
    const u8* row1 = img + r1 * w * 3;
    pixmix_bilinear(row0 + x0 * 3, row0 + x1 * 3, row1 + x0 * 3, row1 + x1 * 3, dx, dy, out);
}

// The matrix of a fast path for pixmix_affine (to come): its entries in fixed point,
// computed once per operator on the host and carried by OpDesc.
//
// Units: coordinates and weights in U = 2^-40; the linear entries m0, m1, m3, m4 in 2^-39,
// so that m0 * xc with xc = (2x + 1) / 2 is a0 * (2x + 1) U. Range (else it declines):
// w, h <= 4096 (2x + 1 < 2^13), |m0|, |m1|, |m3|, |m4| < 2 (below 2^40 units, products
// below 2^53 U = 2^13), |m2|, |m5| < 2^13 (below 2^53 U).
#define PIXMIX_FAST_BITS 40
// OpDesc::fast: the matrix lies in the range; m0, m1, m2 convert exactly; m3, m4, m5 do.
#define PIXMIX_FAST_RANGE 1u
#define PIXMIX_FAST_EXACT_X 2u
#define PIXMIX_FAST_EXACT_Y 4u

// The double `bits` times 2^frac truncated toward zero (off by less than one unit);
// clears `exact` where bits were dropped and `ok` where the exponent field exceeds
// max_field (infinities and NaN included). Zero (either sign) is exact.
PIXMIX_HD i64 pixmix_fixed(u64 bits, i32 frac, i32 max_field, bool& ok, bool& exact) {
    i32 field = (i32)(bits >> 52) & 0x7ff;
    u64 m = (bits & (PIXMIX_D_HIDDEN - 1)) | (field != 0 ? PIXMIX_D_HIDDEN : 0);
    i32 s = 1075 - frac - field;  // bits = m * 2^-s units; s >= 0 wherever field <= max_field
    s = s < 0 ? 0 : (s > 63 ? 63 : s);
    ok = ok && field <= max_field;
    exact = exact && (m & ((1ull << s) - 1)) == 0;
    i64 v = (i64)(m >> s);
    return (i64)bits < 0 ? -v : v;
}

// The matrix m (doubles, as bits) for the fast path: its entries in fixed point (linear
// ones in 2^-39, offsets in U) and the PIXMIX_FAST_* flags. Once per operator, on the host.
PIXMIX_HD u32 pixmix_fast_matrix(const u64* m, i64* fixed) {
    bool ok = true, ex = true, ey = true;
    fixed[0] = pixmix_fixed(m[0], 39, 1023, ok, ex);
    fixed[1] = pixmix_fixed(m[1], 39, 1023, ok, ex);
    fixed[2] = pixmix_fixed(m[2], PIXMIX_FAST_BITS, 1035, ok, ex);
    fixed[3] = pixmix_fixed(m[3], 39, 1023, ok, ey);
    fixed[4] = pixmix_fixed(m[4], 39, 1023, ok, ey);
    fixed[5] = pixmix_fixed(m[5], PIXMIX_FAST_BITS, 1035, ok, ey);
    return (ok ? PIXMIX_FAST_RANGE : 0u) | (ex ? PIXMIX_FAST_EXACT_X : 0u) | (ey ? PIXMIX_FAST_EXACT_Y : 0u);
}

// blend(SMOOTH(I), I, f) at (x, y); the one-pixel border keeps I.
PIXMIX_HD void pixmix_sharpness(const u8* img, i32 s, i32 x, i32 y, float f, u8* out) {
    const u8* p = img + (y * s + x) * 3;
    if (x == 0 || y == 0 || x == s - 1 || y == s - 1) {
        out[0] = p[0];
        out[1] = p[1];
        out[2] = p[2];
        return;
    }
    i32 row = s * 3;
    for (int c = 0; c < 3; c++) {
        const u8* q = p + c;
        u32 ring = q[-row - 3] + q[-row] + q[-row + 3] + q[-3] + q[3] + q[row - 3] + q[row] + q[row + 3];
        u32 sum = ring + 5u * q[0];
        u8 d = (u8)((2u * sum + 13u) / 26u);
        out[c] = pixmix_blend(d, q[0], f);
    }
}

// Operator `d` (any kind but PIXMIX_KIND_MIXING) at output pixel (x, y) of the s x s image
// `orig`, whose statistics (autocontrast and equalize tables, mean luma) are `tables`.
PIXMIX_HD void pixmix_image_op_pixel(const u8* orig, const u8* tables, i32 s, const OpDesc& d, i32 x, i32 y,
                                     u8* out) {
    const u8* p = orig + (y * s + x) * 3;
    switch (d.kind) {
        case PIXMIX_KIND_AUTOCONTRAST:
        case PIXMIX_KIND_EQUALIZE: {
            const u8* t = tables + (d.kind == PIXMIX_KIND_AUTOCONTRAST ? PIXMIX_TABLE_AUTOCONTRAST
                                                                       : PIXMIX_TABLE_EQUALIZE);
            for (int c = 0; c < 3; c++) out[c] = t[c * 256 + p[c]];
            return;
        }
        case PIXMIX_KIND_POSTERIZE: {
            u32 bits = d.u > 8u ? 8u : d.u;
            u32 mask = ~((1u << (8u - bits)) - 1u);
            for (int c = 0; c < 3; c++) out[c] = (u8)(p[c] & mask);
            return;
        }
        case PIXMIX_KIND_SOLARIZE:
            for (int c = 0; c < 3; c++) out[c] = (u32)p[c] < d.u ? p[c] : (u8)(255 - p[c]);
            return;
        case PIXMIX_KIND_ROTATE90:
        case PIXMIX_KIND_ROTATE180:
        case PIXMIX_KIND_ROTATE270: {
            i32 sx = d.kind == PIXMIX_KIND_ROTATE90 ? s - 1 - y : (d.kind == PIXMIX_KIND_ROTATE180 ? s - 1 - x : y);
            i32 sy = d.kind == PIXMIX_KIND_ROTATE90 ? x : (d.kind == PIXMIX_KIND_ROTATE180 ? s - 1 - y : s - 1 - x);
            const u8* q = orig + (sy * s + sx) * 3;
            out[0] = q[0];
            out[1] = q[1];
            out[2] = q[2];
            return;
        }
        case PIXMIX_KIND_AFFINE:
            pixmix_affine(orig, s, s, d.m, x, y, out);
            return;
        case PIXMIX_KIND_COLOR: {
            u8 g = pixmix_luma(p);
            for (int c = 0; c < 3; c++) out[c] = pixmix_blend(g, p[c], d.f);
            return;
        }
        case PIXMIX_KIND_CONTRAST:
        case PIXMIX_KIND_BRIGHTNESS: {
            u8 g = d.kind == PIXMIX_KIND_CONTRAST ? tables[PIXMIX_TABLE_MEAN] : (u8)0;
            for (int c = 0; c < 3; c++) out[c] = pixmix_blend(g, p[c], d.f);
            return;
        }
        case PIXMIX_KIND_SHARPNESS:
            pixmix_sharpness(orig, s, x, y, d.f, out);
            return;
        default:  // PIXMIX_KIND_ORIGINAL
            out[0] = p[0];
            out[1] = p[1];
            out[2] = p[2];
            return;
    }
}

// Operator `d` of sample n at output pixel (x, y) of the s x s original `orig`.
PIXMIX_HD void pixmix_op_pixel(const KernelArgs& args, const OpDesc& d, u32 n, i32 x, i32 y, u8* out) {
    if (d.kind == PIXMIX_KIND_MIXING) {
        const SamplePlan& sp = args.samples[n];
        const PictureMeta& pic = args.mixing_meta[sp.mixing_index];
        const u8* q = args.mixing + pic.offset + ((u64)(sp.mixing_y + y) * pic.width + sp.mixing_x + x) * 3;
        out[0] = q[0];
        out[1] = q[1];
        out[2] = q[2];
        return;
    }
    i32 s = (i32)args.size;
    pixmix_image_op_pixel(args.orig + (u64)n * s * s * 3, args.tables + (u64)n * PIXMIX_TABLE_STRIDE, s, d, x, y,
                          out);
}
