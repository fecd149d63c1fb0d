// CUDA kernels: thin launches over the per-element stages of stages.cuh (AugMix's kernels
// and their stages are in augmix.cuh).
#include "augmix.cuh"
#include "flame.cuh"
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
// tables do not depend on scheduling; then one thread per channel scans its histogram and
// every thread builds table entries. The luma sum fits 32 bits (sizes up to 4096: at most
// 4096 * 4096 * 255 < 2^32), so no 64-bit shared atomic (a compare-and-swap loop).
extern "C" __global__ void pixmix_stats_kernel(KernelArgs args) {
    __shared__ u32 hist[768];
    __shared__ u32 prefix[768];
    __shared__ PixmixChannelScan scans[3];
    __shared__ u32 luma_sum;
    u32 n = blockIdx.x;
    for (u32 i = threadIdx.x; i < 768; i += blockDim.x) hist[i] = 0u;
    if (threadIdx.x == 0) luma_sum = 0u;
    __syncthreads();
    const u8* orig = args.orig + (u64)n * args.size * args.size * 3;
    u32 local = 0u;
    for (u32 p = threadIdx.x; p < args.size * args.size; p += blockDim.x) {
        const u8* px = orig + (u64)p * 3;
        atomicAdd(&hist[px[0]], 1u);
        atomicAdd(&hist[256 + px[1]], 1u);
        atomicAdd(&hist[512 + px[2]], 1u);
        local += pixmix_luma(px);
    }
    atomicAdd(&luma_sum, local);
    __syncthreads();
    if (threadIdx.x < 3) scans[threadIdx.x] = pixmix_scan_channel(hist + threadIdx.x * 256, prefix + threadIdx.x * 256);
    __syncthreads();
    for (u32 i = threadIdx.x; i < 256; i += blockDim.x) pixmix_table_entry(args, n, scans, prefix, (i32)i);
    if (threadIdx.x == 0) pixmix_table_mean(args, n, luma_sum);
    // The powers of the byte-valued operands, once per sample rather than per pixel.
    const SamplePlan& s = args.samples[n];
    for (u32 r = 0; r < s.round_count; r++)
        for (u32 i = threadIdx.x; i < 256; i += blockDim.x)
            pixmix_round_table_entry(args, s.first_round + r, r == 0u, (i32)i);
}

// grid: (ceil(size * size / block), n). A block's pixels belong to one sample, so they
// share its rounds: each multiplicative round's tables are staged in shared memory.
extern "C" __global__ void pixmix_pixel_kernel(KernelArgs args) {
    __shared__ float other[256];
    __shared__ float first[256];
    u32 n = blockIdx.y;
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    // Threads past the image still take part in the barriers.
    bool active = p < args.size * args.size;
    i32 x = (i32)(p % args.size), y = (i32)(p / args.size);
    u8 base[3];
    float mixed[3];
    if (active) pixmix_pixel_base(args, n, x, y, base, mixed);
    const SamplePlan& s = args.samples[n];
    for (u32 r = 0; r < s.round_count; r++) {
        if (args.rounds[s.first_round + r].mix != 0u) {
            const float* t = args.round_tables + (u64)(s.first_round + r) * PIXMIX_ROUND_TABLE;
            __syncthreads();  // the previous round's readers are done
            for (u32 i = threadIdx.x; i < (r == 0u ? 512u : 256u); i += blockDim.x) {
                if (i < 256u) {
                    other[i] = t[i];
                } else {
                    first[i - 256u] = t[i];
                }
            }
            __syncthreads();
        }
        if (active) pixmix_pixel_round(args, n, r, other, first, x, y, base, mixed);
    }
    if (active) pixmix_pixel_store(args, n, x, y, mixed);
}

// grid: (ceil(walkers / block), images). One thread a walker; integer atomics, so the
// histogram does not depend on scheduling. Buckets must be zeroed first.
extern "C" __global__ void pixmix_flame_walk_kernel(FlameArgs a) {
    u32 image = blockIdx.y;
    u64 w = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    u64 walkers = (a.points + PIXMIX_FLAME_WALKER_POINTS - 1) / PIXMIX_FLAME_WALKER_POINTS;
    if (w >= walkers) return;
    u64 rest = a.points - w * PIXMIX_FLAME_WALKER_POINTS;
    u64 pts = rest < PIXMIX_FLAME_WALKER_POINTS ? rest : PIXMIX_FLAME_WALKER_POINTS;
    const FlameGenome& g = a.genomes[image];
    u64 side = 2ull * a.size;
    u32* buckets = a.buckets + (u64)image * side * side * 4;
    flame_walk(g, a.seeds[image], w, pts, a.size, [&](u64 bucket, u32 idx) {
        u32* b = buckets + bucket * 4;
        atomicAdd(b, 1u);
        atomicAdd(b + 1, g.palette[idx][0]);
        atomicAdd(b + 2, g.palette[idx][1]);
        atomicAdd(b + 3, g.palette[idx][2]);
    });
}

// grid: (images), block: 256. Histogram of capped counts, then the tone-mapping reference.
extern "C" __global__ void pixmix_flame_nref_kernel(FlameArgs a) {
    u32 image = blockIdx.x;
    u64 side = 2ull * a.size;
    u32* hist = a.scratch + (u64)image * (PIXMIX_FLAME_COUNT_CAP + 1);
    for (u32 i = threadIdx.x; i <= PIXMIX_FLAME_COUNT_CAP; i += blockDim.x) hist[i] = 0u;
    __syncthreads();
    const u32* buckets = a.buckets + (u64)image * side * side * 4;
    for (u64 i = threadIdx.x; i < side * side; i += blockDim.x) {
        u32 n = buckets[i * 4];
        if (n) atomicAdd(&hist[n < PIXMIX_FLAME_COUNT_CAP ? n : PIXMIX_FLAME_COUNT_CAP], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) a.nref[image] = flame_nref(hist);
}

// grid: (ceil(size * size / block), images)
extern "C" __global__ void pixmix_flame_tonemap_kernel(FlameArgs a) {
    u32 image = blockIdx.y;
    u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= a.size * a.size) return;
    u64 side = 2ull * a.size;
    const u32* buckets = a.buckets + (u64)image * side * side * 4;
    u8* out = a.out + ((u64)image * a.size * a.size + p) * 3;
    flame_tone_map(buckets, a.size, a.nref[image], a.genomes[image].gamma, p % a.size, p / a.size, out);
}
