// ConvLens's kernels written in C: the few inner loops whose Swift SIMD code LLVM turns into
// scalar inserts and extracts (stride-2 and stride-4 deinterleaves and interleaves, which want
// unpck/shufps/vperm2f128). Called from ConvLensEngine (Conv2dWinograd.swift), which owns the
// loops around them; AVX2 + FMA on x86-64, plain C elsewhere.
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

#endif
