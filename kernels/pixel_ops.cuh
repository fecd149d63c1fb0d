// The base operators evaluated at one output pixel, as src/ops computes whole rows.
#pragma once
#include "common.cuh"
#include "exact_double.cuh"
#include "plan.cuh"

PIXMIX_HD u8 pixmix_luma(const u8* p) {
    return (u8)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
}

// ImageEnhance's blend of degenerate d with image i by factor f, in float.
PIXMIX_HD u8 pixmix_blend(u8 d, u8 i, float f) {
    float t = (float)d + f * (float)((i32)i - (i32)d);
    return t <= 0.0f ? (u8)0 : (t >= 255.0f ? (u8)255 : (u8)t);
}

// Pillow's bilinear sample of the affine map m at output pixel (x, y); black outside.
PIXMIX_HD void pixmix_affine(const u8* img, i32 w, i32 h, const double* m, i32 x, i32 y, u8* out) {
    double xc = (double)x + 0.5, yc = (double)y + 0.5;
    double xin = m[0] * xc + m[1] * yc + m[2];
    double yin = m[3] * xc + m[4] * yc + m[5];
    if (!(xin >= 0.0 && xin < (double)w && yin >= 0.0 && yin < (double)h)) {
        out[0] = out[1] = out[2] = 0;
        return;
    }
    double xs = xin - 0.5, ys = yin - 0.5;
    i64 ix = xs < 0.0 ? -1 : (i64)xs;
    i64 iy = ys < 0.0 ? -1 : (i64)ys;
    double dx = xs - (double)ix, dy = ys - (double)iy;
    i64 x0 = ix < 0 ? 0 : (ix > w - 1 ? w - 1 : ix);
    i64 x1 = ix + 1 > w - 1 ? w - 1 : ix + 1;
    i64 r0 = iy < 0 ? 0 : (iy > h - 1 ? h - 1 : iy);
    i64 r1 = iy + 1 < h ? iy + 1 : r0;
    const u8* row0 = img + r0 * w * 3;
    const u8* row1 = img + r1 * w * 3;
    for (int c = 0; c < 3; c++) {
        double a = row0[x0 * 3 + c], b = row0[x1 * 3 + c];
        double v1 = a + (b - a) * dx;
        if (dy == 0.0) {
            out[c] = (u8)v1;
        } else {
            double a2 = row1[x0 * 3 + c], b2 = row1[x1 * 3 + c];
            double v2 = a2 + (b2 - a2) * dx;
            out[c] = (u8)(v1 + (v2 - v1) * dy);
        }
    }
}

// blend(SMOOTH(I), I, f) at (x, y); the one-pixel border keeps I.
PIXMIX_HD void pixmix_sharpness(const u8* img, i32 s, i32 x, i32 y, float f, u8* out) {
    const u8* p = img + (y * s + x) * 3;
    if (x == 0 || y == 0 || x == s - 1 || y == s - 1) {
        out[0] = p[0];
        out[1] = p[1];
        out[2] = p[2];
        return;
    }
    i32 row = s * 3;
    for (int c = 0; c < 3; c++) {
        const u8* q = p + c;
        u32 ring = q[-row - 3] + q[-row] + q[-row + 3] + q[-3] + q[3] + q[row - 3] + q[row] + q[row + 3];
        u32 sum = ring + 5u * q[0];
        u8 d = (u8)((2u * sum + 13u) / 26u);
        out[c] = pixmix_blend(d, q[0], f);
    }
}

// Operator `d` of sample n at output pixel (x, y) of the s x s original `orig`.
PIXMIX_HD void pixmix_op_pixel(const KernelArgs& args, const OpDesc& d, u32 n, i32 x, i32 y, u8* out) {
    i32 s = (i32)args.size;
    const u8* orig = args.orig + (u64)n * s * s * 3;
    const u8* p = orig + (y * s + x) * 3;
    const u8* tables = args.tables + (u64)n * PIXMIX_TABLE_STRIDE;
    switch (d.kind) {
        case PIXMIX_KIND_MIXING: {
            const SamplePlan& sp = args.samples[n];
            const PictureMeta& pic = args.mixing_meta[sp.mixing_index];
            const u8* q = args.mixing + pic.offset +
                          ((u64)(sp.mixing_y + y) * pic.width + sp.mixing_x + x) * 3;
            out[0] = q[0];
            out[1] = q[1];
            out[2] = q[2];
            return;
        }
        case PIXMIX_KIND_AUTOCONTRAST:
        case PIXMIX_KIND_EQUALIZE: {
            const u8* t = tables + (d.kind == PIXMIX_KIND_AUTOCONTRAST ? PIXMIX_TABLE_AUTOCONTRAST
                                                                       : PIXMIX_TABLE_EQUALIZE);
            for (int c = 0; c < 3; c++) out[c] = t[c * 256 + p[c]];
            return;
        }
        case PIXMIX_KIND_POSTERIZE: {
            u32 bits = d.u > 8u ? 8u : d.u;
            u32 mask = ~((1u << (8u - bits)) - 1u);
            for (int c = 0; c < 3; c++) out[c] = (u8)(p[c] & mask);
            return;
        }
        case PIXMIX_KIND_SOLARIZE:
            for (int c = 0; c < 3; c++) out[c] = (u32)p[c] < d.u ? p[c] : (u8)(255 - p[c]);
            return;
        case PIXMIX_KIND_ROTATE90:
        case PIXMIX_KIND_ROTATE180:
        case PIXMIX_KIND_ROTATE270: {
            i32 sx = d.kind == PIXMIX_KIND_ROTATE90 ? s - 1 - y : (d.kind == PIXMIX_KIND_ROTATE180 ? s - 1 - x : y);
            i32 sy = d.kind == PIXMIX_KIND_ROTATE90 ? x : (d.kind == PIXMIX_KIND_ROTATE180 ? s - 1 - y : s - 1 - x);
            const u8* q = orig + (sy * s + sx) * 3;
            out[0] = q[0];
            out[1] = q[1];
            out[2] = q[2];
            return;
        }
        case PIXMIX_KIND_AFFINE:
            pixmix_affine(orig, s, s, d.m, x, y, out);
            return;
        case PIXMIX_KIND_COLOR: {
            u8 g = pixmix_luma(p);
            for (int c = 0; c < 3; c++) out[c] = pixmix_blend(g, p[c], d.f);
            return;
        }
        case PIXMIX_KIND_CONTRAST:
        case PIXMIX_KIND_BRIGHTNESS: {
            u8 g = d.kind == PIXMIX_KIND_CONTRAST ? tables[PIXMIX_TABLE_MEAN] : (u8)0;
            for (int c = 0; c < 3; c++) out[c] = pixmix_blend(g, p[c], d.f);
            return;
        }
        case PIXMIX_KIND_SHARPNESS:
            pixmix_sharpness(orig, s, x, y, d.f, out);
            return;
        default:  // PIXMIX_KIND_ORIGINAL
            out[0] = p[0];
            out[1] = p[1];
            out[2] = p[2];
            return;
    }
}
