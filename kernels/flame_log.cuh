// log2 and exp2 in double precision from plain multiplies and adds, for the flames' tone
// mapping (src/fractal/log_exp.rs, operation for operation): the same bits on any machine.
#pragma once
#include "common.cuh"

#define PIXMIX_F64_LN2 0.6931471805599453
#define PIXMIX_F64_LOG2_E 1.4426950408889634
#define PIXMIX_F64_SQRT2 1.4142135623730951
#define PIXMIX_F64_ROUNDER 6755399441055744.0
#define PIXMIX_F64_TWO52 4503599627370496.0

PIXMIX_HD double pixmix_log2(double x) {
    u64 b = bits_of(x);
    double biased = double_of(bits_of(PIXMIX_F64_TWO52) | ((b >> 52) & 0x7ffull)) - PIXMIX_F64_TWO52;
    double m = double_of((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    bool big = m > PIXMIX_F64_SQRT2;
    m = big ? m * 0.5 : m;
    double k = (biased - 1023.0) + (big ? 1.0 : 0.0);
    double t = (m - 1.0) / (m + 1.0);
    // log_series of src/fractal/log_exp.rs (Estrin's scheme), pair for pair.
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
    return k + (2.0 * t * p) * PIXMIX_F64_LOG2_E;
}

PIXMIX_HD double pixmix_exp2(double y) {
    // Rust's f64::clamp; y is never NaN here.
    y = y < -1000.0 ? -1000.0 : (y > 1000.0 ? 1000.0 : y);
    double n = (y + PIXMIX_F64_ROUNDER) - PIXMIX_F64_ROUNDER;
    double g = (y - n) * PIXMIX_F64_LN2;
    // exp_series of src/fractal/log_exp.rs (Estrin's scheme), pair for pair.
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
    return p * double_of(bits_of(n + (PIXMIX_F64_TWO52 + 1023.0)) << 52);
}
