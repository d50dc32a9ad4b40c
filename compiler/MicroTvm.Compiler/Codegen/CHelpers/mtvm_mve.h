/* Helium (M-profile vector extension, Cortex-M55) lanes and TFLite's fixed-point arithmetic on them, for every Helium
   kernel (Kernels/Helium). With __ARM_FEATURE_MVE they are <arm_mve.h> intrinsics; everywhere else (the host tests, or
   with -DMICROTVM_PORTABLE_DSP) portable C with the exact semantics of the instructions, so the host runs the very
   kernel logic the target runs. mtvm_v_srdhm is SaturatingRoundingDoublingHighMul (VQRDMULH), mtvm_v_rdbpot
   RoundingDivideByPOT (VRSHL after a saturating -1 on negative lanes whose exponent is non-zero), mtvm_v_requantize
   MultiplyByQuantizedMultiplier, bit-exact for every input; mtvm_v_requantize_clamp/_store add the output zero point,
   clamp and narrow to int8. */
#ifndef MTVM_MVE_H
#define MTVM_MVE_H
#include <stdint.h>

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
#include <arm_mve.h>
#define MTVM_MVE 1
#define MTVM_VFN static inline
/* The Helium kernels' inline asm names more registers than gcc finds without optimization (-O0, a project's
   OptimizationLevel=0: "'asm' operand has impossible constraints"): the model's file is then compiled at -Og. */
#if defined(__GNUC__) && !defined(__OPTIMIZE__)
#pragma GCC optimize ("Og")
#endif
typedef int32x4_t mtvm_i32x4;
typedef int16x8_t mtvm_i16x8;
typedef int8x16_t mtvm_i8x16;
static inline mtvm_i32x4 mtvm_v_dup(int32_t v) { return vdupq_n_s32(v); }
static inline mtvm_i32x4 mtvm_v_ld_s32(const int32_t* p) { return vldrwq_s32(p); }
/* lanes a, b, c, d (two VMOVs from core register pairs) */
static inline mtvm_i32x4 mtvm_v_make(int32_t a, int32_t b, int32_t c, int32_t d) {
    mtvm_i32x4 v = vdupq_n_s32(0);
    v = vsetq_lane_s32(a, v, 0); v = vsetq_lane_s32(b, v, 1); v = vsetq_lane_s32(c, v, 2); v = vsetq_lane_s32(d, v, 3);
    return v;
}
static inline mtvm_i32x4 mtvm_v_add(mtvm_i32x4 a, mtvm_i32x4 b) { return vaddq_s32(a, b); }
/* x << s per lane, bits shifted out lost (VSHL by register, s >= 0) */
static inline mtvm_i32x4 mtvm_v_shl(mtvm_i32x4 x, mtvm_i32x4 s) { return vshlq_s32(x, s); }
/* TFLite's SaturatingRoundingDoublingHighMul per lane: VQRDMULH's (2ab + 2^31) >> 32, saturating only
   INT32_MIN * INT32_MIN, equals it for every input. */
static inline mtvm_i32x4 mtvm_v_srdhm(mtvm_i32x4 a, mtvm_i32x4 b) { return vqrdmulhq_s32(a, b); }
/* TFLite's RoundingDivideByPOT per lane (ties away from zero) for exponents e in [0, 31], given as neg = -e:
   VRSHL by -e rounds ties up, so negative x first lose 1 where e > 0 (saturating, which leaves INT32_MIN exact). */
static inline mtvm_i32x4 mtvm_v_rdbpot(mtvm_i32x4 x, mtvm_i32x4 neg) {
    const mtvm_i32x4 fix = vandq_s32(vshrq_n_s32(x, 31), vshrq_n_s32(neg, 31));
    return vrshlq_s32(vqaddq_s32(x, fix), neg);
}
/* mtvm_v_rdbpot when every lane's exponent is non-zero: no mask. */
static inline mtvm_i32x4 mtvm_v_rdbpot_nonzero(mtvm_i32x4 x, mtvm_i32x4 neg) { return vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), neg); }
static inline mtvm_i32x4 mtvm_v_clamp(mtvm_i32x4 x, int32_t lo, int32_t hi) { return vminq_s32(vmaxq_s32(x, vdupq_n_s32(lo)), vdupq_n_s32(hi)); }
/* the low byte of each lane to p[0..3] (VSTRB.32) */
static inline void mtvm_v_st_s8(int8_t* p, mtvm_i32x4 v) { vstrbq_s32(p, v); }
/* the same for the first n lanes only (tail-predicated) */
static inline void mtvm_v_st_s8_n(int8_t* p, mtvm_i32x4 v, int n) { vstrbq_p_s32(p, v, vctp32q((uint32_t)n)); }
#else
/* The emulation is not inlined: gcc compiles the unrolled kernels' many calls much faster, and each helper is
   checked once by the sanitizers. */
