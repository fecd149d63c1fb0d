// Kernels for tests/calls.rs: device functions kept out of line (__noinline__), so the PTX
// calls them: parameters and return values of several sizes, a struct passed and returned
// by value, an early return, a local array, a call inside a called function, and calls
// under a divergent branch. Compiled to tests/data/calls.ptx by tools/make-check-kernels.sh.

__device__ __noinline__ int add_or(int a, int b)
{
    if (a == 0) {
        return 99;
    }
    return a + b;
}

__device__ __noinline__ unsigned long long mix(unsigned long long v, int k)
{
    int buf[8];
    for (int i = 0; i < 8; i++) {
        buf[i] = add_or(k + i, i);
    }
    return v * 3 + (unsigned long long)buf[k & 7];
}

__device__ __noinline__ void store_pair(int *out, int a, float f)
{
    out[0] = a;
    out[1] = __float_as_int(f * 2.0f);
}

struct Pair {
    int a;
    int b;
};

__device__ __noinline__ Pair swap(Pair p)
{
    Pair q = {p.b, p.a};
    return q;
}

// Thread i: r = add_or(in[i], i), m = mix(in[i], i), odd inputs also store_pair, and the
// swapped pair (in[i], r): eight ints per thread.
extern "C" __global__ void calls(const int *in, int *out)
{
    int i = threadIdx.x;
    int v = in[i];
    int r = add_or(v, i);
    unsigned long long m = mix((unsigned long long)v, i);
    if (v & 1) {
        store_pair(out + 8 * i + 2, r, (float)v);
    }
    Pair p = {v, r};
    Pair s = swap(p);
    out[8 * i] = r;
    out[8 * i + 1] = (int)m;
    out[8 * i + 4] = s.a;
    out[8 * i + 5] = s.b;
    out[8 * i + 6] = (int)(m >> 32);
}
