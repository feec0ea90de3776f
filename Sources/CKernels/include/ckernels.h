// ConvLens's kernels written in C: the few inner loops whose Swift SIMD code LLVM turns into
// scalar inserts and extracts (stride-2 and stride-4 deinterleaves and interleaves, which want
// unpck/shufps/vperm2f128), and register-tiled micro-kernels that need all sixteen vector
// registers held across a loop. Called from ConvLensEngine, which owns the loops around them;
// AVX2 + FMA on x86-64 (and the 1×1 kernel's AVX-512 tile, chosen at run time), plain C elsewhere.
#ifndef CONVLENS_CKERNELS_H
#define CONVLENS_CKERNELS_H

/// Winograd F(m×m, 3×3) input transform (m = 2 or 4, patch α = m + 2): for channels c0 ..< c1 of
/// the zero-padded image xpad [C, hp, wp] and tile rows ty0 ..< ty0 + rows (tw tiles each),
/// V[α², C, ld] = Bᵀ·d·B, tile (r, t) at column r·tw + t. Reads up to 32 (m = 2: 18) floats
/// past a row's last group of eight tiles (the padded width has room).
void convlens_winograd_input(int m, float *v, const float *xpad, long c, long hp, long wp, long tw,
                             long ty0, long rows, long ld, long c0, long c1);

/// Winograd F(m×m, 3×3) output transform for output channel o of one image: y[o] (OH × OW) =
/// Aᵀ·M·A + bias for tile rows ty0 ..< ty0 + rows, clipped to the map. M [α², OC, ld]; reads up
/// to 7 floats past a row's last group (the scratch has room).
void convlens_winograd_output(int m, float *y, const float *mm, float bias, long o, long oc, long oh, long ow,
                              long tw, long ty0, long rows, long ld);

/// 1×1 convolution (stride 1, no padding) of N images as one pass over its output, which the
/// Swift side's im2col-free GEMM otherwise writes three times (bias, GEMM with β = 1, epilogue).
/// W [OC, K] is packed once into panels of six output channels (`convlens_pointwise_pack`,
/// `convlens_pointwise_packed_count` floats, zero rows past OC). Computes output channels
/// o0 ..< o1 (o0 a multiple of six) of columns j0 ..< j1 of Y [OC, N·HW] (column j is pixel
/// j mod HW of image j / HW; y and x are NCHW [N, OC, HW] and [N, K, HW]):
///   y = clamp(bias + W·x + res, lo, hi)
/// bias and res (NCHW like y) may be NULL; lo = −∞, hi = +∞ for no clamp; NaN stays NaN
/// unless nan_to_lo (ConvLens's ReLU, x > 0 ? x : 0, maps it to 0). xp is scratch for
/// (j1 − j0 rounded up to 16) · K floats: the columns, packed.
typedef struct { float lo, hi; int nan_to_lo; } convlens_clamp;
long convlens_pointwise_packed_count(long oc, long k);
void convlens_pointwise_pack(float *wp, const float *w, long oc, long k);
void convlens_pointwise(float *y, const float *x, const float *wp, const float *bias, const float *res,
                        long oc, long k, long hw, long j0, long j1, long o0, long o1, convlens_clamp c, float *xp);
/// Whether `convlens_pointwise` uses its AVX-512 tile (two strips at once) where the CPU has it:
/// use = 0 turns it off (for tests of the AVX2 tile), 1 back on where available, −1 asks.
int convlens_pointwise_avx512(int use);

#endif
