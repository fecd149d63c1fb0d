// The stages of one batch, each as a function of one output element, so the CUDA kernels
// (pixmix.cu) and the host build (host.cpp) run the very same code:
//   1. train_pass1: first resize pass of a resized crop into the sample's intermediate;
//   2. train_pass2: the original (second resize pass + flip, or flip + padded crop);
//   3. statistics: channel histograms and luma sum -> autocontrast/equalize tables, mean;
//   3b. round tables: powers of the byte-valued operands of multiplicative rounds;
//   4. pixel: base operator, mixing rounds, normalization, output conversion.
#pragma once
#include "common.cuh"
#include "mixing.cuh"
#include "pixel_ops.cuh"
#include "plan.cuh"
#include "resample.cuh"
#include "tables.cuh"

// Element i of sample n's resize intermediate. Horizontal first: crop_h rows of `size`
// pixels; vertical first: `size` rows of crop_w pixels.
PIXMIX_HD void pixmix_train_pass1(const KernelArgs& args, u32 n, u64 i) {
    const SamplePlan& s = args.samples[n];
    const ImageMeta& im = args.image_meta[n];
    if (s.transform != PIXMIX_TRANSFORM_RESIZED_CROP_FLIP) return;
    if (i >= (u64)im.temp_width * im.temp_height) return;
    u32 tx = (u32)(i % im.temp_width), ty = (u32)(i / im.temp_width);
    const u8* img = args.images + im.offset;
    i64 stride = (i64)im.width * 3;
    // The staged pixels may be the crop alone (their origin x0, y0 in the source image).
    const u8* crop = img + ((i64)s.crop_y - im.y0) * stride + ((i64)s.crop_x - im.x0) * 3;
    u8* dst = args.temp + im.temp_offset + i * 3;
    const i32* filter = args.coeffs + im.coeffs;
    if (im.vertical_first) {
        pixmix_resample(crop + (i64)tx * 3, stride, pixmix_filter_entry(filter, (i32)ty), dst);
    } else {
        pixmix_resample(crop + (i64)ty * stride, 3, pixmix_filter_entry(filter, (i32)tx), dst);
    }
}

// Pixel (x, y) of sample n's original.
PIXMIX_HD void pixmix_train_pass2(const KernelArgs& args, u32 n, i32 x, i32 y) {
    const SamplePlan& s = args.samples[n];
    const ImageMeta& im = args.image_meta[n];
    i32 size = (i32)args.size;
    u8* orig = args.orig + (u64)n * size * size * 3;
    if (s.transform == PIXMIX_TRANSFORM_FLIP_PAD_CROP) {
        u8* dst = orig + (y * size + x) * 3;
        i64 sy = (i64)y + s.crop_y, fx = (i64)x + s.crop_x;
        if (sy < 0 || sy >= im.height || fx < 0 || fx >= im.width) {
            dst[0] = dst[1] = dst[2] = 0;
            return;
        }
        i64 sx = s.flip ? (i64)im.width - 1 - fx : fx;
        const u8* p = args.images + im.offset + ((u64)sy * im.width + sx) * 3;
        dst[0] = p[0];
        dst[1] = p[1];
        dst[2] = p[2];
        return;
    }
    i32 ox = s.flip ? size - 1 - x : x;
    u8* dst = orig + (y * size + ox) * 3;
    const u8* temp = args.temp + im.temp_offset;
    const i32* filter = pixmix_second_filter(args.coeffs + im.coeffs, size);
    if (im.vertical_first) {
        pixmix_resample(temp + (i64)y * im.temp_width * 3, 3, pixmix_filter_entry(filter, x), dst);
    } else {
        pixmix_resample(temp + (i64)x * 3, (i64)im.temp_width * 3, pixmix_filter_entry(filter, y), dst);
    }
}

