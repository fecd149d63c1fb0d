// Kernels for tests/checks.rs and tests/config.rs: each check of the emulator has a kernel
// that violates it and a correct twin that must run clean. Compiled to tests/data/checks.ptx
// by tools/make-check-kernels.sh.

// 1. Bounds: every thread stores out[i] = i; the unguarded one has no `if (i < n)`.
extern "C" __global__ void store_unguarded(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = i;
}

extern "C" __global__ void store_guarded(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = i;
    }
}

// 2. Shared memory: each thread stores its element, then reads its left neighbour's
// (thread 0 its own). Without the barrier, the read races with the neighbour's store.
extern "C" __global__ void shift_nosync(const int *in, int *out)
{
    __shared__ int s[256];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = in[i];
    out[i] = s[t > 0 ? t - 1 : 0];
}

extern "C" __global__ void shift_sync(const int *in, int *out)
{
    __shared__ int s[256];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = in[i];
    __syncthreads();
    out[i] = s[t > 0 ? t - 1 : 0];
}

// 3. Global memory: thread 0 of every block writes the same word.
extern "C" __global__ void same_word_store(int *word)
{
    if (threadIdx.x == 0) {
        *word = blockIdx.x + 1;
    }
}

extern "C" __global__ void same_word_atomic(int *word)
{
    if (threadIdx.x == 0) {
        atomicAdd(word, blockIdx.x + 1);
    }
}

// 4. Initialization (and the stream tests' reader): out[i] = in[i] + 1.
extern "C" __global__ void add_one(const int *in, int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = in[i] + 1;
    }
}

// 5. Alignment: a 4-byte load `offset` bytes into a byte buffer.
extern "C" __global__ void load_at(const char *p, int offset, int *out)
{
    *out = *(const int *)(p + offset);
}

// 6, 7, 9. Streams: a writer, and a single thread spinning long enough that work queued
// behind it is still pending when the host acts.
extern "C" __global__ void fill(int *out, int value, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = value + i;
    }
}

extern "C" __global__ void spin(unsigned *out, unsigned iterations)
{
    unsigned x = threadIdx.x + 1;
    for (unsigned k = 0; k < iterations; k++) {
        x = x * 1664525u + 1013904223u;
    }
    out[threadIdx.x] = x;
}

// 8. Determinism: a block-wide shared-memory tree reduction into one word per block, then
// an atomic total, and an in-place scale (no races; results independent of workers).
extern "C" __global__ void block_sums(const int *in, int *sums, int *total, int n)
{
    __shared__ int s[128];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[t] = i < n ? in[i] : 0;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) {
            s[t] += s[t + stride];
        }
        __syncthreads();
    }
    if (t == 0) {
        sums[blockIdx.x] = s[0];
        atomicAdd(total, s[0]);
    }
}

extern "C" __global__ void scale_float(float *data, float k, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        data[i] = data[i] * k + 0.5f;
    }
}
