// AugMix (src/augmix/cpu.rs) as per-element stages over a pool of s x s 8-bit images:
// slots 0..n-1 hold the train-transformed originals (written by pixmix_train_pass2), the
// later slots the chains' intermediate images. A batch is a list of launches
// (src/augmix/staging.rs builds it, the CUDA executor and host.cpp run it):
//   1. stats: an image slot's autocontrast/equalize tables and mean luma;
//   2. step: one operator of a chain applied to a slot, written to a fresh slot;
//   3. mix: the output views; each chain's last operator is evaluated here, at the pixel,
//      on the slot its previous operator wrote (or the original), then the float32 mixture.
// The stats of the slots a step reads come before it; the steps of depth d before those of
// depth d + 1. The structs below mirror src/augmix/staging.rs (tests/kernel_math.rs).
#pragma once
#include "common.cuh"
#include "mixing.cuh"
#include "pixel_ops.cuh"
#include "plan.cuh"
#include "tables.cuh"

#define PIXMIX_AUGMIX_MAX_WIDTH 8
// AugMixView::kind
#define PIXMIX_AUGMIX_CLEAN 0u
#define PIXMIX_AUGMIX_AUGMENTED 1u
// AugMixLaunch::kernel
#define PIXMIX_AUGMIX_STATS 0u
#define PIXMIX_AUGMIX_STEP 1u
#define PIXMIX_AUGMIX_MIX 2u

// Operator descs[desc] applied to image slot src, written to slot dst.
struct AugMixStep {
    u32 desc;
    u32 src;
    u32 dst;
    u32 reserved;
};

// One output block of 3 x size x size: the preprocessed original (clean) or an AugMix
// sample, whose chain i ends with operator descs[i] applied to slot srcs[i].
struct AugMixView {
    u32 kind;
    u32 orig;
    u32 width;
    float m;
    float weights[PIXMIX_AUGMIX_MAX_WIDTH];
    u32 descs[PIXMIX_AUGMIX_MAX_WIDTH];
    u32 srcs[PIXMIX_AUGMIX_MAX_WIDTH];
};

// Every AugMix kernel's argument block; `first` and `count` select the entries of `stats`,
// `steps` or `views` one launch covers.
struct AugMixArgs {
    const OpDesc* descs;
    const AugMixStep* steps;
    const u32* stats;  // image slots to compute statistics of
    const AugMixView* views;
    u8* images;  // slots x size x size x 3
    u8* tables;  // slots x PIXMIX_TABLE_STRIDE
    void* out;   // views x 3 x size x size, dtype
    u32 first;
    u32 count;
    u32 size;
    u32 dtype;
    float mean[3];
    float std[3];
};

// One launch of a batch: a kernel and the entries it covers.
struct AugMixLaunch {
    u32 kernel;
    u32 first;
    u32 count;
    u32 reserved;
};

#if !defined(__CUDACC_RTC__) && defined(__cplusplus) && __cplusplus >= 201103L
static_assert(sizeof(AugMixStep) == 16, "AugMixStep layout");
static_assert(sizeof(AugMixView) == 112, "AugMixView layout");
static_assert(sizeof(AugMixArgs) == 96, "AugMixArgs layout");
static_assert(sizeof(AugMixLaunch) == 16, "AugMixLaunch layout");
#endif

PIXMIX_HD u8* pixmix_augmix_image(const AugMixArgs& a, u32 slot) {
    return a.images + (u64)slot * a.size * a.size * 3;
}

PIXMIX_HD u8* pixmix_augmix_tables(const AugMixArgs& a, u32 slot) {
    return a.tables + (u64)slot * PIXMIX_TABLE_STRIDE;
}

// Entry i (0..255) of the six channel tables at `t`, from the channel scans and prefix sums.
PIXMIX_HD void pixmix_augmix_table_entry(u8* t, const PixmixChannelScan* scans, const u32* prefix, i32 i) {
    for (int c = 0; c < 3; c++) {
        t[PIXMIX_TABLE_AUTOCONTRAST + c * 256 + i] = pixmix_autocontrast_entry(scans[c], i);
        t[PIXMIX_TABLE_EQUALIZE + c * 256 + i] = pixmix_equalize_entry(scans[c], prefix + c * 256, i);
    }
}

// Pixel (x, y) of step `job`.
PIXMIX_HD void pixmix_augmix_step(const AugMixArgs& a, u32 job, i32 x, i32 y) {
    const AugMixStep& st = a.steps[job];
    i32 s = (i32)a.size;
    u8 px[3];
    pixmix_image_op_pixel(pixmix_augmix_image(a, st.src), pixmix_augmix_tables(a, st.src), s, a.descs[st.desc], x,
                          y, px);
    u8* dst = pixmix_augmix_image(a, st.dst) + ((u64)y * s + x) * 3;
    dst[0] = px[0];
    dst[1] = px[1];
    dst[2] = px[2];
}

