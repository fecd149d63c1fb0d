// Tiny kernels for the fatbin reader's test fixtures (see tools/make-fixtures.sh).
extern "C" __global__ void add_one(float *data, unsigned n)
{
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        data[i] += 1.0f;
    }
}

extern "C" __global__ void scale(float *out, const float *in, float k, unsigned n)
{
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = in[i] * k;
    }
}
