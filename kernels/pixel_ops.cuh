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
// black outside. Exact everywhere but slow: pixmix_affine tries pixmix_affine_fast first.
PIXMIX_HD void pixmix_affine_exact(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y, u8* out) {
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

// The fast path. pixmix_affine_exact rounds every double operation as Pillow does, at
// over a thousand instructions a pixel. pixmix_affine_fast computes the same input point
// and interpolation in 64-bit fixed point, each value either exact or within a proven
// bound of Pillow's double, and takes each discrete decision (inside or outside, the whole
// pixel below each coordinate, each channel's byte) only where every value within the
// bound decides the same; elsewhere it declines and pixmix_affine_exact decides. The bounds
// are zero where the arithmetic is exact (matrices of 0s, 1s and dyadic offsets: shears'
// other axis, whole-pixel translations), so those decide too.
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

PIXMIX_HD i64 pixmix_abs64(i64 v) { return v < 0 ? -v : v; }

// The high word of the 128-bit signed product a * b: floor(a * b / 2^64).
PIXMIX_HD i64 pixmix_mulhi_s64(i64 a, i64 b) {
#if defined(__CUDA_ARCH__)
    return __mul64hi(a, b);
#else
    return (i64)(((__int128)a * b) >> 64);
#endif
}

// One input coordinate of pixel (x, y), (m0 * xc + m1 * yc) + m2 from the fixed-point
// entries a (exact: converted exactly), as c in U; err bounds |c - Pillow's coordinate|
// (strictly): 0 where every operation is exact, else K.
//   Truncating the entries moves a0 (2x + 1) by less than 2x + 1 <= 2w - 1 U, a1 (2y + 1)
// by less than 2h - 1 U, a2 by less than 1 U. Pillow rounds m0 xc and m1 yc (below 2^13:
// by at most U / 2 each), their sum (below 2^14: U) and the coordinate (below 2^15: 2 U).
// So |c - coordinate| < 2w + 2h + 3 U < K = 2(w + h) + 8 U, which leaves 4 U to spare.
//   If the three entries convert exactly, both products are whole numbers of U below
// 2^53 U, doubles; if their sum and c lie below 2^53 U too, they are doubles, so no
// operation rounds and c is Pillow's coordinate.
PIXMIX_HD i64 pixmix_fast_coord(const i64* a, bool exact, i64 u, i64 v, i64 k, i64& err) {
    i64 sum = a[0] * u + a[1] * v, c = sum + a[2];
    exact = exact && ((pixmix_abs64(sum) | pixmix_abs64(c)) >> 53) == 0;
    err = exact ? 0 : k;
    return c;
}

// Both coordinates of pixel (x, y) under the matrix (pixmix_fast_matrix's entries and
// flags); false out of the fast path's range.
PIXMIX_HD bool pixmix_fast_point(i32 w, i32 h, const i64* fixed, u32 flags, i32 x, i32 y, i64& X, i64& ex, i64& Y,
                                 i64& ey) {
    if (!((flags & PIXMIX_FAST_RANGE) && (u32)(w - 1) < 4096u && (u32)(h - 1) < 4096u)) return false;
    i64 k = 2 * ((i64)w + h) + 8;
    i64 u = 2 * (i64)x + 1, v = 2 * (i64)y + 1;
    X = pixmix_fast_coord(fixed, (flags & PIXMIX_FAST_EXACT_X) != 0, u, v, k, ex);
    Y = pixmix_fast_coord(fixed + 3, (flags & PIXMIX_FAST_EXACT_Y) != 0, u, v, k, ey);
    return true;
}

// One channel: bytes a, b (row above), c, d (row below), the point's weights dX, dY within
// ex, ey of Pillow's dx, dy (pixmix_affine_fast). Pillow: v1 = fl(a + fl((b - a) dx)),
// v2 likewise, v = fl(v1 + fl(fl(v2 - v1) dy)) (its skip at dy == 0 gives the same v1), all
// in [0, 255] (pixmix_lerp_rows); the byte is floor(v). Here V1 = a + (b - a) dX exactly,
// V2 likewise, T = V2 - V1, V = V1 + floor(T dY / 2^40); Rx = max(|b - a|, |d - c|).
//  - |V1 - v1| <= |b - a| (ex + 2^-5): Pillow's two roundings below 256 lose at most 2^-46
//    each, none if b == a, none where dx is exact (ex = 0: the product and sum are whole
//    numbers of U below 2^48 U, doubles). Likewise V2. So where ex = 0, V1, V2, T are exact.
//  - V - v = (V1 - v1)(1 - dY) + (V2 - v2) dY + (v2 - v1)(dY - dy) - (the floor: below 1 U,
//    none if T = 0) - (Pillow's three roundings: below 2^-4 U, none if v2 = v1).
//  - |v2 - v1| <= |T| + |V1 - v1| + |V2 - v2|, whose last two times ey / 2^40 stay below 1 U.
// So |V - v| <= E = Rx (ex + 1) + (|T| ey / 2^40 + 3 where T != 0) U, the Rx term dropped
// where ex = 0 (v2 != v1 with T = 0 needs Rx >= 1 and ex > 0). Where dy = 0 is exact
// (ey = dY = 0), V = V1 and |V - v| <= |b - a| ex. The byte is floor(V) where
// floor(V - E) = floor(V + E).
//
// A channel's value V where dy = 0 is exact (the row above alone), and its bound E, in U.
PIXMIX_HD i64 pixmix_fast_lerp_row(i32 a, i32 b, i64 dx, i64 ex, i64& E) {
    E = (i64)(b >= a ? b - a : a - b) * ex;
    return ((i64)a << PIXMIX_FAST_BITS) + (i64)(b - a) * dx;
}

// A channel's value V from both rows and its bound E, in U.
PIXMIX_HD i64 pixmix_fast_lerp(i32 a, i32 b, i32 c, i32 d, i64 dx, i64 dy, i64 ex, i64 ey, i64& E) {
    i32 top = b - a, bottom = d - c;
    i32 rx = top < 0 ? -top : top, rb = bottom < 0 ? -bottom : bottom;
    rx = rb > rx ? rb : rx;
    i64 V1 = ((i64)a << PIXMIX_FAST_BITS) + (i64)top * dx;
    i64 V2 = ((i64)c << PIXMIX_FAST_BITS) + (i64)bottom * dx;
    i64 T = V2 - V1;
    E = (i64)rx * (ex == 0 ? 0 : ex + 1) + (T != 0 ? ((pixmix_abs64(T) * ey) >> PIXMIX_FAST_BITS) + 3 : 0);
    // T dy / 2^40 = (4 T) (2^22 dy) / 2^64: |T| < 2^48, dy <= 2^40.
    return V1 + pixmix_mulhi_s64(T * 4, dy << 22);
}

// floor(V), with the bits where floor(V - E) and floor(V + E) differ added to `spread`.
PIXMIX_HD u8 pixmix_fast_floor(i64 V, i64 E, u64& spread) {
    spread |= (u64)((V - E) ^ (V + E));
    return (u8)(V >> PIXMIX_FAST_BITS);
}

// Output pixel (x, y) of pixmix_affine if the fast path can decide it (true, `out`
// written), else false.
//
// The point. xin = X +- ex, yin = Y +- ey (pixmix_fast_coord). It is surely outside if
// X + ex < 0, X - ex >= w or likewise for Y, and surely inside if X - ex >= 0, X + ex < w
// and likewise for Y. For xin >= 0.5, xs = xin - 0.5 is exact (pixmix_affine_split), so
// ix = floor(X - 0.5 +- ex) where both ends agree, and dx = Xs - ix is off by what X is.
// For xin < 0.5 (ix = -1), Pillow's dx = fl(fl(xin - 0.5) + 1) lies within 2^-54 + 2^-55 of
// xin + 0.5 = Xs - ix (covered by ex's spare), and is exactly that where X is exact
// (whole numbers of U below 1 are doubles). So |dX - dx| <= ex, |dY - dy| <= ey in U.
PIXMIX_HD bool pixmix_affine_fast(const u8* img, i32 w, i32 h, const i64* fixed, u32 flags, i32 x, i32 y,
                                  u8* out) {
    i64 X, ex, Y, ey;
    if (!pixmix_fast_point(w, h, fixed, flags, x, y, X, ex, Y, ey)) return false;
    i64 W = (i64)w << PIXMIX_FAST_BITS, H = (i64)h << PIXMIX_FAST_BITS;
    if (X + ex < 0 || X - ex >= W || Y + ey < 0 || Y - ey >= H) {
        out[0] = out[1] = out[2] = 0;
        return true;
    }
    i64 half = 1ll << (PIXMIX_FAST_BITS - 1);
    i64 xs = X - half, ys = Y - half;
    i64 ix = (xs - ex) >> PIXMIX_FAST_BITS, iy = (ys - ey) >> PIXMIX_FAST_BITS;
    if (X - ex < 0 || X + ex >= W || Y - ey < 0 || Y + ey >= H || ix != (xs + ex) >> PIXMIX_FAST_BITS ||
        iy != (ys + ey) >> PIXMIX_FAST_BITS)
        return false;
    i64 dx = xs - (ix << PIXMIX_FAST_BITS), dy = ys - (iy << PIXMIX_FAST_BITS);
    // Inside: -1 <= ix < w, -1 <= iy < h.
    i32 x0 = ix < 0 ? 0 : (i32)ix;
    i32 x1 = ix + 1 > w - 1 ? w - 1 : (i32)ix + 1;
    i32 r0 = iy < 0 ? 0 : (i32)iy;
    i32 r1 = iy + 1 < h ? (i32)iy + 1 : r0;  // Pillow reads the same row again at the bottom edge
    const u8* p00 = img + ((i64)r0 * w + x0) * 3;
    const u8* p01 = img + ((i64)r0 * w + x1) * 3;
    u64 spread = 0;  // the bits where floor(V - E) and floor(V + E) differ, over the channels
    u8 res[3];
    if (ey == 0 && dy == 0) {
        // The row above alone (shear_x, translations).
        if (ex == 0 && dx == 0) {
            out[0] = p00[0];
            out[1] = p00[1];
            out[2] = p00[2];
            return true;
        }
        for (int c = 0; c < 3; c++) {
            i64 E, V = pixmix_fast_lerp_row(p00[c], p01[c], dx, ex, E);
            res[c] = pixmix_fast_floor(V, E, spread);
        }
    } else {
        const u8* p10 = img + ((i64)r1 * w + x0) * 3;
        const u8* p11 = img + ((i64)r1 * w + x1) * 3;
        for (int c = 0; c < 3; c++) {
            i64 E, V = pixmix_fast_lerp(p00[c], p01[c], p10[c], p11[c], dx, dy, ex, ey, E);
            res[c] = pixmix_fast_floor(V, E, spread);
        }
    }
    if (spread >> PIXMIX_FAST_BITS) return false;
    out[0] = res[0];
    out[1] = res[1];
    out[2] = res[2];
    return true;
}

// pixmix_affine_exact's bytes packed in a word (red lowest), out of line in the kernels: the
// fast path leaves it the rare pixels it declines, so its registers and code stay out of
// the callers' (a returned word keeps their bytes out of local memory).
PIXMIX_HD_NOINLINE u32 pixmix_affine_exact_rgb(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y) {
    u8 o[3];
    pixmix_affine_exact(img, w, h, m, x, y, o);
    return (u32)o[0] | (u32)o[1] << 8 | (u32)o[2] << 16;
}

// Pillow's bilinear sample of the affine operator d at output pixel (x, y); black outside:
// the fast path, or the exact one where it declines.
PIXMIX_HD void pixmix_affine(const u8* img, i32 w, i32 h, const OpDesc& d, i32 x, i32 y, u8* out) {
    if (pixmix_affine_fast(img, w, h, d.fixed, d.fast, x, y, out)) return;
    u32 rgb = pixmix_affine_exact_rgb(img, w, h, d.m, x, y);
    out[0] = (u8)rgb;
    out[1] = (u8)(rgb >> 8);
    out[2] = (u8)(rgb >> 16);
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
            pixmix_affine(orig, s, s, d, x, y, out);
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
