// The float32 mixing arithmetic of src/mix/, operation for operation. Build with
// --fmad=false (and -ffp-contract=off on the host) so no multiply-add is fused.
#pragma once
#include "common.cuh"
#include "pow_tables.cuh"

// The single-precision power of src/mix/pow.rs, operation for operation: a logarithm and
// an exponential carried as pairs of floats, from the tables of pow_tables.cuh.
struct PixmixPair {
    float hi;
    float lo;
};

PIXMIX_HD PixmixPair pixmix_two_sum(float a, float b) {
    float s = a + b;
    float bb = s - a;
    PixmixPair p = {s, (a - (s - bb)) + (b - bb)};
    return p;
}

PIXMIX_HD PixmixPair pixmix_fast_two_sum(float a, float b) {
    float s = a + b;
    PixmixPair p = {s, b - (s - a)};
    return p;
}

#define PIXMIX_LOG2E 1.44269502162933349609375f  // float(log2 e) = 0x3fb8aa3b
#define PIXMIX_LOG2E_LO 1.925963033500011079013347625732421875e-8f  // 0x32a57060
#define PIXMIX_LN2 0.693147182464599609375f  // float(ln 2) = 0x3f317218
#define PIXMIX_LN2_LO -1.9046542121259335544891655445098876953125e-9f  // 0xb102e308
#define PIXMIX_ROUNDER 12582912.0f
#define PIXMIX_FLOAT_MIN 1.17549435082228750797e-38f
#define PIXMIX_INF float_of(0x7f800000u)

PIXMIX_HD PixmixPair pixmix_log2_pair(float x) {
    bool tiny = x < PIXMIX_FLOAT_MIN;
    x = tiny ? x * 16777216.0f : x;
    u32 bits = bits_of(x);
    float k = (float)((i32)(bits >> 23) - 127 - (tiny ? 24 : 0));
    u32 i = (bits >> 15) & 0xffu;
    float invc = float_of(pixmix_pow_log[3 * i]);
    float t_hi = float_of(pixmix_pow_log[3 * i + 1]);
    float t_lo = float_of(pixmix_pow_log[3 * i + 2]);
    float m = float_of((bits & 0x007fffffu) | 0x3f800000u);
    float r = pixmix_fma(m, invc, -1.0f);
    float lead = r * PIXMIX_LOG2E;
    float lead_lo = pixmix_fma(r, PIXMIX_LOG2E_LO, pixmix_fma(r, PIXMIX_LOG2E, -lead));
    float q = pixmix_fma(pixmix_fma(-0.25f * PIXMIX_LOG2E, r, PIXMIX_LOG2E / 3.0f), r, -0.5f * PIXMIX_LOG2E);
    float small = t_lo + pixmix_fma(r * r, q, lead_lo);
    PixmixPair s = pixmix_fast_two_sum(k + t_hi, lead);
    PixmixPair out = {s.hi, s.lo + small};
    return out;
}

// The unnormalised mantissa pair of 2^y and the power of two q it is scaled by.
PIXMIX_HD PixmixPair pixmix_exp2_mantissa(PixmixPair y, i32& q) {
    bool clamped = !(y.hi >= -250.0f && y.hi <= 250.0f);
    float yh = clamped ? (y.hi < -250.0f ? -250.0f : (y.hi > 250.0f ? 250.0f : y.hi)) : y.hi;
    float yl = clamped ? 0.0f : y.lo;
    float t = yh * 64.0f;
    float rounded = t + PIXMIX_ROUNDER;
    i32 j = (i32)(bits_of(rounded) & 0x007fffffu) - 0x00400000;
    PixmixPair f = pixmix_two_sum((t - (rounded - PIXMIX_ROUNDER)) * (1.0f / 64.0f), yl);
    q = j >> 6;
    u32 r = (u32)(j & 63);
    float gh = f.hi * PIXMIX_LN2;
    float gl = pixmix_fma(f.hi, PIXMIX_LN2_LO, pixmix_fma(f.lo, PIXMIX_LN2, pixmix_fma(f.hi, PIXMIX_LN2, -gh)));
    float poly = pixmix_fma(gh * gh, pixmix_fma(pixmix_fma(1.0f / 24.0f, gh, 1.0f / 6.0f), gh, 0.5f), gh * gl);
    float e_hi = float_of(pixmix_pow_exp[2 * r]);
    float e_lo = float_of(pixmix_pow_exp[2 * r + 1]);
    float p = e_hi * gh;
    PixmixPair s = pixmix_fast_two_sum(e_hi, p);
    float small = s.lo + (pixmix_fma(e_hi, gh, -p) + pixmix_fma(e_hi, gl + poly, pixmix_fma(e_lo, gh, e_lo)));
    PixmixPair m = {s.hi, small};
    return m;
}

