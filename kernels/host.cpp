// The kernels' stages compiled for the host and run element by element, single-threaded:
// the CPU-side proof of the CUDA arithmetic (tests/kernel_math.rs).
#include "augmix.cuh"
#include "flame.cuh"
#include "stages.cuh"

extern "C" {

// Runs all four stages over a batch described by host pointers.
void pixmix_host_run(const KernelArgs* a) {
    const KernelArgs& args = *a;
    i32 size = (i32)args.size;
    for (u32 n = 0; n < args.n; n++) {
        const ImageMeta& im = args.image_meta[n];
        u64 temp = (u64)im.temp_width * im.temp_height;
        for (u64 i = 0; i < temp; i++) pixmix_train_pass1(args, n, i);
        for (i32 y = 0; y < size; y++)
            for (i32 x = 0; x < size; x++) pixmix_train_pass2(args, n, x, y);
        u32 hist[768] = {0};
        u64 luma_sum = 0;
        const u8* orig = args.orig + (u64)n * size * size * 3;
        for (i32 p = 0; p < size * size; p++) {
            for (int c = 0; c < 3; c++) hist[c * 256 + orig[p * 3 + c]]++;
            luma_sum += pixmix_luma(orig + p * 3);
        }
        PixmixChannelScan scans[3];
        u32 prefix[768];
        for (int c = 0; c < 3; c++) scans[c] = pixmix_scan_channel(hist + c * 256, prefix + c * 256);
        for (i32 i = 0; i < 256; i++) pixmix_table_entry(args, n, scans, prefix, i);
        pixmix_table_mean(args, n, luma_sum);
        const SamplePlan& s = args.samples[n];
        for (u32 r = 0; r < s.round_count; r++)
            for (i32 i = 0; i < 256; i++) pixmix_round_table_entry(args, s.first_round + r, r == 0u, i);
        for (i32 y = 0; y < size; y++)
            for (i32 x = 0; x < size; x++) {
                u8 base[3];
                float mixed[3];
                pixmix_pixel_base(args, n, x, y, base, mixed);
                for (u32 r = 0; r < s.round_count; r++) {
                    const float* t = args.round_tables + (u64)(s.first_round + r) * PIXMIX_ROUND_TABLE;
                    pixmix_pixel_round(args, n, r, t, t + 256, x, y, base, mixed);
                }
                pixmix_pixel_store(args, n, x, y, mixed);
            }
    }
}

// Renders a batch of flames: walkers, capped-count histogram, tone mapping.
void pixmix_host_flames(const FlameArgs* a) {
    u64 side = 2ull * a->size;
    u64 walkers = (a->points + PIXMIX_FLAME_WALKER_POINTS - 1) / PIXMIX_FLAME_WALKER_POINTS;
    for (u32 image = 0; image < a->images; image++) {
        const FlameGenome& g = a->genomes[image];
        u32* buckets = a->buckets + (u64)image * side * side * 4;
        for (u64 w = 0; w < walkers; w++) {
            u64 rest = a->points - w * PIXMIX_FLAME_WALKER_POINTS;
            u64 pts = rest < PIXMIX_FLAME_WALKER_POINTS ? rest : PIXMIX_FLAME_WALKER_POINTS;
            flame_walk(g, a->seeds[image], w, pts, a->size, [&](u64 bucket, u32 idx) {
                u32* b = buckets + bucket * 4;
                b[0] += 1u;
                b[1] += g.palette[idx][0];
                b[2] += g.palette[idx][1];
                b[3] += g.palette[idx][2];
            });
        }
        u32* hist = a->scratch + (u64)image * (PIXMIX_FLAME_COUNT_CAP + 1);
        for (u64 i = 0; i < side * side; i++) {
            u32 n = buckets[i * 4];
            if (n) hist[n < PIXMIX_FLAME_COUNT_CAP ? n : PIXMIX_FLAME_COUNT_CAP]++;
        }
        a->nref[image] = flame_nref(hist);
        u8* out = a->out + (u64)image * a->size * a->size * 3;
        for (u32 y = 0; y < a->size; y++)
            for (u32 x = 0; x < a->size; x++)
                flame_tone_map(buckets, a->size, a->nref[image], g.gamma, x, y, out + ((u64)y * a->size + x) * 3);
    }
}

// Runs an AugMix batch: the train transform of `train` (its originals are the first
// image slots of `a`), then `count` launches in order, each as its kernel would.
void pixmix_augmix_host_run(const KernelArgs* train, const AugMixArgs* a, const AugMixLaunch* launches, u32 count) {
    i32 size = (i32)train->size;
    for (u32 n = 0; n < train->n; n++) {
        const ImageMeta& im = train->image_meta[n];
        u64 temp = (u64)im.temp_width * im.temp_height;
        for (u64 i = 0; i < temp; i++) pixmix_train_pass1(*train, n, i);
        for (i32 y = 0; y < size; y++)
            for (i32 x = 0; x < size; x++) pixmix_train_pass2(*train, n, x, y);
    }
    AugMixArgs args = *a;
    for (u32 l = 0; l < count; l++) {
        const AugMixLaunch& launch = launches[l];
        args.first = launch.first;
        args.count = launch.count;
        for (u32 j = launch.first; j < launch.first + launch.count; j++) {
            if (launch.kernel == PIXMIX_AUGMIX_STATS) {
                u32 slot = args.stats[j];
                const u8* img = pixmix_augmix_image(args, slot);
                u32 hist[768] = {0};
                u64 luma_sum = 0;
                for (i32 p = 0; p < size * size; p++) {
                    for (int c = 0; c < 3; c++) hist[c * 256 + img[p * 3 + c]]++;
                    luma_sum += pixmix_luma(img + p * 3);
                }
                PixmixChannelScan scans[3];
                u32 prefix[768];
                for (int c = 0; c < 3; c++) scans[c] = pixmix_scan_channel(hist + c * 256, prefix + c * 256);
                u8* t = pixmix_augmix_tables(args, slot);
                for (i32 i = 0; i < 256; i++) pixmix_augmix_table_entry(t, scans, prefix, i);
                t[PIXMIX_TABLE_MEAN] = pixmix_mean_luma(luma_sum, (u64)size * size);
                continue;
            }
            for (i32 y = 0; y < size; y++) {
                for (i32 x = 0; x < size; x++) {
                    if (launch.kernel == PIXMIX_AUGMIX_STEP) {
                        pixmix_augmix_step(args, j, x, y);
                    } else {
                        pixmix_augmix_pixel(args, j, x, y);
                    }
                }
            }
        }
    }
}

// Sizes and field offsets of the AugMix structs, for the layout test.
void pixmix_host_augmix_layout(u64* out) {
    u64 v[] = {
        sizeof(AugMixStep), __builtin_offsetof(AugMixStep, dst),
        sizeof(AugMixView), __builtin_offsetof(AugMixView, m), __builtin_offsetof(AugMixView, weights),
        __builtin_offsetof(AugMixView, descs), __builtin_offsetof(AugMixView, srcs),
        sizeof(AugMixArgs), __builtin_offsetof(AugMixArgs, images), __builtin_offsetof(AugMixArgs, out),
        __builtin_offsetof(AugMixArgs, first), __builtin_offsetof(AugMixArgs, dtype),
        __builtin_offsetof(AugMixArgs, mean), __builtin_offsetof(AugMixArgs, std),
        sizeof(AugMixLaunch), __builtin_offsetof(AugMixLaunch, count),
    };
    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) out[i] = v[i];
}

