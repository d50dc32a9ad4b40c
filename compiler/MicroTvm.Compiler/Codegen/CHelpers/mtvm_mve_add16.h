/* The Helium int16 ADD/SUB kernel's steps (Kernels/Helium/HeliumAdd16Kernel.cs): TFLite's int16 ADD arithmetic on four
   int32 lanes, every operand but the vector a scalar register (MVE has 8 Q registers: the loop keeps only the clamp's
   bounds and, broadcasting, the broadcast input's scaled entry in them). mtvm_a16_srdhm is SaturatingRoundingDoublingHighMul
   (VQRDMULH), mtvm_a16_rdbpot RoundingDivideByPOT for exponents 1..31 (VRSHL after a saturating -1 on negative lanes:
   VRSHL rounds ties up, TFLite away from zero); the host emulation uses mtvm_mve.h's instruction models. */
#ifndef MTVM_MVE_ADD16_H
#define MTVM_MVE_ADD16_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifdef MTVM_MVE
/* four int16 values sign-extended into int32 lanes (VLDRH.S32); the first n only (tail-predicated, the rest zero) */
static inline mtvm_i32x4 mtvm_a16_ld(const int16_t* p) { return vldrhq_s32(p); }
static inline mtvm_i32x4 mtvm_a16_ld_n(const int16_t* p, int n) { return vldrhq_z_s32(p, vctp32q((uint32_t)n)); }
/* the low halves of the lanes to p[0..3] (VSTRH.32); the first n only */
static inline void mtvm_a16_st(int16_t* p, mtvm_i32x4 v) { vstrhq_s32(p, v); }
static inline void mtvm_a16_st_n(int16_t* p, mtvm_i32x4 v, int n) { vstrhq_p_s32(p, v, vctp32q((uint32_t)n)); }
static inline mtvm_i32x4 mtvm_a16_add(mtvm_i32x4 x, mtvm_i32x4 y) { return vaddq_s32(x, y); }
static inline mtvm_i32x4 mtvm_a16_sub(mtvm_i32x4 x, mtvm_i32x4 y) { return vsubq_s32(x, y); }
/* x + k, wrapping (VADD with a scalar) */
static inline mtvm_i32x4 mtvm_a16_add_n(mtvm_i32x4 x, int32_t k) { return vaddq_n_s32(x, k); }
/* x << s, s in 0..31, bits shifted out lost (VSHL by a scalar register) */
static inline mtvm_i32x4 mtvm_a16_shl(mtvm_i32x4 x, int32_t s) { return vshlq_r_s32(x, s); }
static inline mtvm_i32x4 mtvm_a16_srdhm(mtvm_i32x4 x, int32_t m) { return vqrdmulhq_n_s32(x, m); }
/* neg = -exponent, exponent in 1..31 */
static inline mtvm_i32x4 mtvm_a16_rdbpot(mtvm_i32x4 x, int32_t neg) { return vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), neg); }
static inline mtvm_i32x4 mtvm_a16_clamp(mtvm_i32x4 x, mtvm_i32x4 lo, mtvm_i32x4 hi) { return vminq_s32(vmaxq_s32(x, lo), hi); }
#else
MTVM_VFN mtvm_i32x4 mtvm_a16_ld_n(const int16_t* p, int n) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = i < n ? p[i] : 0; return r; }
MTVM_VFN mtvm_i32x4 mtvm_a16_ld(const int16_t* p) { return mtvm_a16_ld_n(p, 4); }
MTVM_VFN void mtvm_a16_st_n(int16_t* p, mtvm_i32x4 v, int n) { int i; for (i = 0; i < 4 && i < n; ++i) p[i] = (int16_t)(uint16_t)((uint32_t)v.lane[i] & 0xFFFFu); }
MTVM_VFN void mtvm_a16_st(int16_t* p, mtvm_i32x4 v) { mtvm_a16_st_n(p, v, 4); }
MTVM_VFN mtvm_i32x4 mtvm_a16_add(mtvm_i32x4 x, mtvm_i32x4 y) { int i; for (i = 0; i < 4; ++i) x.lane[i] = (int32_t)((uint32_t)x.lane[i] + (uint32_t)y.lane[i]); return x; }
MTVM_VFN mtvm_i32x4 mtvm_a16_sub(mtvm_i32x4 x, mtvm_i32x4 y) { int i; for (i = 0; i < 4; ++i) x.lane[i] = (int32_t)((uint32_t)x.lane[i] - (uint32_t)y.lane[i]); return x; }
MTVM_VFN mtvm_i32x4 mtvm_a16_add_n(mtvm_i32x4 x, int32_t k) { return mtvm_a16_add(x, mtvm_v_dup(k)); }
MTVM_VFN mtvm_i32x4 mtvm_a16_shl(mtvm_i32x4 x, int32_t s) { int i; for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_shl(x.lane[i], s); return x; }
MTVM_VFN mtvm_i32x4 mtvm_a16_srdhm(mtvm_i32x4 x, int32_t m) { int i; for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_qrdmulh(x.lane[i], m); return x; }
MTVM_VFN mtvm_i32x4 mtvm_a16_rdbpot(mtvm_i32x4 x, int32_t neg) {
    int i;
    for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_rshl(mtvm_e_qadd(x.lane[i], x.lane[i] >> 31), neg);
    return x;
}
MTVM_VFN mtvm_i32x4 mtvm_a16_clamp(mtvm_i32x4 x, mtvm_i32x4 lo, mtvm_i32x4 hi) {
    int i;
    for (i = 0; i < 4; ++i) x.lane[i] = x.lane[i] < lo.lane[i] ? lo.lane[i] : x.lane[i] > hi.lane[i] ? hi.lane[i] : x.lane[i];
    return x;
}
#endif

#endif
