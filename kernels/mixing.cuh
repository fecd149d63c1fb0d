// The float32 mixing arithmetic of src/mix/, operation for operation. Build with
// --fmad=false (and -ffp-contract=off on the host) so no multiply-add is fused.
#pragma once
#include "common.cuh"

#define PIXMIX_LN2 0.6931471805599453
#define PIXMIX_LOG2_E 1.4426950408889634
#define PIXMIX_SQRT2 1.4142135623730951
#define PIXMIX_ROUNDER 6755399441055744.0
#define PIXMIX_TWO52 4503599627370496.0

PIXMIX_HD double pixmix_log2(double x) {
    u64 b = bits_of(x);
    double biased = double_of(bits_of(PIXMIX_TWO52) | ((b >> 52) & 0x7ffull)) - PIXMIX_TWO52;
    double m = double_of((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    bool big = m > PIXMIX_SQRT2;
    m = big ? m * 0.5 : m;
    double k = (biased - 1023.0) + (big ? 1.0 : 0.0);
    double t = (m - 1.0) / (m + 1.0);
    // log_series of src/mix/pow.rs (Estrin's scheme), pair for pair.
    double u = t * t;
    double u2 = u * u;
    double u4 = u2 * u2;
    double u8 = u4 * u4;
    double q0 = 1.0 + (1.0 / 3.0) * u;
    double q1 = 1.0 / 5.0 + (1.0 / 7.0) * u;
    double q2 = 1.0 / 9.0 + (1.0 / 11.0) * u;
    double q3 = 1.0 / 13.0 + (1.0 / 15.0) * u;
    double q4 = 1.0 / 17.0 + (1.0 / 19.0) * u;
    double r0 = q0 + q1 * u2;
    double r1 = q2 + q3 * u2;
    double r2 = q4 + (1.0 / 21.0) * u2;
    double s0 = r0 + r1 * u4;
    double p = s0 + r2 * u8;
    return k + (2.0 * t * p) * PIXMIX_LOG2_E;
}

PIXMIX_HD double pixmix_exp2(double y) {
    // Rust's f64::clamp; y is never NaN here.
    y = y < -1000.0 ? -1000.0 : (y > 1000.0 ? 1000.0 : y);
    double n = (y + PIXMIX_ROUNDER) - PIXMIX_ROUNDER;
    double g = (y - n) * PIXMIX_LN2;
    // exp_series of src/mix/pow.rs (Estrin's scheme), pair for pair.
    double g2 = g * g;
    double g4 = g2 * g2;
    double g8 = g4 * g4;
    double q0 = 1.0 + 1.0 * g;
    double q1 = 1.0 / 2.0 + (1.0 / 6.0) * g;
    double q2 = 1.0 / 24.0 + (1.0 / 120.0) * g;
    double q3 = 1.0 / 720.0 + (1.0 / 5040.0) * g;
    double q4 = 1.0 / 40320.0 + (1.0 / 362880.0) * g;
    double q5 = 1.0 / 3628800.0 + (1.0 / 39916800.0) * g;
    double q6 = 1.0 / 479001600.0 + (1.0 / 6227020800.0) * g;
    double r0 = q0 + q1 * g2;
    double r1 = q2 + q3 * g2;
    double r2 = q4 + q5 * g2;
    double s0 = r0 + r1 * g4;
    double s1 = r2 + q6 * g4;
    double p = s0 + s1 * g8;
    return p * double_of(bits_of(n + (PIXMIX_TWO52 + 1023.0)) << 52);
}

PIXMIX_HD float pixmix_pow(float x, float e) {
    float r = (float)pixmix_exp2((double)e * pixmix_log2((double)x));
    float zero = e > 0.0f ? 0.0f : (e == 0.0f ? 1.0f : float_of(0x7f800000u));
    r = x == 0.0f ? zero : r;
    bool nan = x != x || e != e || x < 0.0f;
    return nan ? float_of(0x7fc00000u) : r;
}

PIXMIX_HD float pixmix_clip01(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

PIXMIX_HD float pixmix_tensorize(u8 v) { return (float)v / 255.0f; }

// One round: the running value x mixed with the other picture's byte v, then clipped.
PIXMIX_HD float pixmix_mix(float x, u8 v, float a, float b, u32 mix) {
    float y = pixmix_tensorize(v);
    float out;
    if (mix == 0u) {
        float other = b * (y * 2.0f - 1.0f);
        out = (a * (x * 2.0f - 1.0f) + other + 1.0f) / 2.0f;
    } else {
        float y2 = y * 2.0f;
        float other = pixmix_pow(y2 > 1e-37f ? y2 : 1e-37f, b);
        out = pixmix_pow(x * 2.0f, a) * other / 2.0f;
    }
    return pixmix_clip01(out);
}

PIXMIX_HD float pixmix_normalize(float x, float mean, float std) { return (x - mean) / std; }

// f32 to IEEE half, round to nearest even (as the half crate).
PIXMIX_HD u16 pixmix_f16(float v) {
    u32 x = bits_of(v);
    u32 sign = (x >> 16) & 0x8000u;
    u32 exp = (x >> 23) & 0xffu;
    u32 man = x & 0x7fffffu;
    if (exp == 0xffu) {
        return (u16)(sign | 0x7c00u | (man ? (0x200u | (man >> 13)) : 0u));
    }
    i32 e = (i32)exp - 127 + 15;
    if (e >= 0x1f) {
        return (u16)(sign | 0x7c00u);
    }
    if (e <= 0) {
        if (e < -10) {
            return (u16)sign;
        }
        man |= 0x800000u;
        u32 shift = (u32)(14 - e);
        u32 half = man >> shift;
        u32 rem = man & ((1u << shift) - 1u);
        u32 mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half & 1u))) {
            half += 1u;
        }
        return (u16)(sign | half);
    }
    u32 half = sign | ((u32)e << 10) | (man >> 13);
    u32 rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) {
        half += 1u;  // may carry into the exponent, which is the right result
    }
    return (u16)half;
}

// f32 to bfloat16, round to nearest even (as the half crate).
PIXMIX_HD u16 pixmix_bf16(float v) {
    u32 x = bits_of(v);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        return (u16)((x >> 16) | 0x40u);
    }
    u32 round = 0x7fffu + ((x >> 16) & 1u);
    return (u16)((x + round) >> 16);
}
