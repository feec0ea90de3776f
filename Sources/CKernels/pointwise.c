// 1×1 convolutions as one pass over their output (see ckernels.h): a 6 × 16 register tile of
// output channels × pixels per step, the bias, residual and clamp applied before the only store.
#include "ckernels.h"
#include <string.h>

#define MR 6    /* output channels per register tile */
#define NR 16   /* pixels per register tile */

long convlens_pointwise_packed_count(long oc, long k) { return (oc + MR - 1) / MR * MR * k; }

void convlens_pointwise_pack(float *wp, const float *w, long oc, long k) {
    for (long o0 = 0; o0 < oc; o0 += MR) {
        float *panel = wp + o0 * k;
        for (long q = 0; q < k; q++)
            for (long r = 0; r < MR; r++) panel[q * MR + r] = o0 + r < oc ? w[(o0 + r) * k + q] : 0;
    }
}

// Columns j0 ..< j1 of X [K, N·HW] (column j = pixel j mod HW of image j / HW) into strips of
// 16 columns, xp[strip][K][16]; the last strip's missing columns are zeros. Each input row is
// read along its run of the chunk at once: reading the chunk strip by strip instead touches one
// cache line in each of K rows HW apart per strip, more streams than the prefetchers follow
// (MobileNetV2's 144 → 24 projection read at half the speed).
static void pack_columns(float *xp, const float *x, long k, long hw, long j0, long j1) {
    long count = j1 - j0, strips = (count + NR - 1) / NR;
    for (long at = 0; at < count; ) {
        long n = (j0 + at) / hw, p = (j0 + at) % hw, run = hw - p < count - at ? hw - p : count - at;
        for (long q = 0; q < k; q++) {
            const float *src = x + (n * k + q) * hw + p;
            for (long c = at; c < at + run; ) {
                float *dst = xp + (c / NR) * NR * k + q * NR + c % NR;
                long seg = NR - c % NR < at + run - c ? NR - c % NR : at + run - c;
                if (seg == NR) memcpy(dst, src, NR * sizeof(float));
                else for (long l = 0; l < seg; l++) dst[l] = src[l];
                src += seg; c += seg;
            }
        }
        at += run;
    }
    if (count % NR)
        for (long q = 0; q < k; q++)
            for (long l = count % NR; l < NR; l++) xp[(strips - 1) * NR * k + q * NR + l] = 0;
}

// Stores tile rows o0 ..< o0 + rows, columns s ..< s + len of the tile t [MR][NR] (already with
// bias), adding the residual and clamping to [lo, hi] on the way, column runs split at images.
static void store_tile(float *y, const float *res, const float *t, long oc, long hw, long o0, long rows,
                       long s, long len, convlens_clamp c) {
    long done = 0, n = s / hw, p = s % hw;
    while (done < len) {
        long run = hw - p < len - done ? hw - p : len - done;
        for (long r = 0; r < rows; r++) {
            long at = (n * oc + o0 + r) * hw + p;
            for (long l = 0; l < run; l++) {
                float v = t[r * NR + done + l];
                if (res) v += res[at + l];
                if (c.nan_to_lo) v = v > c.lo ? v : c.lo;
                else v = v < c.lo ? c.lo : v;         /* NaN passes */
                y[at + l] = v > c.hi ? c.hi : v;
            }
        }
        done += run; n++; p = 0;
    }
}

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

