// The plan layout shared with src/plan.rs and src/staging.rs. Field order, types and
// sizes must match the Rust definitions; tests/kernel_math.rs checks sizes and offsets.
#pragma once
#include "common.cuh"

#define PIXMIX_NO_OP 0xffffffffu
#define PIXMIX_TRANSFORM_FLIP_PAD_CROP 0u
#define PIXMIX_TRANSFORM_RESIZED_CROP_FLIP 1u
#define PIXMIX_SOURCE_AUGMENTED 0u
#define PIXMIX_SOURCE_MIXING 1u
#define PIXMIX_MIX_ADD 0u
#define PIXMIX_MIX_MULTIPLY 1u

// What a prepared operator does to a pixel (src/staging.rs: OpKind).
#define PIXMIX_KIND_ORIGINAL 0u
#define PIXMIX_KIND_MIXING 1u
#define PIXMIX_KIND_AUTOCONTRAST 2u
#define PIXMIX_KIND_EQUALIZE 3u
#define PIXMIX_KIND_POSTERIZE 4u
#define PIXMIX_KIND_SOLARIZE 5u
#define PIXMIX_KIND_ROTATE90 6u
#define PIXMIX_KIND_ROTATE180 7u
#define PIXMIX_KIND_ROTATE270 8u
#define PIXMIX_KIND_AFFINE 9u
#define PIXMIX_KIND_COLOR 10u
#define PIXMIX_KIND_CONTRAST 11u
#define PIXMIX_KIND_BRIGHTNESS 12u
#define PIXMIX_KIND_SHARPNESS 13u

#define PIXMIX_DTYPE_F32 0u
#define PIXMIX_DTYPE_F16 1u
#define PIXMIX_DTYPE_BF16 2u

// Per-sample statistics: autocontrast tables, equalize tables, mean luma.
#define PIXMIX_TABLE_AUTOCONTRAST 0
#define PIXMIX_TABLE_EQUALIZE 768
#define PIXMIX_TABLE_MEAN 1536
#define PIXMIX_TABLE_STRIDE 1544

struct OpPlan {
    double param;
    u32 op;
    u32 reserved;
};

struct RoundPlan {
    OpPlan aug;
    float a;
    float b;
    u32 source;
    u32 mix;
};

struct SamplePlan {
    u32 transform;
    u32 flip;
    i32 crop_x;
    i32 crop_y;
    u32 crop_w;
    u32 crop_h;
    u32 mixing_index;
    u32 mixing_x;
    u32 mixing_y;
    u32 first_round;
    u32 round_count;
    u32 reserved;
    OpPlan base;
};

// An operator resolved for the device: affine matrix, enhance factor, table parameter.
struct OpDesc {
    // The affine matrix: doubles, as their bits (read as doubles they would load with f64
    // instructions).
    u64 m[6];
    // The same entries in fixed point for the affine fast path, and its PIXMIX_FAST_* flags
    // (pixmix_fast_matrix, computed once on the host).
    i64 fixed[6];
    float f;
    u32 kind;
    u32 u;
    u32 fast;
};

// Where a sample's source image and resize intermediate live.
struct ImageMeta {
    u64 offset;
    u64 temp_offset;
    u32 width;
    u32 height;
    u32 temp_width;
    u32 temp_height;
    u32 vertical_first;
    u32 coeffs;  // index of the first pass's resize filter in KernelArgs::coeffs
    u32 x0;      // where the staged width x height pixels start in the source image
    u32 y0;
};

struct PictureMeta {
    u64 offset;
    u32 width;
    u32 height;
};

// Everything a stage needs, passed by value to every kernel.
struct KernelArgs {
    const SamplePlan* samples;
    const RoundPlan* rounds;
    const OpDesc* descs;  // samples' base operators, then every round's operator
    const u8* images;
    const ImageMeta* image_meta;
    u8* temp;
    u8* orig;    // n x size x size x 3, the train-transformed originals
    u8* tables;  // n x PIXMIX_TABLE_STRIDE
    const u8* mixing;
    const PictureMeta* mixing_meta;
    void* out;  // n x 3 x size x size, dtype
    u32 n;
    u32 size;
    u32 dtype;
    u32 reserved;
    float mean[3];
    float std[3];
    // Resize filters, computed once per sample on the host: for each pass, taps, then per
    // output index {first input index, length, taps fixed-point weights}.
    const i32* coeffs;
    // Per round (the global round index): the other picture's powers `max(2y, 1e-37) ^ b`
    // for each byte y, then (a sample's first round) the base's `(2x) ^ a`: 2 x 256 floats,
    // written by the statistics kernel for multiplicative rounds only.
    float* round_tables;
};

#define PIXMIX_ROUND_TABLE 512

#if !defined(__CUDACC_RTC__) && defined(__cplusplus) && __cplusplus >= 201103L
static_assert(sizeof(OpPlan) == 16, "OpPlan layout");
static_assert(sizeof(RoundPlan) == 32, "RoundPlan layout");
static_assert(sizeof(SamplePlan) == 64, "SamplePlan layout");
static_assert(sizeof(OpDesc) == 112, "OpDesc layout");
static_assert(sizeof(ImageMeta) == 48, "ImageMeta layout");
static_assert(sizeof(PictureMeta) == 16, "PictureMeta layout");
static_assert(sizeof(KernelArgs) == 144, "KernelArgs layout");
#endif
