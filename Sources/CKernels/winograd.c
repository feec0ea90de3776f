// Winograd F(2×2, 3×3) and F(4×4, 3×3) transforms (see ckernels.h and Conv2dWinograd.swift for
// the matrices). Eight tiles of one tile row at a time, one per lane.
#include "ckernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
typedef __m256 v8;
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps     /* a·b + c */
#define FNMA _mm256_fnmadd_ps   /* c − a·b */

// 4 floats at p in the low half, 4 at q in the high half.
static inline v8 halves(const float *p, const float *q) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), _mm_loadu_ps(q), 1);
}

// Store lanes 0 ..< n (all eight when n = 8): the low four as one store, the rest one by one
// (vmaskmovps is microcoded on AMD, and a quarter of this kernel's time when it was used).
static inline void put(float *dst, v8 x, long n) {
    if (n == 8) { _mm256_storeu_ps(dst, x); return; }
    __m128 lo = _mm256_castps256_ps128(x);
    if (n >= 4) {
        _mm_storeu_ps(dst, lo);
        __m128 hi = _mm256_extractf128_ps(x, 1);
        for (long l = 4; l < n; l++) { _mm_store_ss(dst + l, hi); hi = _mm_shuffle_ps(hi, hi, 0x39); }
    } else {
        for (long l = 0; l < n; l++) { _mm_store_ss(dst + l, lo); lo = _mm_shuffle_ps(lo, lo, 0x39); }
    }
}

// F(2×2): one patch row of eight tiles (columns 2k … 2k + 3), times B: 0−2, 1+2, 2−1, 1−3.
static inline void row2(const float *q, v8 r[4]) {
    v8 a = halves(q, q + 8), b = halves(q + 4, q + 12), c = halves(q + 2, q + 10), d = halves(q + 6, q + 14);
    v8 d0 = _mm256_shuffle_ps(a, b, 0x88), d1 = _mm256_shuffle_ps(a, b, 0xDD);
    v8 d2 = _mm256_shuffle_ps(c, d, 0x88), d3 = _mm256_shuffle_ps(c, d, 0xDD);
    r[0] = SUB(d0, d2); r[1] = ADD(d1, d2); r[2] = SUB(d2, d1); r[3] = SUB(d1, d3);
}

// F(4×4): Bᵀ·(d0 … d5).
static inline void t6(v8 d0, v8 d1, v8 d2, v8 d3, v8 d4, v8 d5, v8 out[6]) {
    v8 four = SET1(4), two = SET1(2);
    v8 a = FNMA(four, d2, d4), b = FNMA(four, d1, d3), c = SUB(d4, d2), e = _mm256_mul_ps(two, SUB(d3, d1));
    out[0] = FMA(four, SUB(d0, d2), c); out[1] = ADD(a, b); out[2] = SUB(a, b);
    out[3] = ADD(c, e); out[4] = SUB(c, e); out[5] = FMA(four, SUB(d1, d3), SUB(d5, d3));
}

// F(4×4): one patch row of eight tiles (columns 4k … 4k + 5), deinterleaved by 4×4 transposes
// within 128-bit lanes (low lane tiles 0–3, high lane tiles 4–7), times B.
static inline void row4(const float *q, v8 r[6]) {
    v8 a = halves(q, q + 16), b = halves(q + 4, q + 20), c = halves(q + 8, q + 24), d = halves(q + 12, q + 28), h = halves(q + 16, q + 32);
    v8 t0 = _mm256_unpacklo_ps(a, b), t1 = _mm256_unpackhi_ps(a, b), t2 = _mm256_unpacklo_ps(c, d), t3 = _mm256_unpackhi_ps(c, d);
    v8 u0 = _mm256_unpacklo_ps(b, c), u1 = _mm256_unpacklo_ps(d, h);
    t6(_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE), _mm256_shuffle_ps(t1, t3, 0x44),
       _mm256_shuffle_ps(t1, t3, 0xEE), _mm256_shuffle_ps(u0, u1, 0x44), _mm256_shuffle_ps(u0, u1, 0xEE), r);
}