// t[r][0 ..< 16] = b[r] + Σ_q wp[q][r]·xp[q][0 ..< 16] for the 6 rows r. A function of its own
// (not inlined) so that nothing of the caller's competes for the 16 registers: 12 accumulators,
// 2 columns, 1 broadcast weight.
__attribute__((noinline))
static void tile6x16(const float *wp, const float *xp, long k, const float *b, float *t) {
    __m256 a0 = _mm256_broadcast_ss(b), a1 = a0, a2 = _mm256_broadcast_ss(b + 1), a3 = a2;
    __m256 a4 = _mm256_broadcast_ss(b + 2), a5 = a4, a6 = _mm256_broadcast_ss(b + 3), a7 = a6;
    __m256 a8 = _mm256_broadcast_ss(b + 4), a9 = a8, a10 = _mm256_broadcast_ss(b + 5), a11 = a10;
    for (long q = 0; q < k; q++) {
        __m256 x0 = _mm256_loadu_ps(xp), x1 = _mm256_loadu_ps(xp + 8), w;
        w = _mm256_broadcast_ss(wp);     a0 = _mm256_fmadd_ps(w, x0, a0);   a1 = _mm256_fmadd_ps(w, x1, a1);
        w = _mm256_broadcast_ss(wp + 1); a2 = _mm256_fmadd_ps(w, x0, a2);   a3 = _mm256_fmadd_ps(w, x1, a3);
        w = _mm256_broadcast_ss(wp + 2); a4 = _mm256_fmadd_ps(w, x0, a4);   a5 = _mm256_fmadd_ps(w, x1, a5);
        w = _mm256_broadcast_ss(wp + 3); a6 = _mm256_fmadd_ps(w, x0, a6);   a7 = _mm256_fmadd_ps(w, x1, a7);
        w = _mm256_broadcast_ss(wp + 4); a8 = _mm256_fmadd_ps(w, x0, a8);   a9 = _mm256_fmadd_ps(w, x1, a9);
        w = _mm256_broadcast_ss(wp + 5); a10 = _mm256_fmadd_ps(w, x0, a10); a11 = _mm256_fmadd_ps(w, x1, a11);
        xp += NR; wp += MR;
    }
    _mm256_storeu_ps(t, a0);       _mm256_storeu_ps(t + 8, a1);   _mm256_storeu_ps(t + 16, a2);  _mm256_storeu_ps(t + 24, a3);
    _mm256_storeu_ps(t + 32, a4);  _mm256_storeu_ps(t + 40, a5);  _mm256_storeu_ps(t + 48, a6);  _mm256_storeu_ps(t + 56, a7);
    _mm256_storeu_ps(t + 64, a8);  _mm256_storeu_ps(t + 72, a9);  _mm256_storeu_ps(t + 80, a10); _mm256_storeu_ps(t + 88, a11);
}

static int wide = -1;   /* AVX-512 in use: −1 until the CPU is asked */

int convlens_pointwise_avx512(int use) {
    if (wide < 0 || use == 1) wide = __builtin_cpu_supports("avx512f") ? 1 : 0;
    if (use == 0) wide = 0;
    return wide;
}

// The same for two strips at once with AVX-512 (Zen 4 and Skylake-X on): one 16-lane register
// per strip and row, 12 accumulators of 16 lanes. Half the instructions and broadcasts per
// multiply-add of `tile6x16`, which is what the CPU's front end was short of.
__attribute__((noinline, target("avx512f")))
static void tile6x32(const float *wp, const float *xp, const float *xq, long k, const float *b, float *t, float *u) {
    __m512 a0 = _mm512_set1_ps(b[0]), a1 = a0, a2 = _mm512_set1_ps(b[1]), a3 = a2;
    __m512 a4 = _mm512_set1_ps(b[2]), a5 = a4, a6 = _mm512_set1_ps(b[3]), a7 = a6;
    __m512 a8 = _mm512_set1_ps(b[4]), a9 = a8, a10 = _mm512_set1_ps(b[5]), a11 = a10;
    for (long q = 0; q < k; q++) {
        __m512 x0 = _mm512_loadu_ps(xp), x1 = _mm512_loadu_ps(xq), w;
        w = _mm512_set1_ps(wp[0]); a0 = _mm512_fmadd_ps(w, x0, a0);   a1 = _mm512_fmadd_ps(w, x1, a1);
        w = _mm512_set1_ps(wp[1]); a2 = _mm512_fmadd_ps(w, x0, a2);   a3 = _mm512_fmadd_ps(w, x1, a3);
        w = _mm512_set1_ps(wp[2]); a4 = _mm512_fmadd_ps(w, x0, a4);   a5 = _mm512_fmadd_ps(w, x1, a5);
        w = _mm512_set1_ps(wp[3]); a6 = _mm512_fmadd_ps(w, x0, a6);   a7 = _mm512_fmadd_ps(w, x1, a7);
        w = _mm512_set1_ps(wp[4]); a8 = _mm512_fmadd_ps(w, x0, a8);   a9 = _mm512_fmadd_ps(w, x1, a9);
        w = _mm512_set1_ps(wp[5]); a10 = _mm512_fmadd_ps(w, x0, a10); a11 = _mm512_fmadd_ps(w, x1, a11);
        xp += NR; xq += NR; wp += MR;
    }
    _mm512_storeu_ps(t, a0);      _mm512_storeu_ps(t + 16, a2); _mm512_storeu_ps(t + 32, a4);
    _mm512_storeu_ps(t + 48, a6); _mm512_storeu_ps(t + 64, a8); _mm512_storeu_ps(t + 80, a10);
    _mm512_storeu_ps(u, a1);      _mm512_storeu_ps(u + 16, a3); _mm512_storeu_ps(u + 32, a5);
    _mm512_storeu_ps(u + 48, a7); _mm512_storeu_ps(u + 64, a9); _mm512_storeu_ps(u + 80, a11);
}