// preprocess = ToTensor then Normalize, in float32.
PIXMIX_HD float pixmix_augmix_preprocess(const AugMixArgs& a, u8 v, int c) {
    return pixmix_normalize(pixmix_tensorize(v), a.mean[c], a.std[c]);
}

// Output pixel (x, y) of view v, all three channels:
// (1 - m) * preprocess(orig) + m * sum(ws[i] * preprocess(chain_i)), in the CPU's order.
PIXMIX_HD void pixmix_augmix_pixel(const AugMixArgs& a, u32 v, i32 x, i32 y) {
    const AugMixView& view = a.views[v];
    i32 s = (i32)a.size;
    const u8* o = pixmix_augmix_image(a, view.orig) + ((u64)y * s + x) * 3;
    float out[3];
    for (int c = 0; c < 3; c++) out[c] = pixmix_augmix_preprocess(a, o[c], c);
    if (view.kind == PIXMIX_AUGMIX_AUGMENTED) {
        float mix[3] = {0.0f, 0.0f, 0.0f};
        u32 width = view.width < PIXMIX_AUGMIX_MAX_WIDTH ? view.width : PIXMIX_AUGMIX_MAX_WIDTH;
        for (u32 i = 0; i < width; i++) {
            u32 src = view.srcs[i];
            u8 px[3];
            pixmix_image_op_pixel(pixmix_augmix_image(a, src), pixmix_augmix_tables(a, src), s, a.descs[view.descs[i]],
                                  x, y, px);
            float w = view.weights[i];
            for (int c = 0; c < 3; c++) mix[c] = mix[c] + w * pixmix_augmix_preprocess(a, px[c], c);
        }
        float m = view.m, keep = 1.0f - view.m;
        for (int c = 0; c < 3; c++) out[c] = keep * out[c] + m * mix[c];
    }
    u64 plane = (u64)s * s;
    u64 at = (u64)v * 3 * plane + (u64)y * s + x;
    for (int c = 0; c < 3; c++) {
        if (a.dtype == PIXMIX_DTYPE_F32) {
            ((float*)a.out)[at + c * plane] = out[c];
        } else if (a.dtype == PIXMIX_DTYPE_F16) {
            ((u16*)a.out)[at + c * plane] = pixmix_f16(out[c]);
        } else {
            ((u16*)a.out)[at + c * plane] = pixmix_bf16(out[c]);
        }
    }
}

#if defined(PIXMIX_DEVICE)
// grid: (count), block: 256. One image slot a block, as pixmix_stats_kernel: histograms in
// shared memory with integer atomics, one thread per channel scans, every thread builds
// table entries. The luma sum fits 32 bits for sizes up to 4096.
extern "C" __global__ void pixmix_augmix_stats_kernel(AugMixArgs a) {
    __shared__ u32 hist[768];
    __shared__ u32 prefix[768];
    __shared__ PixmixChannelScan scans[3];
    __shared__ u32 luma_sum;
    u32 slot = a.stats[a.first + blockIdx.x];
    for (u32 i = threadIdx.x; i < 768; i += blockDim.x) hist[i] = 0u;
    if (threadIdx.x == 0) luma_sum = 0u;
    __syncthreads();
    const u8* img = pixmix_augmix_image(a, slot);
    u32 pixels = a.size * a.size;
    u32 local = 0u;
    for (u32 p = threadIdx.x; p < pixels; p += blockDim.x) {
        const u8* px = img + (u64)p * 3;
        atomicAdd(&hist[px[0]], 1u);
        atomicAdd(&hist[256 + px[1]], 1u);
        atomicAdd(&hist[512 + px[2]], 1u);
        local += pixmix_luma(px);
    }
    atomicAdd(&luma_sum, local);
    __syncthreads();
    if (threadIdx.x < 3) scans[threadIdx.x] = pixmix_scan_channel(hist + threadIdx.x * 256, prefix + threadIdx.x * 256);
    __syncthreads();
    u8* t = pixmix_augmix_tables(a, slot);
    for (u32 i = threadIdx.x; i < 256; i += blockDim.x) pixmix_augmix_table_entry(t, scans, prefix, (i32)i);
    if (threadIdx.x == 0) t[PIXMIX_TABLE_MEAN] = pixmix_mean_luma(luma_sum, pixels);
}

// grid: (ceil(size * size / block), count)
extern "C" __global__ void pixmix_augmix_step_kernel(AugMixArgs a) {
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= a.size * a.size) return;
    pixmix_augmix_step(a, a.first + blockIdx.y, (i32)(p % a.size), (i32)(p / a.size));
}

// grid: (ceil(size * size / block), count)
extern "C" __global__ void pixmix_augmix_pixel_kernel(AugMixArgs a) {
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= a.size * a.size) return;
    pixmix_augmix_pixel(a, a.first + blockIdx.y, (i32)(p % a.size), (i32)(p / a.size));
}
#endif
