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

PIXMIX_HD void pixmix_split(float a, float& hi, float& lo) {
    float c = 4097.0f * a;
    hi = c - (c - a);
    lo = a - hi;
}

PIXMIX_HD PixmixPair pixmix_two_product(float a, float b_hi, float b_lo) {
    float p = a * (b_hi + b_lo);
    float a_hi, a_lo;
    pixmix_split(a, a_hi, a_lo);
    PixmixPair r = {p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo};
    return r;
}

#define PIXMIX_LOG2E 1.44269502162933349609375f     // float(log2 e) = 0x3fb8aa3b
#define PIXMIX_LOG2E_HI 1.4423828125f               // its upper 12 bits, 0x3fb8a000
#define PIXMIX_LOG2E_MID (PIXMIX_LOG2E - PIXMIX_LOG2E_HI)
#define PIXMIX_LOG2E_LO 1.925963033500011079013347625732421875e-8f  // 0x32a57060
#define PIXMIX_LN2 0.693147182464599609375f         // float(ln 2) = 0x3f317218
#define PIXMIX_LN2_HI 0.693115234375f               // its upper 12 bits, 0x3f317000
#define PIXMIX_LN2_MID (PIXMIX_LN2 - PIXMIX_LN2_HI)
#define PIXMIX_LN2_LO -1.9046542121259335544891655445098876953125e-9f  // 0xb102e308
#define PIXMIX_ROUNDER 12582912.0f

PIXMIX_HD PixmixPair pixmix_log2_pair(float x) {
    bool tiny = x < 1.17549435082228750797e-38f;
    x = tiny ? x * 16777216.0f : x;
    u32 bits = bits_of(x);
    float k = (float)((i32)(bits >> 23) - 127 - (tiny ? 24 : 0));
    u32 i = (bits >> 16) & 0x7fu;
    float invc = float_of(pixmix_pow_log[3 * i]);
    float t_hi = float_of(pixmix_pow_log[3 * i + 1]);
    float t_lo = float_of(pixmix_pow_log[3 * i + 2]);
    float m_hi = float_of((bits & 0x007ff000u) | 0x3f800000u);
    float m_lo = float_of((bits & 0x007fffffu) | 0x3f800000u) - m_hi;
    PixmixPair r = pixmix_two_sum(m_hi * invc - 1.0f, m_lo * invc);
    float rh = r.hi, rl = r.lo;
    PixmixPair lead = pixmix_two_product(rh, PIXMIX_LOG2E_HI, PIXMIX_LOG2E_MID);
    float poly = (rh * rh) * ((-0.5f * PIXMIX_LOG2E) +
                              rh * ((PIXMIX_LOG2E / 3.0f) +
                                    rh * ((-0.25f * PIXMIX_LOG2E) + rh * (PIXMIX_LOG2E / 5.0f))));
    float small = t_lo + (lead.lo + (rh * PIXMIX_LOG2E_LO + ((rl * (1.0f - rh)) * PIXMIX_LOG2E + poly)));
    PixmixPair s = pixmix_two_sum(k + t_hi, lead.hi);
    PixmixPair out = {s.hi, s.lo + small};
    return out;
}

PIXMIX_HD float pixmix_exp2_pair(PixmixPair y) {
    bool clamped = !(y.hi >= -250.0f && y.hi <= 250.0f);
    float yh = clamped ? (y.hi < -250.0f ? -250.0f : (y.hi > 250.0f ? 250.0f : y.hi)) : y.hi;
    float yl = clamped ? 0.0f : y.lo;
    float t = yh * 64.0f;
    float rounded = t + PIXMIX_ROUNDER;
    i32 j = (i32)(bits_of(rounded) & 0x007fffffu) - 0x00400000;
    PixmixPair f = pixmix_two_sum((t - (rounded - PIXMIX_ROUNDER)) * (1.0f / 64.0f), yl);
    i32 q = j >> 6;
    u32 r = (u32)(j & 63);
    PixmixPair g_lead = pixmix_two_product(f.hi, PIXMIX_LN2_HI, PIXMIX_LN2_MID);
    float gh = g_lead.hi;
    float gl = g_lead.lo + (f.hi * PIXMIX_LN2_LO + f.lo * PIXMIX_LN2);
    float poly = (gh * gh) * (0.5f + gh * ((1.0f / 6.0f) + gh * (1.0f / 24.0f))) + gh * gl;
    float e_hi = float_of(pixmix_pow_exp[2 * r]);
    float e_lo = float_of(pixmix_pow_exp[2 * r + 1]);
    float eh, el;
    pixmix_split(e_hi, eh, el);
    PixmixPair p = pixmix_two_product(gh, eh, el);
    PixmixPair s = pixmix_fast_two_sum(e_hi, p.hi);
    float small = s.lo + (p.lo + (e_hi * (gl + poly) + e_lo * (1.0f + gh)));
    i32 q1 = q >> 1;
    i32 q2 = q - q1;
    float scale1 = float_of((u32)(q1 + 127) << 23);
    float scale2 = float_of((u32)(q2 + 127) << 23);
    PixmixPair m = pixmix_fast_two_sum(s.hi, small);
    float scaled = m.hi * scale1 * scale2;
    float unscale1 = float_of((u32)(127 - q1) << 23);
    float unscale2 = float_of((u32)(127 - q2) << 23);
    float rest = (m.hi - scaled * unscale2 * unscale1) + m.lo;
    float half = float_of((u32)(-23 - q < 1 ? 1 : -23 - q) << 23);
    float step = rest > half ? float_of(1u) : (rest < -half ? -float_of(1u) : 0.0f);
    return q < -125 ? scaled + step : scaled;  // q = -126 may be subnormal (2^f < 1)
}

// pow of src/mix/pow.rs with the exponent already split (pixmix_split).
PIXMIX_HD float pixmix_pow_split(float x, float e, float e_hi, float e_lo) {
    bool normal = x > 0.0f && x < float_of(0x7f800000u);
    PixmixPair l = pixmix_log2_pair(normal ? x : 1.0f);
    PixmixPair p = pixmix_two_product(l.hi, e_hi, e_lo);
    PixmixPair y = {p.hi, p.lo + e * l.lo};
    float r = pixmix_exp2_pair(y);
    float edge = e > 0.0f ? 0.0f : (e == 0.0f ? 1.0f : float_of(0x7f800000u));
    r = x == 0.0f ? edge : (x == float_of(0x7f800000u) ? 1.0f / edge : r);
    bool nan = x != x || e != e || x < 0.0f;
    return nan ? float_of(0x7fc00000u) : r;
}

PIXMIX_HD float pixmix_pow(float x, float e) {
    float e_hi, e_lo;
    pixmix_split(e, e_hi, e_lo);
    return pixmix_pow_split(x, e, e_hi, e_lo);
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