// Entry i (0..255) of sample n's six channel tables, from the channel scans and prefix sums
// (3 x 256) of its histograms.
PIXMIX_HD void pixmix_table_entry(const KernelArgs& args, u32 n, const PixmixChannelScan* scans,
                                  const u32* prefix, i32 i) {
    u8* t = args.tables + (u64)n * PIXMIX_TABLE_STRIDE;
    for (int c = 0; c < 3; c++) {
        t[PIXMIX_TABLE_AUTOCONTRAST + c * 256 + i] = pixmix_autocontrast_entry(scans[c], i);
        t[PIXMIX_TABLE_EQUALIZE + c * 256 + i] = pixmix_equalize_entry(scans[c], prefix + c * 256, i);
    }
}

// Sample n's mean luma entry, from the luma sum of its original.
PIXMIX_HD void pixmix_table_mean(const KernelArgs& args, u32 n, u64 luma_sum) {
    args.tables[(u64)n * PIXMIX_TABLE_STRIDE + PIXMIX_TABLE_MEAN] =
        pixmix_mean_luma(luma_sum, (u64)args.size * args.size);
}

// Entry i (0..255) of the power tables of round `index` (global), for its sample's first
// round or a later one; additive rounds need none.
PIXMIX_HD void pixmix_round_table_entry(const KernelArgs& args, u32 index, bool first, i32 i) {
    const RoundPlan& round = args.rounds[index];
    if (round.mix == 0u) return;
    float* t = args.round_tables + (u64)index * PIXMIX_ROUND_TABLE;
    float y2 = pixmix_tensorize((u8)i) * 2.0f;
    t[i] = pixmix_pow(y2 > 1e-37f ? y2 : 1e-37f, round.b);
    if (first) t[256 + i] = pixmix_pow(y2, round.a);
}

// Output pixel (x, y) of sample n in three steps, so the kernel can stage each round's
// tables in shared memory between them. First the base operator: `base` keeps its bytes
// (the first round's table index), `mixed` their tensor values.
PIXMIX_HD void pixmix_pixel_base(const KernelArgs& args, u32 n, i32 x, i32 y, u8* base, float* mixed) {
    pixmix_op_pixel(args, args.descs[n], n, x, y, base);
    for (int c = 0; c < 3; c++) mixed[c] = pixmix_tensorize(base[c]);
}

// Round r of sample n at (x, y), with the round's tables `other` and (r = 0) `first`.
PIXMIX_HD void pixmix_pixel_round(const KernelArgs& args, u32 n, u32 r, const float* other, const float* first,
                                  i32 x, i32 y, const u8* base, float* mixed) {
    u32 index = args.samples[n].first_round + r;
    const RoundPlan& round = args.rounds[index];
    u8 bytes[3];
    pixmix_op_pixel(args, args.descs[args.n + index], n, x, y, bytes);
    if (round.mix == 0u) {
        for (int c = 0; c < 3; c++) mixed[c] = pixmix_mix_add(mixed[c], bytes[c], round.a, round.b);
        return;
    }
    for (int c = 0; c < 3; c++) {
        // A first round's running value is still a byte: its power is in the table.
        float power = r == 0u ? first[base[c]] : pixmix_pow(mixed[c] * 2.0f, round.a);
        mixed[c] = pixmix_mix_multiply(power, other[bytes[c]]);
    }
}

// Normalizes and stores the three channels of output pixel (x, y) of sample n.
PIXMIX_HD void pixmix_pixel_store(const KernelArgs& args, u32 n, i32 x, i32 y, const float* mixed) {
    u64 plane = (u64)args.size * args.size;
    u64 at = (u64)n * 3 * plane + (u64)y * args.size + x;
    for (int c = 0; c < 3; c++) {
        float v = pixmix_normalize(mixed[c], args.mean[c], args.std[c]);
        if (args.dtype == PIXMIX_DTYPE_F32) {
            ((float*)args.out)[at + c * plane] = v;
        } else if (args.dtype == PIXMIX_DTYPE_F16) {
            ((u16*)args.out)[at + c * plane] = pixmix_f16(v);
        } else {
            ((u16*)args.out)[at + c * plane] = pixmix_bf16(v);
        }
    }
}