// Stores the tile t [MR][NR] (bias included) of rows ob ..< ob + rows and strip s (len columns):
// + residual, clamped; whole strips inside one image by vector stores.
static inline void store_strip(float *y, const float *res, const float *t, long oc, long hw, long ob, long rows,
                               long s, long len, convlens_clamp c) {
    long n = s / hw, p = s % hw;
    if (len < NR || p + NR > hw) { store_tile(y, res, t, oc, hw, ob, rows, s, len, c); return; }
    __m256 vlo = _mm256_set1_ps(c.lo), vhi = _mm256_set1_ps(c.hi);
    for (long r = 0; r < rows; r++) {
        long at = (n * oc + ob + r) * hw + p;
        __m256 u = _mm256_loadu_ps(t + r * NR), v = _mm256_loadu_ps(t + r * NR + 8);
        if (res) { u = _mm256_add_ps(u, _mm256_loadu_ps(res + at)); v = _mm256_add_ps(v, _mm256_loadu_ps(res + at + 8)); }
        // maxps and minps return their second operand when either is NaN.
        if (c.nan_to_lo) { u = _mm256_max_ps(u, vlo); v = _mm256_max_ps(v, vlo); }
        else { u = _mm256_max_ps(vlo, u); v = _mm256_max_ps(vlo, v); }
        u = _mm256_min_ps(vhi, u); v = _mm256_min_ps(vhi, v);
        _mm256_storeu_ps(y + at, u); _mm256_storeu_ps(y + at + 8, v);
    }
}

void convlens_pointwise(float *y, const float *x, const float *wp, const float *bias, const float *res,
                        long oc, long k, long hw, long j0, long j1, long o0, long o1, convlens_clamp c, float *xp) {
    if (wide < 0) convlens_pointwise_avx512(-1);
    float t[MR * NR], u[MR * NR];
    pack_columns(xp, x, k, hw, j0, j1);
    for (long ob = o0; ob < o1; ob += MR) {
        long rows = o1 - ob < MR ? o1 - ob : MR;
        float b[MR];
        for (long r = 0; r < MR; r++) b[r] = bias && r < rows ? bias[ob + r] : 0;
        for (long s = j0; s < j1; s += NR) {
            const float *xs = xp + (s - j0) * k;
            if (wide && s + NR < j1) {
                tile6x32(wp + ob * k, xs, xs + NR * k, k, b, t, u);
                store_strip(y, res, t, oc, hw, ob, rows, s, NR, c);
                s += NR;
                store_strip(y, res, u, oc, hw, ob, rows, s, j1 - s < NR ? j1 - s : NR, c);
                continue;
            }
            tile6x16(wp + ob * k, xs, k, b, t);
            store_strip(y, res, t, oc, hw, ob, rows, s, j1 - s < NR ? j1 - s : NR, c);
        }
    }
}

#else

int convlens_pointwise_avx512(int use) { (void)use; return 0; }

void convlens_pointwise(float *y, const float *x, const float *wp, const float *bias, const float *res,
                        long oc, long k, long hw, long j0, long j1, long o0, long o1, convlens_clamp c, float *xp) {
    pack_columns(xp, x, k, hw, j0, j1);
    for (long ob = o0; ob < o1; ob += MR) {
        long rows = o1 - ob < MR ? o1 - ob : MR;
        const float *panel = wp + ob * k;
        for (long s = j0; s < j1; s += NR) {
            float t[MR * NR];
            const float *xs = xp + (s - j0) * k;
            for (long r = 0; r < MR; r++)
                for (long l = 0; l < NR; l++) t[r * NR + l] = bias && ob + r < oc ? bias[ob + r] : 0;
            for (long q = 0; q < k; q++)
                for (long r = 0; r < MR; r++)
                    for (long l = 0; l < NR; l++) t[r * NR + l] += panel[q * MR + r] * xs[q * NR + l];
            store_tile(y, res, t, oc, hw, ob, rows, s, j1 - s < NR ? j1 - s : NR, c);
        }
    }
}

#endif
