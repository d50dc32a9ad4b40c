/* The Helium 16x8 matrix product's steps (Kernels/Helium/HeliumGemm16Kernel.cs): int16 columns times int8 filter rows
   re-laid [block of 4 rows][step of 8 values][4 rows][8] (zero weights past the row), per step one column load
   (VLDRH.S16), four widening weight loads (VLDRB.S16) and one multiply-accumulate-across per row:
   VMLADAVA.S16 into 32-bit sums (wrapping, as TFLite's int32 accumulator does) or VMLALDAVA.S16 into 64-bit sums.
   The last step's column load is tail-predicated (zeros past k), so nothing past a column is read. The 16x8 depthwise
   kernel (Kernels/Helium/HeliumDepthwise16Kernel.cs) keeps 4 channels in int32 lanes (mtvm_c16_mla4; with a depth
   multiplier mtvm_c16_mla4g gathers each lane's input channel). */
#ifndef MTVM_MVE_CONV16_H
#define MTVM_MVE_CONV16_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifdef MTVM_MVE
/* acc[r] += column x (k values) . row r of the block at w, r = 0..3, the sums of type sum_t accumulated by mla
   (vmladavaq_s16 or vmlaldavaq_s16): one body for both sum widths */
#define MTVM_C16_DOT1_STEP(mla) \
    a0 = mla(a0, xv, vldrbq_s16(w)); a1 = mla(a1, xv, vldrbq_s16(w + 8)); \
    a2 = mla(a2, xv, vldrbq_s16(w + 16)); a3 = mla(a3, xv, vldrbq_s16(w + 24));
#define MTVM_C16_DOT1_BODY(sum_t, mla) \
    sum_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3]; \
    int n; \
    for (n = k; n >= 8; n -= 8, x += 8, w += 32) { \
        const int16x8_t xv = vldrhq_s16(x); \
        MTVM_C16_DOT1_STEP(mla) \
    } \
    if (n > 0) { \
        const int16x8_t xv = vldrhq_z_s16(x, vctp16q((uint32_t)n)); \
        MTVM_C16_DOT1_STEP(mla) \
    } \
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
static inline void mtvm_c16_dot1(const int16_t* x, const int8_t* w, int k, int32_t* acc) {
    MTVM_C16_DOT1_BODY(int32_t, vmladavaq_s16)
}
/* mtvm_c16_dot1 into 64-bit sums (VMLALDAVA.S16) */
static inline void mtvm_c16_dot1_64(const int16_t* x, const int8_t* w, int k, int64_t* acc) {
    MTVM_C16_DOT1_BODY(int64_t, vmlaldavaq_s16)
}
/* acc + x[i] * w[i] in lane i (VLDRH.S32, VLDRB.S32, VMUL, VADD: 16x8 depthwise, channels in lanes); with n < 4
   the loads are predicated and lanes n.. add zero */
static inline mtvm_i32x4 mtvm_c16_mla4(mtvm_i32x4 acc, const int16_t* x, const int8_t* w, int n) {
    if (n >= 4) return vaddq_s32(acc, vmulq_s32(vldrhq_s32(x), vldrbq_s32(w)));
    {
        const mve_pred16_t p = vctp32q((uint32_t)n);
        return vaddq_s32(acc, vmulq_s32(vldrhq_z_s32(x, p), vldrbq_z_s32(w, p)));
    }
}
/* four input channel offsets (in int16 values) for a gather: p[0..3] widened (VLDRH.U32) */
typedef uint32x4_t mtvm_c16_off;
static inline mtvm_c16_off mtvm_c16_ld_off(const uint16_t* p) { return vldrhq_u32(p); }
/* acc + x[off[i]] * w[i] in lane i (VLDRH.S32 gather by shifted offsets, VLDRB.S32, VMUL, VADD: 16x8 depthwise with a
   depth multiplier, where lane i's input channel is its output channel / multiplier); with n < 4 the loads are
   predicated and lanes n.. add zero */
static inline mtvm_i32x4 mtvm_c16_mla4g(mtvm_i32x4 acc, const int16_t* x, mtvm_c16_off off, const int8_t* w, int n) {
    if (n >= 4) return vaddq_s32(acc, vmulq_s32(vldrhq_gather_shifted_offset_s32(x, off), vldrbq_s32(w)));
    {
        const mve_pred16_t p = vctp32q((uint32_t)n);
        return vaddq_s32(acc, vmulq_s32(vldrhq_gather_shifted_offset_z_s32(x, off, p), vldrbq_z_s32(w, p)));
    }
}
/* the low halves of the first n lanes (4: all) to p[0..n-1] (VSTRH.32, tail-predicated) */
static inline void mtvm_c16_st_s16(int16_t* p, mtvm_i32x4 v, int n) {
    if (n >= 4) vstrhq_s32(p, v); else vstrhq_p_s32(p, v, vctp32q((uint32_t)n));
}
#else
/* One step of 8 values: 32-bit sums wrap (VMLADAVA), 64-bit sums do not overflow for int16 x int8 products. */
MTVM_VFN void mtvm_c16_steps(const int16_t* const* cols, int count, const int8_t* w, int k, int32_t* acc32, int64_t* acc64) {
    int s, c, r, i;
    for (s = 0; s < k; s += 8, w += 32)
        for (c = 0; c < count; ++c)
            for (r = 0; r < 4; ++r)
                for (i = 0; i < 8; ++i) {
                    const int32_t xv = s + i < k ? cols[c][s + i] : 0; /* the predicated load's zeros */
                    const int32_t product = xv * (int32_t)w[8 * r + i];
                    if (acc32) acc32[4 * c + r] = (int32_t)((uint32_t)acc32[4 * c + r] + (uint32_t)product);
                    else acc64[r] += product;
                }
}
MTVM_VFN void mtvm_c16_dot1(const int16_t* x, const int8_t* w, int k, int32_t* acc) { mtvm_c16_steps(&x, 1, w, k, acc, 0); }
MTVM_VFN void mtvm_c16_dot1_64(const int16_t* x, const int8_t* w, int k, int64_t* acc) { mtvm_c16_steps(&x, 1, w, k, 0, acc); }
MTVM_VFN mtvm_i32x4 mtvm_c16_mla4(mtvm_i32x4 acc, const int16_t* x, const int8_t* w, int n) {
    int i;
    for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)(i < n ? (int32_t)x[i] * (int32_t)w[i] : 0));
    return acc;
}
typedef struct { uint32_t lane[4]; } mtvm_c16_off;
MTVM_VFN mtvm_c16_off mtvm_c16_ld_off(const uint16_t* p) { mtvm_c16_off r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
MTVM_VFN mtvm_i32x4 mtvm_c16_mla4g(mtvm_i32x4 acc, const int16_t* x, mtvm_c16_off off, const int8_t* w, int n) {
    int i;
    for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)(i < n ? (int32_t)x[off.lane[i]] * (int32_t)w[i] : 0));
    return acc;
}
MTVM_VFN void mtvm_c16_st_s16(int16_t* p, mtvm_i32x4 v, int n) { int i; for (i = 0; i < 4 && i < n; ++i) p[i] = (int16_t)(uint16_t)((uint32_t)v.lane[i] & 0xFFFFu); }
#endif

#endif