// 2^e for -126 <= e <= 127.
PIXMIX_HD float pixmix_exp2i(i32 e) { return float_of((u32)(e + 127) << 23); }

// 2^y rounded to a float; `subnormal` says the result may be subnormal, where
// pixmix_exp2_subnormal must replace it.
PIXMIX_HD float pixmix_exp2_pair(PixmixPair y, bool& subnormal) {
    i32 q;
    PixmixPair m = pixmix_exp2_mantissa(y, q);
    i32 q1 = q >> 1;
    subnormal = q < -125;
    return (m.hi + m.lo) * pixmix_exp2i(q1) * pixmix_exp2i(q - q1);
}

// 2^y rounded once from the whole pair, for results that may be subnormal.
PIXMIX_HD float pixmix_exp2_subnormal(PixmixPair y) {
    i32 q;
    PixmixPair m = pixmix_exp2_mantissa(y, q);
    m = pixmix_fast_two_sum(m.hi, m.lo);
    i32 q1 = q >> 1;
    float scaled = m.hi * pixmix_exp2i(q1) * pixmix_exp2i(q - q1);
    i32 u1 = (-q) >> 1;
    float rest = (m.hi - scaled * pixmix_exp2i(-q - u1) * pixmix_exp2i(u1)) + m.lo;
    i32 h = -150 - q;
    float half = pixmix_exp2i(h < -126 ? -126 : (h > 127 ? 127 : h));
    float step = float_of(1u);
    return rest > half ? scaled + step : (rest < -half ? scaled - step : scaled);
}

// e * log2 x as a pair, x off the logarithm's domain replaced by 1.
PIXMIX_HD PixmixPair pixmix_pow_exponent(float x, float e) {
    bool normal = x > 0.0f && x < PIXMIX_INF;
    PixmixPair l = pixmix_log2_pair(normal ? x : 1.0f);
    float hi = l.hi * e;
    PixmixPair y = {hi, pixmix_fma(e, l.lo, pixmix_fma(l.hi, e, -hi))};
    return y;
}

// The results at zero, infinity and NaN, over the arithmetic's r.
PIXMIX_HD float pixmix_pow_edges(float x, float e, float r) {
    float zero = e > 0.0f ? 0.0f : (e == 0.0f ? 1.0f : PIXMIX_INF);
    r = x == 0.0f ? zero : (x == PIXMIX_INF ? 1.0f / zero : r);
    bool nan = x != x || e != e || x < 0.0f;
    return nan ? float_of(0x7fc00000u) : r;
}

PIXMIX_HD float pixmix_pow(float x, float e) {
    PixmixPair y = pixmix_pow_exponent(x, e);
    bool subnormal;
    float r = pixmix_exp2_pair(y, subnormal);
    if (subnormal) r = pixmix_exp2_subnormal(y);
    return pixmix_pow_edges(x, e, r);
}

PIXMIX_HD float pixmix_clip01(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

PIXMIX_HD float pixmix_tensorize(u8 v) { return (float)v / 255.0f; }

// An additive round: the running value x with the other picture's byte v, clipped.
PIXMIX_HD float pixmix_mix_add(float x, u8 v, float a, float b) {
    float other = b * (pixmix_tensorize(v) * 2.0f - 1.0f);
    return pixmix_clip01((a * (x * 2.0f - 1.0f) + other + 1.0f) / 2.0f);
}

// A multiplicative round from the power of the running value and the other picture's term
// `max(2y, 1e-37) ^ b` (a round's table entry), clipped.
PIXMIX_HD float pixmix_mix_multiply(float power, float other) { return pixmix_clip01(power * other / 2.0f); }

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
