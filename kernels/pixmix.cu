// CUDA kernels: thin launches over the per-element stages of stages.cuh.
#include "stages.cuh"

// grid: (ceil(max intermediate / block), n)
extern "C" __global__ void pixmix_train_pass1_kernel(KernelArgs args) {
    u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    pixmix_train_pass1(args, blockIdx.y, i);
}

// grid: (ceil(size * size / block), n)
extern "C" __global__ void pixmix_train_pass2_kernel(KernelArgs args) {
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= args.size * args.size) return;
    pixmix_train_pass2(args, blockIdx.y, (i32)(p % args.size), (i32)(p / args.size));
}

// grid: (n), block: 256. Histograms in shared memory with integer atomics, so the
// tables do not depend on scheduling.
extern "C" __global__ void pixmix_stats_kernel(KernelArgs args) {
    __shared__ u32 hist[768];
    __shared__ unsigned long long luma_sum;
    u32 n = blockIdx.x;
    for (u32 i = threadIdx.x; i < 768; i += blockDim.x) hist[i] = 0u;
    if (threadIdx.x == 0) luma_sum = 0ull;
    __syncthreads();
    const u8* orig = args.orig + (u64)n * args.size * args.size * 3;
    u64 local = 0ull;
    for (u32 p = threadIdx.x; p < args.size * args.size; p += blockDim.x) {
        const u8* px = orig + (u64)p * 3;
        atomicAdd(&hist[px[0]], 1u);
        atomicAdd(&hist[256 + px[1]], 1u);
        atomicAdd(&hist[512 + px[2]], 1u);
        local += pixmix_luma(px);
    }
    atomicAdd(&luma_sum, (unsigned long long)local);
    __syncthreads();
    if (threadIdx.x == 0) pixmix_tables(args, n, hist, luma_sum);
}

// grid: (ceil(size * size / block), n)
extern "C" __global__ void pixmix_pixel_kernel(KernelArgs args) {
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= args.size * args.size) return;
    pixmix_pixel(args, blockIdx.y, (i32)(p % args.size), (i32)(p / args.size));
}
