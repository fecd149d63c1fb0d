// IEEE double multiplication and addition (round to nearest, ties to even) in integer
// arithmetic, on the doubles' bit patterns. Pillow computes its affine coordinates in
// double; these give the same bits without a single f64 instruction, which most GPUs run
// at 1/64 of the f32 rate. Finite operands, subnormals included, give the IEEE result and
// overflow gives the signed infinity; a non-finite operand gives a NaN (IEEE would keep
// an infinity), which is enough here: a non-finite coordinate stays non-finite through
// further sums and products with finite values, and lies outside the image either way.
#pragma once
#include "common.cuh"

#define PIXMIX_D_SIGN 0x8000000000000000ull
#define PIXMIX_D_HIDDEN 0x0010000000000000ull
#define PIXMIX_D_INF 0x7ff0000000000000ull
#define PIXMIX_D_NAN 0x7ff8000000000000ull

// Leading zero bits of v != 0.
PIXMIX_HD i32 pixmix_clz64(u64 v) {
#if defined(__CUDA_ARCH__)
    return __clzll((i64)v);
#else
    return __builtin_clzll(v);
#endif
}

// The high word of the 128-bit product a * b.
PIXMIX_HD u64 pixmix_mulhi64(u64 a, u64 b) {
#if defined(__CUDA_ARCH__)
    return __umul64hi(a, b);
#else
    return (u64)(((unsigned __int128)a * b) >> 64);
#endif
}

// The double v * 2^scale for 0 <= v < 2^53 (exact while the result is normal).
PIXMIX_HD u64 pixmix_d_from_int(u64 v, i32 scale) {
    if (v == 0) return 0;
    i32 s = pixmix_clz64(v) - 11;
    // v << s carries the hidden bit, which adds one to the exponent field: hence the - 1.
    return ((u64)(1074 + scale - s) << 52) + (v << s);
}

// Significand and exponent of a finite non-zero magnitude b: b = m * 2^e with
// 2^52 <= m < 2^53 (subnormals normalized).
PIXMIX_HD u64 pixmix_d_unpack(u64 b, i32& e) {
    i32 field = (i32)(b >> 52);
    u64 m = b & (PIXMIX_D_HIDDEN - 1);
    if (field != 0) {
        e = field - 1075;
        return m | PIXMIX_D_HIDDEN;
    }
    i32 s = pixmix_clz64(m) - 11;
    e = -1074 - s;
    return m << s;
}

// The double nearest to m * 2^e with sign `sign`, where 2^63 <= m < 2^64 and bit 0 of m
// also stands for any non-zero bits below it ("sticky": far below the rounding position,
// it only tells an exact tie from a value above it).
PIXMIX_HD u64 pixmix_d_round(u64 sign, u64 m, i32 e) {
    i32 field = e + 1086;  // exponent field of the leading bit, 2^(63 + e)
    if (field >= 2047) return sign | PIXMIX_D_INF;
    u64 bits;
    if (field >= 1) {
        // Keep 53 bits. Adding half an ulp less one, plus the kept part's last bit, carries
        // into the kept part exactly when rounding to nearest even goes up. The hidden bit
        // adds one to the field (hence the - 1), and so does a carry to the next power of two.
        u64 up = ((m & 0x7ff) + 0x3ff + ((m >> 11) & 1)) >> 11;
        bits = ((u64)(field - 1) << 52) + (m >> 11) + up;
    } else {
        // Subnormal: keep the bits at or above 2^-1074.
        i32 shift = 12 - field;
        if (shift > 64) return sign;  // below half the smallest subnormal
        u64 q = shift == 64 ? 0 : m >> shift;
        u64 rem = shift == 64 ? m : m & ((1ull << shift) - 1);
        u64 half = 1ull << (shift - 1);
        bits = q + (rem > half || (rem == half && (q & 1)) ? 1 : 0);
    }
    return sign | (bits >= PIXMIX_D_INF ? PIXMIX_D_INF : bits);
}

// a * b in IEEE double.
PIXMIX_HD u64 pixmix_dmul(u64 a, u64 b) {
    u64 sign = (a ^ b) & PIXMIX_D_SIGN;
    u64 ma = a & ~PIXMIX_D_SIGN, mb = b & ~PIXMIX_D_SIGN;
    if (ma >= PIXMIX_D_INF || mb >= PIXMIX_D_INF) return PIXMIX_D_NAN;
    if (ma == 0 || mb == 0) return sign;
    // A factor of +-1 (the shears' and translations' matrices) is exact.
    if (ma == 0x3ff0000000000000ull) return sign | mb;
    if (mb == 0x3ff0000000000000ull) return sign | ma;
    i32 ea, eb;
    u64 x = pixmix_d_unpack(ma, ea) << 11, y = pixmix_d_unpack(mb, eb) << 11;
    // x * y lies in [2^126, 2^128): its high word has 63 or 64 significant bits.
    u64 hi = pixmix_mulhi64(x, y), lo = x * y;
    i32 e = ea + eb + 42;  // x * y * 2^(ea + eb - 22) = (hi + lo * 2^-64) * 2^(ea + eb + 42)
    if (!(hi >> 63)) {
        hi = (hi << 1) | (lo >> 63);
        lo <<= 1;
        e -= 1;
    }
    return pixmix_d_round(sign, hi | (lo != 0 ? 1 : 0), e);
}

// a + b in IEEE double.
PIXMIX_HD u64 pixmix_dadd(u64 a, u64 b) {
    u64 ma = a & ~PIXMIX_D_SIGN, mb = b & ~PIXMIX_D_SIGN;
    if (ma >= PIXMIX_D_INF || mb >= PIXMIX_D_INF) return PIXMIX_D_NAN;
    if (ma < mb) {  // |a| >= |b| from here on
        u64 t = a;
        a = b;
        b = t;
        t = ma;
        ma = mb;
        mb = t;
    }
    if (mb == 0) return ma == 0 ? (a & b) : a;  // -0 only for -0 + -0
    // Significands with the hidden bit and 10 guard bits below (subnormals: no hidden bit,
    // the smallest exponent), and bit 63 free for a carry.
    i32 fa = (i32)(ma >> 52), fb = (i32)(mb >> 52);
    u64 x = ((ma & (PIXMIX_D_HIDDEN - 1)) | (fa != 0 ? PIXMIX_D_HIDDEN : 0)) << 10;
    u64 y = ((mb & (PIXMIX_D_HIDDEN - 1)) | (fb != 0 ? PIXMIX_D_HIDDEN : 0)) << 10;
    fa = fa != 0 ? fa : 1;
    i32 d = fa - (fb != 0 ? fb : 1);
    // Aligned, with any bits shifted out jammed into bit 0 (sticky). Bits are lost only for
    // d > 10, where a is normal: then a difference keeps at least 2^61 and normalizes by at
    // most 2 places, so the jammed bit stays far below the rounding position and stands in
    // exactly for the lost bits.
    if (d >= 63) {
        y = 1;
    } else if (d > 0) {
        y = (y >> d) | ((y << (64 - d)) != 0 ? 1 : 0);
    }
    u64 r = (a ^ b) & PIXMIX_D_SIGN ? x - y : x + y;
    if (r == 0) return 0;  // x - x is +0 when rounding to nearest
    i32 s = pixmix_clz64(r);
    return pixmix_d_round(a & PIXMIX_D_SIGN, r << s, fa - 1085 - s);
}
