// Shared definitions for the kernels and their host build. No standard headers, so the
// same text compiles with nvcc, NVRTC and a host C++ compiler.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define PIXMIX_HD __host__ __device__ __forceinline__
// Called rather than inlined in the kernels: a rare branch kept out of the hot code.
#define PIXMIX_HD_NOINLINE __host__ __device__ __noinline__
#define PIXMIX_DEVICE 1
#else
#define PIXMIX_HD inline
#define PIXMIX_HD_NOINLINE inline
#endif

// Constant tables: device memory in the kernels, plain arrays on the host.
#if defined(__CUDA_ARCH__)
#define PIXMIX_TABLE __device__ const
#else
#define PIXMIX_TABLE static const
#endif

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;

// Bit casts between doubles/floats and integers.
PIXMIX_HD u64 bits_of(double x) {
#if defined(__CUDA_ARCH__)
    return (u64)__double_as_longlong(x);
#else
    u64 b;
    __builtin_memcpy(&b, &x, 8);
    return b;
#endif
}

PIXMIX_HD double double_of(u64 b) {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double((i64)b);
#else
    double x;
    __builtin_memcpy(&x, &b, 8);
    return x;
#endif
}

PIXMIX_HD u32 bits_of(float x) {
#if defined(__CUDA_ARCH__)
    return (u32)__float_as_uint(x);
#else
    u32 b;
    __builtin_memcpy(&b, &x, 4);
    return b;
#endif
}

PIXMIX_HD float float_of(u32 b) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(b);
#else
    float x;
    __builtin_memcpy(&x, &b, 4);
    return x;
#endif
}

// a * b + c with one rounding: exact where the result is representable, and the same
// IEEE operation everywhere (the kernels are built with --fmad=false, so no other
// multiply-add is fused).
PIXMIX_HD float pixmix_fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return __builtin_fmaf(a, b, c);
#endif
}

PIXMIX_HD i32 clamp_i32(i32 v, i32 lo, i32 hi) { return v < lo ? lo : (v > hi ? hi : v); }