void convlens_winograd_input(int m, float *v, const float *xpad, long c, long hp, long wp, long tw,
                             long ty0, long rows, long ld, long c0, long c1) {
    long plane = c * ld;
    for (long ci = c0; ci < c1; ci++) {
        const float *xc = xpad + ci * hp * wp;
        for (long r = 0; r < rows; r++) {
            const float *top = xc + m * (ty0 + r) * wp;
            for (long t = 0; t < tw; t += 8) {
                const float *p = top + m * t;
                long n = tw - t < 8 ? tw - t : 8;
                float *base = v + ci * ld + r * tw + t;
                if (m == 2) {
                    v8 a[4], b[4], cc[4], d[4];
                    row2(p, a); row2(p + wp, b); row2(p + 2 * wp, cc); row2(p + 3 * wp, d);
                    // Bᵀ down each column j; position ξ = 4i + j.
                    for (int j = 0; j < 4; j++) {
                        put(base + j * plane, SUB(a[j], cc[j]), n); put(base + (4 + j) * plane, ADD(b[j], cc[j]), n);
                        put(base + (8 + j) * plane, SUB(cc[j], b[j]), n); put(base + (12 + j) * plane, SUB(b[j], d[j]), n);
                    }
                } else {
                    v8 rr[6][6], col[6];
                    for (int i = 0; i < 6; i++) row4(p + i * wp, rr[i]);
                    // Bᵀ down each column j; position ξ = 6i + j.
                    for (int j = 0; j < 6; j++) {
                        t6(rr[0][j], rr[1][j], rr[2][j], rr[3][j], rr[4][j], rr[5][j], col);
                        for (int i = 0; i < 6; i++) put(base + (6 * i + j) * plane, col[i], n);
                    }
                }
            }
        }
    }
}

// F(4×4): Aᵀ·(m0 … m5) = m0+s+s2, d+2d2, s+4s2, d+8d2+m5 with s, d = m1 ± m2 and s2, d2 = m3 ± m4.
static inline void a4(v8 m0, v8 m1, v8 m2, v8 m3, v8 m4, v8 m5, v8 out[4]) {
    v8 s = ADD(m1, m2), d = SUB(m1, m2), s2 = ADD(m3, m4), d2 = SUB(m3, m4);
    out[0] = ADD(ADD(m0, s), s2); out[1] = FMA(SET1(2), d2, d); out[2] = FMA(SET1(4), s2, s); out[3] = ADD(FMA(SET1(8), d2, d), m5);
}

// Row `row` of the map (width ow) from k lanes of outputs per tile (q[x] lane l = output x of
// tile t + l), eight tiles from column `x0`: whole groups interleaved by shuffles, the map's
// edge lane by lane.
static inline void storeRow(float *row, long x0, long ow, long n, int k, const v8 *q) {
    if (n == 8 && x0 + 8 * k <= ow) {
        if (k == 2) {
            v8 lo = _mm256_unpacklo_ps(q[0], q[1]), hi = _mm256_unpackhi_ps(q[0], q[1]);   // tiles 0,1|4,5 and 2,3|6,7
            _mm256_storeu_ps(row + x0, _mm256_permute2f128_ps(lo, hi, 0x20));
            _mm256_storeu_ps(row + x0 + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        } else {
            v8 t0 = _mm256_unpacklo_ps(q[0], q[1]), t1 = _mm256_unpackhi_ps(q[0], q[1]);
            v8 t2 = _mm256_unpacklo_ps(q[2], q[3]), t3 = _mm256_unpackhi_ps(q[2], q[3]);
            v8 e0 = _mm256_shuffle_ps(t0, t2, 0x44), e1 = _mm256_shuffle_ps(t0, t2, 0xEE);   // tiles 0|4, 1|5
            v8 e2 = _mm256_shuffle_ps(t1, t3, 0x44), e3 = _mm256_shuffle_ps(t1, t3, 0xEE);   // tiles 2|6, 3|7
            _mm256_storeu_ps(row + x0, _mm256_permute2f128_ps(e0, e1, 0x20));
            _mm256_storeu_ps(row + x0 + 8, _mm256_permute2f128_ps(e2, e3, 0x20));
            _mm256_storeu_ps(row + x0 + 16, _mm256_permute2f128_ps(e0, e1, 0x31));
            _mm256_storeu_ps(row + x0 + 24, _mm256_permute2f128_ps(e2, e3, 0x31));
        }
        return;
    }
    float lanes[4][8] __attribute__((aligned(32)));
    for (int x = 0; x < k; x++) _mm256_store_ps(lanes[x], q[x]);
    for (long l = 0; l < n; l++)
        for (int x = 0; x < k && x0 + k * l + x < ow; x++) row[x0 + k * l + x] = lanes[x][l];
}

void convlens_winograd_output(int m, float *y, const float *mm, float bias, long o, long oc, long oh, long ow,
                              long tw, long ty0, long rows, long ld) {
    long plane = oc * ld;
    float *yo = y + o * oh * ow;
    v8 b = SET1(bias);
    for (long r = 0; r < rows; r++) {
        long oy = m * (ty0 + r);
        for (long t = 0; t < tw; t += 8) {
            const float *at = mm + o * ld + r * tw + t;
            long n = tw - t < 8 ? tw - t : 8;
            if (m == 2) {
                // Aᵀ·m for column j: rows 0+1+2, 1−2−3; then across.
                v8 s0[4], s1[4];
                for (int j = 0; j < 4; j++) {
                    v8 m0 = _mm256_loadu_ps(at + j * plane), m1 = _mm256_loadu_ps(at + (4 + j) * plane);
                    v8 m2 = _mm256_loadu_ps(at + (8 + j) * plane), m3 = _mm256_loadu_ps(at + (12 + j) * plane);
                    s0[j] = ADD(ADD(m0, m1), m2); s1[j] = SUB(SUB(m1, m2), m3);
                }
                v8 q[2];
                q[0] = ADD(ADD(ADD(s0[0], s0[1]), s0[2]), b); q[1] = ADD(SUB(SUB(s0[1], s0[2]), s0[3]), b);
                storeRow(yo + oy * ow, 2 * t, ow, n, 2, q);
                if (oy + 1 < oh) {
                    q[0] = ADD(ADD(ADD(s1[0], s1[1]), s1[2]), b); q[1] = ADD(SUB(SUB(s1[1], s1[2]), s1[3]), b);
                    storeRow(yo + (oy + 1) * ow, 2 * t, ow, n, 2, q);
                }
            } else {
                v8 k[6][4];
                for (int j = 0; j < 6; j++)
                    a4(_mm256_loadu_ps(at + j * plane), _mm256_loadu_ps(at + (6 + j) * plane), _mm256_loadu_ps(at + (12 + j) * plane),
                       _mm256_loadu_ps(at + (18 + j) * plane), _mm256_loadu_ps(at + (24 + j) * plane), _mm256_loadu_ps(at + (30 + j) * plane), k[j]);
                for (int i = 0; i < 4 && oy + i < oh; i++) {
                    v8 q[4];
                    a4(k[0][i], k[1][i], k[2][i], k[3][i], k[4][i], k[5][i], q);
                    for (int x = 0; x < 4; x++) q[x] = ADD(q[x], b);
                    storeRow(yo + (oy + i) * ow, 4 * t, ow, n, 4, q);
                }
            }
        }
    }
}

#else
// Plain C: the same transforms one tile at a time.
static void bt(int m, const float *d, long step, float *out) {       // Bᵀ·d, d[k·step]
    if (m == 2) {
        out[0] = d[0] - d[2 * step]; out[1] = d[step] + d[2 * step]; out[2] = d[2 * step] - d[step]; out[3] = d[step] - d[3 * step];
    } else {
        float d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step], d5 = d[5 * step];
        float a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1);
        out[0] = 4 * (d0 - d2) + c; out[1] = a + b; out[2] = a - b; out[3] = c + e; out[4] = c - e; out[5] = 4 * (d1 - d3) + (d5 - d3);
    }
}