#if defined(__GNUC__)
#define MTVM_VFN static __attribute__((unused, noinline))
#else
#define MTVM_VFN static
#endif
typedef struct { int32_t lane[4]; } mtvm_i32x4;
typedef struct { int16_t lane[8]; } mtvm_i16x8;
typedef struct { int8_t lane[16]; } mtvm_i8x16;
MTVM_VFN mtvm_i32x4 mtvm_v_dup(int32_t v) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = v; return r; }
MTVM_VFN mtvm_i32x4 mtvm_v_ld_s32(const int32_t* p) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
MTVM_VFN mtvm_i32x4 mtvm_v_make(int32_t a, int32_t b, int32_t c, int32_t d) { mtvm_i32x4 r; r.lane[0] = a; r.lane[1] = b; r.lane[2] = c; r.lane[3] = d; return r; }
MTVM_VFN mtvm_i32x4 mtvm_v_add(mtvm_i32x4 a, mtvm_i32x4 b) { int i; for (i = 0; i < 4; ++i) a.lane[i] = (int32_t)((uint32_t)a.lane[i] + (uint32_t)b.lane[i]); return a; }
/* VSHL by register: the shift is the lane's bottom byte, signed; right shifts are arithmetic */
MTVM_VFN int32_t mtvm_e_shl(int32_t x, int32_t s) {
    const int n = (int8_t)(uint8_t)((uint32_t)s & 0xFFu);
    if (n >= 32) return 0;
    if (n >= 0) return (int32_t)((uint32_t)x << n);
    return n <= -32 ? (x < 0 ? -1 : 0) : x >> -n;
}
MTVM_VFN mtvm_i32x4 mtvm_v_shl(mtvm_i32x4 x, mtvm_i32x4 s) { int i; for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_shl(x.lane[i], s.lane[i]); return x; }
/* VQRDMULH */
MTVM_VFN int32_t mtvm_e_qrdmulh(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return (int32_t)((2 * (int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
MTVM_VFN mtvm_i32x4 mtvm_v_srdhm(mtvm_i32x4 a, mtvm_i32x4 b) { int i; for (i = 0; i < 4; ++i) a.lane[i] = mtvm_e_qrdmulh(a.lane[i], b.lane[i]); return a; }
/* VQADD */
MTVM_VFN int32_t mtvm_e_qadd(int32_t a, int32_t b) { const int64_t s = (int64_t)a + b; return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s; }
/* VRSHL by register: left shifts as VSHL, right shifts by n add 2^(n-1) first (in wider precision) */
MTVM_VFN int32_t mtvm_e_rshl(int32_t x, int32_t s) {
    const int n = (int8_t)(uint8_t)((uint32_t)s & 0xFFu);
    if (n >= 0) return mtvm_e_shl(x, n);
    if (n < -32) return 0;
    return (int32_t)(((int64_t)x + ((int64_t)1 << (-n - 1))) >> -n);
}
MTVM_VFN mtvm_i32x4 mtvm_v_rdbpot(mtvm_i32x4 x, mtvm_i32x4 neg) {
    int i;
    for (i = 0; i < 4; ++i) {
        const int32_t fix = (x.lane[i] >> 31) & (neg.lane[i] >> 31);
        x.lane[i] = mtvm_e_rshl(mtvm_e_qadd(x.lane[i], fix), neg.lane[i]);
    }
    return x;
}
MTVM_VFN mtvm_i32x4 mtvm_v_rdbpot_nonzero(mtvm_i32x4 x, mtvm_i32x4 neg) {
    int i;
    for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_rshl(mtvm_e_qadd(x.lane[i], x.lane[i] >> 31), neg.lane[i]);
    return x;
}
MTVM_VFN mtvm_i32x4 mtvm_v_clamp(mtvm_i32x4 x, int32_t lo, int32_t hi) {
    int i;
    for (i = 0; i < 4; ++i) x.lane[i] = x.lane[i] < lo ? lo : x.lane[i] > hi ? hi : x.lane[i];
    return x;
}
MTVM_VFN void mtvm_v_st_s8(int8_t* p, mtvm_i32x4 v) { int i; for (i = 0; i < 4; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)v.lane[i] & 0xFFu); }
MTVM_VFN void mtvm_v_st_s8_n(int8_t* p, mtvm_i32x4 v, int n) { int i; for (i = 0; i < 4 && i < n; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)v.lane[i] & 0xFFu); }
#endif
/* TFLite's MultiplyByQuantizedMultiplier per lane: x * 2^left, doubling high multiply, divide by 2^right with
   neg = -right (per channel: left = max(shift, 0), right = max(-shift, 0)). */
MTVM_VFN mtvm_i32x4 mtvm_v_requantize(mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg) {
    return mtvm_v_rdbpot(mtvm_v_srdhm(mtvm_v_shl(x, left), multiplier), neg);
}
/* mtvm_v_requantize plus the output zero point, clamped to [lo, hi]. What the compiler knows of the shifts saves
   instructions: has_left = 0 when no channel shifts left; right = 0 when none shifts right, 1 when every channel
   does, 2 when some do. */
MTVM_VFN mtvm_i32x4 mtvm_v_requantize_clamp(mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg,
                                                 int has_left, int right, int32_t offset, int32_t lo, int32_t hi) {
    if (has_left) x = mtvm_v_shl(x, left);
    x = mtvm_v_srdhm(x, multiplier);
    if (right == 1) x = mtvm_v_rdbpot_nonzero(x, neg);
    else if (right == 2) x = mtvm_v_rdbpot(x, neg);
    return mtvm_v_clamp(mtvm_v_add(x, mtvm_v_dup(offset)), lo, hi);
}
/* Four int32 lanes requantized as mtvm_v_requantize_clamp, stored as bytes: the first n lanes (4: all, unpredicated). */
MTVM_VFN void mtvm_v_requantize_store(int8_t* out, mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg,
                                           int has_left, int right, int32_t offset, int32_t lo, int32_t hi, int n) {
    x = mtvm_v_requantize_clamp(x, multiplier, left, neg, has_left, right, offset, lo, hi);
    if (n >= 4) mtvm_v_st_s8(out, x); else mtvm_v_st_s8_n(out, x, n);
}

#endif
