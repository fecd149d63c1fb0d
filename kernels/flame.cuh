// Fractal flames: the CPU renderer of src/fractal, operation for operation, so a GPU
// renders the same bytes. Walker w of a picture plots its points from the counter-based
// stream (seed, w); histogram sums are integers, so their order does not matter.
#pragma once
#include "common.cuh"
#include "flame_log.cuh"

#define PIXMIX_FLAME_MAX_XFORMS 24
#define PIXMIX_FLAME_MAX_VARS 4
#define PIXMIX_FLAME_WALKER_POINTS 1024
#define PIXMIX_FLAME_SKIP 20
#define PIXMIX_FLAME_COUNT_CAP 65535u
#define PIXMIX_PI 3.141592653589793
#define PIXMIX_FRAC_PI_2 1.5707963267948966

// src/fractal/device.rs: FlameXform
struct FlameXform {
    double affine[6];
    double post[6];
    double var_weight[PIXMIX_FLAME_MAX_VARS];
    double color;
    double color_speed;
    double cum;
    u32 var_id[PIXMIX_FLAME_MAX_VARS];
    u32 n_vars;
    u32 has_post;
};

// src/fractal/device.rs: FlameGenome
struct FlameGenome {
    FlameXform xf[PIXMIX_FLAME_MAX_XFORMS];
    FlameXform final_xf;
    u32 palette[256][4];
    double cx;
    double cy;
    double side;
    double gamma;
    u32 n;
    u32 has_final;
    u32 reserved[2];
};

// One batch of pictures.
struct FlameArgs {
    const FlameGenome* genomes;
    const u64* seeds;
    u32* buckets;   // images x (2 size)^2 x 4: count, r, g, b
    u32* scratch;   // images x 65536: histogram of counts
    u32* nref;      // images
    u8* out;        // images x size x size x 3
    u64 points;     // plotted points per picture
    u32 images;
    u32 size;
};

// --- src/fractal/fastmath.rs ---------------------------------------------------------
PIXMIX_HD void flame_sin_cos(double x, double* s_out, double* c_out) {
    double q = (x * (1.0 / PIXMIX_FRAC_PI_2) + 6755399441055744.0) - 6755399441055744.0;
    double r = (x - q * PIXMIX_FRAC_PI_2) - q * 6.123233995736766e-17;
    double r2 = r * r;
    double r4 = r2 * r2;
    double s = r * ((1.0 + r2 * (-1.0 / 6.0)) + r4 * ((1.0 / 120.0 + r2 * (-1.0 / 5040.0)) + r4 * (1.0 / 362880.0 + r2 * (-1.0 / 39916800.0))));
    double c = (1.0 + r2 * -0.5) + r4 * ((1.0 / 24.0 + r2 * (-1.0 / 720.0)) + r4 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)));
    double qc = q < -1.0e18 ? -1.0e18 : (q > 1.0e18 ? 1.0e18 : q);
    i64 k = (qc == qc ? (i64)qc : 0) % 4;
    if (k < 0) k += 4;
    if (k == 0) { *s_out = s; *c_out = c; }
    else if (k == 1) { *s_out = c; *c_out = -s; }
    else if (k == 2) { *s_out = -s; *c_out = -c; }
    else { *s_out = -c; *c_out = s; }
}

PIXMIX_HD double flame_sin(double x) { double s, c; flame_sin_cos(x, &s, &c); return s; }
PIXMIX_HD double flame_cos(double x) { double s, c; flame_sin_cos(x, &s, &c); return c; }

PIXMIX_HD double flame_atan2(double y, double x) {
    double ax = x < 0.0 ? -x : x, ay = y < 0.0 ? -y : y;
    double lo = ax > ay ? ay : ax, hi = ax > ay ? ax : ay;
    bool xneg = (bits_of(x) >> 63) != 0ull, yneg = (bits_of(y) >> 63) != 0ull;
    if (hi == 0.0) return xneg ? (yneg ? -PIXMIX_PI : PIXMIX_PI) : y;
    double z = lo / hi;
    double z2 = z * z;
    double z4 = z2 * z2;
    double a = z * ((0.99997726 + z2 * -0.33262347) + z4 * ((0.19354346 + z2 * -0.11643287) + z4 * (0.05265332 + z2 * -0.0117212)));
    if (ay > ax) a = PIXMIX_FRAC_PI_2 - a;
    if (x < 0.0) a = PIXMIX_PI - a;
    return y < 0.0 ? -a : a;
}

PIXMIX_HD double flame_exp(double x) {
    double y = (x < -700.0 ? -700.0 : (x > 700.0 ? 700.0 : x)) * PIXMIX_F64_LOG2_E;
    double n = (y + PIXMIX_F64_ROUNDER) - PIXMIX_F64_ROUNDER;
    double g = (y - n) * PIXMIX_F64_LN2;
    double g2 = g * g;
    double g4 = g2 * g2;
    double p = ((1.0 + g) + g2 * (0.5 + g * (1.0 / 6.0))) + g4 * ((1.0 / 24.0 + g * (1.0 / 120.0)) + g2 * (1.0 / 720.0 + g * (1.0 / 5040.0)));
    return p * double_of(bits_of(n + (PIXMIX_F64_TWO52 + 1023.0)) << 52);
}