float pixmix_host_pow(float x, float e) { return pixmix_pow(x, e); }
double pixmix_host_log2(double x) { return pixmix_log2(x); }
double pixmix_host_exp2(double y) { return pixmix_exp2(y); }
u16 pixmix_host_f16(float v) { return pixmix_f16(v); }
u16 pixmix_host_bf16(float v) { return pixmix_bf16(v); }
u64 pixmix_host_dmul(u64 a, u64 b) { return pixmix_dmul(a, b); }
u64 pixmix_host_dadd(u64 a, u64 b) { return pixmix_dadd(a, b); }
// Pixels: p00, p01 (row above), p10, p11 (row below), three bytes each.
void pixmix_host_bilinear(const u8* pixels, u64 dx, u64 dy, u8* out) {
    pixmix_bilinear(pixels, pixels + 3, pixels + 6, pixels + 9, dx, dy, out);
}
// Writes ix, iy, dx, dy where the point lies inside.
bool pixmix_host_affine_point(i32 w, i32 h, const u64* m, i32 x, i32 y, i64* whole, u64* weights) {
    return pixmix_affine_point(w, h, m, x, y, whole[0], whole[1], weights[0], weights[1]);
}
// The affine operator of matrix m, as OpDesc::new stages it.
static OpDesc pixmix_host_affine_desc(const u64* m) {
    OpDesc d = {};
    for (int i = 0; i < 6; i++) d.m[i] = m[i];
    d.kind = PIXMIX_KIND_AFFINE;
    d.fast = pixmix_fast_matrix(m, d.fixed);
    return d;
}
u32 pixmix_host_fast_matrix(const u64* m, i64* fixed) { return pixmix_fast_matrix(m, fixed); }
void pixmix_host_affine(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y, u8* out) {
    pixmix_affine(img, w, h, pixmix_host_affine_desc(m), x, y, out);
}
void pixmix_host_affine_exact(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y, u8* out) {
    pixmix_affine_exact(img, w, h, m, x, y, out);
}
// False where the fast path declines (out untouched).
bool pixmix_host_affine_fast(const u8* img, i32 w, i32 h, const u64* m, i32 x, i32 y, u8* out) {
    OpDesc d = pixmix_host_affine_desc(m);
    return pixmix_affine_fast(img, w, h, d.fixed, d.fast, x, y, out);
}
// The fast path's value of one channel and its bound (units of 2^-40), as it dispatches.
i64 pixmix_host_fast_lerp(i32 a, i32 b, i32 c, i32 d, i64 dx, i64 dy, i64 ex, i64 ey, i64* bound) {
    if (ey == 0 && dy == 0) return pixmix_fast_lerp_row(a, b, dx, ex, *bound);
    return pixmix_fast_lerp(a, b, c, d, dx, dy, ex, ey, *bound);
}
// The fast path's input point: X, its bound, Y, its bound (units of 2^-40); false out of
// its range.
bool pixmix_host_affine_fast_point(i32 w, i32 h, const u64* m, i32 x, i32 y, i64* out) {
    OpDesc d = pixmix_host_affine_desc(m);
    return pixmix_fast_point(w, h, d.fixed, d.fast, x, y, out[0], out[1], out[2], out[3]);
}