static void at(int m, const float *x, long step, float *out) {       // Aᵀ·x, x[k·step]
    if (m == 2) {
        out[0] = x[0] + x[step] + x[2 * step]; out[1] = x[step] - x[2 * step] - x[3 * step];
    } else {
        float s = x[step] + x[2 * step], d = x[step] - x[2 * step], s2 = x[3 * step] + x[4 * step], d2 = x[3 * step] - x[4 * step];
        out[0] = x[0] + s + s2; out[1] = d + 2 * d2; out[2] = s + 4 * s2; out[3] = d + 8 * d2 + x[5 * step];
    }
}

void convlens_winograd_input(int m, float *v, const float *xpad, long c, long hp, long wp, long tw,
                             long ty0, long rows, long ld, long c0, long c1) {
    int a = m + 2;
    long plane = c * ld;
    for (long ci = c0; ci < c1; ci++)
        for (long r = 0; r < rows; r++)
            for (long t = 0; t < tw; t++) {
                const float *p = xpad + ci * hp * wp + m * (ty0 + r) * wp + m * t;
                float rowsT[6][6], col[6];
                for (int i = 0; i < a; i++) bt(m, p + i * wp, 1, rowsT[i]);
                for (int j = 0; j < a; j++) {
                    float d[6];
                    for (int i = 0; i < a; i++) d[i] = rowsT[i][j];
                    bt(m, d, 1, col);
                    for (int i = 0; i < a; i++) v[(a * i + j) * plane + ci * ld + r * tw + t] = col[i];
                }
            }
}

void convlens_winograd_output(int m, float *y, const float *mm, float bias, long o, long oc, long oh, long ow,
                              long tw, long ty0, long rows, long ld) {
    int a = m + 2;
    long plane = oc * ld;
    for (long r = 0; r < rows; r++)
        for (long t = 0; t < tw; t++) {
            const float *p = mm + o * ld + r * tw + t;
            float cols[6][4];
            for (int j = 0; j < a; j++) at(m, p + j * plane, a * plane, cols[j]);
            for (int i = 0; i < m; i++) {
                float x[6], out[4];
                for (int j = 0; j < a; j++) x[j] = cols[j][i];
                at(m, x, 1, out);
                long oy = m * (ty0 + r) + i;
                for (int k = 0; k < m; k++) {
                    long ox = m * t + k;
                    if (oy < oh && ox < ow) y[(o * oh + oy) * ow + ox] = out[k] + bias;
                }
            }
        }
}
#endif