PIXMIX_HD double flame_sqrt(double x) {
#if defined(__CUDA_ARCH__)
    return __dsqrt_rn(x);
#else
    return __builtin_sqrt(x);
#endif
}

// SplitMix64, as src/fractal/fastmath.rs Stream.
struct FlameStream {
    u64 state;
};

PIXMIX_HD u64 flame_next(FlameStream* s) {
    s->state += 0x9E3779B97F4A7C15ull;
    u64 z = s->state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

PIXMIX_HD FlameStream flame_stream(u64 seed, u64 walker) {
    FlameStream s;
    s.state = seed ^ (walker * 0xD1B54A32D192ED03ull);
    flame_next(&s);
    return s;
}

PIXMIX_HD double flame_unit(FlameStream* s) { return (double)(flame_next(s) >> 11) * (1.0 / 9007199254740992.0); }

// --- src/fractal/variation.rs ---------------------------------------------------------
#define FLAME_EPS 1e-10

PIXMIX_HD void flame_variation(u32 id, double u, double v, bool coin, double* ox, double* oy) {
    double r2, r, t, s, c, st, ct, sr, cr, k;
    switch (id) {
        case 0: *ox = u; *oy = v; return;                                   // linear
        case 1: *ox = flame_sin(u); *oy = flame_sin(v); return;             // sinusoidal
        case 2: k = 1.0 / ((u * u + v * v) + FLAME_EPS); *ox = u * k; *oy = v * k; return;
        case 3:                                                             // swirl
            r2 = u * u + v * v;
            flame_sin_cos(r2, &s, &c);
            *ox = u * s - v * c; *oy = u * c + v * s; return;
        case 4:                                                             // horseshoe
            k = 1.0 / (flame_sqrt(u * u + v * v) + FLAME_EPS);
            *ox = (u - v) * (u + v) * k; *oy = 2.0 * u * v * k; return;
        case 5: *ox = flame_atan2(u, v) / PIXMIX_PI; *oy = flame_sqrt(u * u + v * v) - 1.0; return;
        case 6:                                                             // handkerchief
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            *ox = r * flame_sin(t + r); *oy = r * flame_cos(t - r); return;
        case 7:                                                             // heart
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            flame_sin_cos(t * r, &s, &c);
            *ox = r * s; *oy = -r * c; return;
        case 8:                                                             // disc
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            flame_sin_cos(PIXMIX_PI * r, &s, &c);
            *ox = t / PIXMIX_PI * s; *oy = t / PIXMIX_PI * c; return;
        case 9:                                                             // spiral
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            k = 1.0 / (r + FLAME_EPS);
            flame_sin_cos(t, &st, &ct); flame_sin_cos(r, &sr, &cr);
            *ox = (ct + sr) * k; *oy = (st - cr) * k; return;
        case 10:                                                            // hyperbolic
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            flame_sin_cos(t, &st, &ct);
            *ox = st / (r + FLAME_EPS); *oy = r * ct; return;
        case 11:                                                            // diamond
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            flame_sin_cos(t, &st, &ct); flame_sin_cos(r, &sr, &cr);
            *ox = st * cr; *oy = ct * sr; return;
        case 12: {                                                          // julia
            r = flame_sqrt(u * u + v * v); t = flame_atan2(u, v);
            double w = coin ? PIXMIX_PI : 0.0;
            flame_sin_cos(t / 2.0 + w, &s, &c);
            double q = flame_sqrt(r);
            *ox = q * c; *oy = q * s; return;
        }
        case 13: k = 4.0 / ((u * u + v * v) + 4.0); *ox = u * k; *oy = v * k; return;  // bubble
        default: {                                                          // exponential
            double e = flame_exp(u - 1.0);
            flame_sin_cos(PIXMIX_PI * v, &s, &c);
            *ox = e * c; *oy = e * s; return;
        }
    }
}

// --- src/fractal/render.rs ------------------------------------------------------------
PIXMIX_HD void flame_step(const FlameXform& t, double x, double y, double c, bool coin,
                          double* nx_out, double* ny_out, double* nc_out) {
    double u = t.affine[0] * x + t.affine[1] * y + t.affine[4];
    double v = t.affine[2] * x + t.affine[3] * y + t.affine[5];
    double nx = 0.0, ny = 0.0;
    for (u32 i = 0; i < t.n_vars; i++) {
        double vx, vy;
        flame_variation(t.var_id[i], u, v, coin, &vx, &vy);
        nx += t.var_weight[i] * vx;
        ny += t.var_weight[i] * vy;
    }
    if (t.has_post) {
        double px = t.post[0] * nx + t.post[1] * ny + t.post[4];
        double py = t.post[2] * nx + t.post[3] * ny + t.post[5];
        nx = px;
        ny = py;
    }
    *nx_out = nx;
    *ny_out = ny;
    *nc_out = (1.0 - t.color_speed) * c + t.color_speed * t.color;
}

PIXMIX_HD bool flame_bad(double x, double y) {
    bool finite = x - x == 0.0 && y - y == 0.0;
    double ax = x < 0.0 ? -x : x, ay = y < 0.0 ? -y : y;
    return !finite || ax > 1e10 || ay > 1e10;
}

// Walker `w` of picture `image`; `plot(bucket)` receives each plotted bucket and colour.
template <typename Plot>
PIXMIX_HD void flame_walk(const FlameGenome& g, u64 seed, u64 w, u64 points, u32 size, Plot plot) {
    FlameStream rng = flame_stream(seed, w);
    double x = flame_unit(&rng) * 2.0 - 1.0;
    double y = flame_unit(&rng) * 2.0 - 1.0;
    double c = flame_unit(&rng);
    u32 skip = PIXMIX_FLAME_SKIP;
    u64 plotted = 0;
    u32 side = 2u * size;
    double scale = (double)side / g.side;
    double ox = g.cx - g.side / 2.0, oy = g.cy - g.side / 2.0;
    while (plotted < points) {
        u64 bits = flame_next(&rng);
        double pick = (double)(bits >> 11) * (1.0 / 9007199254740992.0);
        u32 i = g.n - 1;
        for (u32 j = 0; j < g.n; j++) {
            if (pick < g.xf[j].cum) { i = j; break; }
        }
        double nx, ny, nc;
        flame_step(g.xf[i], x, y, c, (bits & 1ull) == 1ull, &nx, &ny, &nc);
        if (flame_bad(nx, ny)) {
            x = flame_unit(&rng) * 2.0 - 1.0;
            y = flame_unit(&rng) * 2.0 - 1.0;
            c = flame_unit(&rng);
            skip = PIXMIX_FLAME_SKIP;
            continue;
        }
        x = nx; y = ny; c = nc;
        if (skip > 0u) { skip--; continue; }
        double px = x, py = y, pc = c;
        if (g.has_final) flame_step(g.final_xf, x, y, c, (bits & 2ull) == 2ull, &px, &py, &pc);
        double fx = (px - ox) * scale, fy = (py - oy) * scale;
        if (fx >= 0.0 && fy >= 0.0 && fx < (double)side && fy < (double)side) {
            double cc = pc < 0.0 ? 0.0 : (pc > 1.0 ? 1.0 : pc);
            u32 idx = (u32)(cc * 255.0);
            idx = idx > 255u ? 255u : idx;
            plot((u64)fy * side + (u64)fx, idx);
        }
        plotted++;
    }
}

// The k-th smallest non-zero capped count, from a histogram of capped counts.
PIXMIX_HD u32 flame_nref(const u32* hist) {
    u64 nonzero = 0;
    for (u32 v = 1; v <= PIXMIX_FLAME_COUNT_CAP; v++) nonzero += hist[v];
    if (nonzero == 0) return 1u;
    u64 k = nonzero * 995ull / 1000ull;
    if (k > nonzero - 1) k = nonzero - 1;
    u64 seen = 0;
    for (u32 v = 1; v <= PIXMIX_FLAME_COUNT_CAP; v++) {
        seen += hist[v];
        if (seen > k) return v;
    }
    return PIXMIX_FLAME_COUNT_CAP;
}

// Output pixel (x, y): src/fractal/render.rs tone_map_pixel.
PIXMIX_HD void flame_tone_map(const u32* buckets, u32 size, u32 nref, double gamma, u32 x, u32 y, u8* out) {
    u32 side = 2u * size;
    double denom = pixmix_log2(1.0 + (double)nref);
    double acc[3] = {0.0, 0.0, 0.0};
    for (int q = 0; q < 4; q++) {
        u32 dy = (u32)(q >> 1), dx = (u32)(q & 1);
        const u32* b = buckets + ((u64)(2u * y + dy) * side + 2u * x + dx) * 4;
        u32 n = b[0];
        if (n == 0u) continue;
        double alpha = pixmix_log2(1.0 + (double)n) / denom;
        alpha = alpha < 1.0 ? alpha : 1.0;
        double a = pixmix_exp2(pixmix_log2(alpha) / gamma);
        for (int ch = 0; ch < 3; ch++) acc[ch] += (double)b[1 + ch] / (double)n * a;
    }
    for (int ch = 0; ch < 3; ch++) {
        double v = acc[ch] / 4.0;
#if defined(__CUDA_ARCH__)
        v = round(v);
#else
        v = __builtin_round(v);
#endif
        out[ch] = (u8)(v < 0.0 ? 0.0 : (v > 255.0 ? 255.0 : v));
    }
}