// Sizes and field offsets of the shared structs, for the layout test.
void pixmix_host_layout(u64* out) {
    u64 v[] = {
        sizeof(SamplePlan), __builtin_offsetof(SamplePlan, crop_x), __builtin_offsetof(SamplePlan, mixing_index),
        __builtin_offsetof(SamplePlan, first_round), __builtin_offsetof(SamplePlan, base),
        sizeof(RoundPlan), __builtin_offsetof(RoundPlan, a), __builtin_offsetof(RoundPlan, source),
        sizeof(OpPlan), __builtin_offsetof(OpPlan, op),
        sizeof(OpDesc), __builtin_offsetof(OpDesc, fixed), __builtin_offsetof(OpDesc, f),
        __builtin_offsetof(OpDesc, kind), __builtin_offsetof(OpDesc, fast),
        sizeof(ImageMeta), __builtin_offsetof(ImageMeta, width), __builtin_offsetof(ImageMeta, vertical_first),
        sizeof(PictureMeta), __builtin_offsetof(PictureMeta, width),
        sizeof(KernelArgs), __builtin_offsetof(KernelArgs, out), __builtin_offsetof(KernelArgs, n),
        __builtin_offsetof(KernelArgs, round_tables),
        __builtin_offsetof(KernelArgs, mean), __builtin_offsetof(KernelArgs, std),
        sizeof(FlameXform), __builtin_offsetof(FlameXform, var_id), sizeof(FlameGenome),
        __builtin_offsetof(FlameGenome, palette), __builtin_offsetof(FlameGenome, n), sizeof(FlameArgs),
    };
    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) out[i] = v[i];
}
}
