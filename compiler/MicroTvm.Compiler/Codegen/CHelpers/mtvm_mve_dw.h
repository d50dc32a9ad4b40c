/* The Helium depthwise kernel with output pixels in the lanes (HeliumPlaneDepthwiseKernel): one input channel at a
   time is gathered into a plane padded with the input zero point (mtvm_dw_gather8: 8 bytes a stride apart, VLDRB.U16
   gather and a contiguous VSTRB.16; _n: a predicated last step); four consecutive output pixels of one
   channel then take each tap with one VMLA.S32 by the tap's weight in a core register (mtvm_dw_mla) from one widening
   load (mtvm_dw_ld4; mtvm_dw_ldg gathers 4 pixels across the plane's columns), and are requantized with the channel's multiplier and shifts as scalars
   (mtvm_dw_requantize) and scattered to their NHWC places (mtvm_dw_store, _n: the first n lanes).
   The window kernel (HeliumWindowDepthwiseKernel) copies a channel into a plane of rows one zero-point gap apart
   (mtvm_dw_gather_scatter8: 8 pixels by one gather and one scatter), takes each output as one VMLADAV.S8 of 16 plane
   bytes (mtvm_dw_ld16) against a weight vector (mtvm_dw_dot16; mtvm_dw_next_window: the neighbouring output's), puts 4
   sums into a vector (mtvm_dw_lanes4) and requantizes two vectors with mtvm_dw_requantize_pair. */
#ifndef MTVM_MVE_DW_H
#define MTVM_MVE_DW_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifdef MTVM_MVE
typedef uint32x4_t mtvm_dw_offsets;
/* lane i at i * stride bytes */
static inline mtvm_dw_offsets mtvm_dw_offsets_of(uint32_t stride) { return vmulq_n_u32(vidupq_n_u32(0u, 1), stride); }
/* every lane plus delta */
static inline mtvm_dw_offsets mtvm_dw_offsets_add(mtvm_dw_offsets offsets, uint32_t delta) { return vaddq_n_u32(offsets, delta); }
typedef uint16x8_t mtvm_dw_offsets16;
/* lanes 2i at i * stride, lanes 2i + 1 at i * stride + second (for mtvm_dw_requantize_pair; 3 * stride + second below 65536) */
static inline mtvm_dw_offsets16 mtvm_dw_offsets_pair(uint32_t stride, uint32_t second) {
    const uint16x8_t lane = vidupq_n_u16(0u, 1);
    return vaddq_u16(vmulq_n_u16(vshrq_n_u16(lane, 1), (uint16_t)stride), vmulq_n_u16(vandq_u16(lane, vdupq_n_u16(1)), (uint16_t)second));
}
/* lane i at i * stride bytes, for the gathers (7 * stride below 65536) */
static inline mtvm_dw_offsets16 mtvm_dw_offsets16_of(uint32_t stride) { return vmulq_n_u16(vidupq_n_u16(0u, 1), (uint16_t)stride); }
/* lane i at first + i * stride bytes (first + 7 * stride below 65536) */
static inline mtvm_dw_offsets16 mtvm_dw_offsets16_from(uint32_t first, uint32_t stride) {
    return vaddq_n_u16(mtvm_dw_offsets16_of(stride), (uint16_t)first);
}
/* dst[i] = src[offsets[i]] for i < 8 (_n: i < n) */
static inline void mtvm_dw_gather8(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets) {
    vstrbq_u16((uint8_t*)dst, vldrbq_gather_offset_u16((const uint8_t*)src, offsets));
}
static inline void mtvm_dw_gather8_n(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets, int n) {
    const mve_pred16_t p = vctp16q((uint32_t)n);
    vstrbq_p_u16((uint8_t*)dst, vldrbq_gather_offset_z_u16((const uint8_t*)src, offsets, p), p);
}
static inline mtvm_i32x4 mtvm_dw_ld4(const int8_t* p) { return vldrbq_s32(p); }
/* p[offsets[i]] sign-extended (a VLDRB.S32 gather); _n: lanes i < n only, the others zero */
static inline mtvm_i32x4 mtvm_dw_ldg(const int8_t* p, mtvm_dw_offsets offsets) { return vldrbq_gather_offset_s32(p, offsets); }
static inline mtvm_i32x4 mtvm_dw_ldg_n(const int8_t* p, mtvm_dw_offsets offsets, int n) {
    return vldrbq_gather_offset_z_s32(p, offsets, vctp32q((uint32_t)n));
}
static inline mtvm_i32x4 mtvm_dw_mla(mtvm_i32x4 acc, mtvm_i32x4 x, int32_t w) { return vmlaq_n_s32(acc, x, w); }
/* VQRDMULH by the multiplier, then TFLite's rounding right shift by -neg >= 1 (ties away from zero: minus 1 for a
   negative product before VRSHL's round-half-up). The minus 1 comes from x's sign (VSHR #31) as VQRDMLAH's
   accumulator, one instruction fewer than from the product's: the multiplier is positive, so the product is negative
   only where x is, and where x < 0 but the product rounds to 0 the -1 shifts back to 0. */
static inline mtvm_i32x4 mtvm_dw_scale_right(mtvm_i32x4 x, int32_t multiplier, int32_t neg) {
    return vrshlq_n_s32(vqrdmlahq_n_s32(vshrq_n_s32(x, 31), x, multiplier), neg);
}
/* TFLite's MultiplyByQuantizedMultiplier with scalar operands (left = max(shift, 0), neg = min(shift, 0)), the output
   zero point and the clamp; has_left, right (0: no channel shifts right, 1: all, 2: some) as in mtvm_v_requantize_clamp.
   A clamp to the whole int8 range is a saturating shift left by 24 and back. */
static inline mtvm_i32x4 mtvm_dw_requantize(mtvm_i32x4 x, int32_t multiplier, int32_t left, int32_t neg, int has_left, int right,
                                            int32_t offset, int32_t lo, int32_t hi) {
    if (has_left) x = vshlq_r_s32(x, left);
    if (right == 1) x = mtvm_dw_scale_right(x, multiplier, neg);
    else x = vqrdmulhq_n_s32(x, multiplier);
    if (right == 2) x = mtvm_v_rdbpot(x, vdupq_n_s32(neg));
    x = vaddq_n_s32(x, offset);
    if (lo == -128 && hi == 127) return vshrq_n_s32(vqshlq_n_s32(x, 24), 24);
    return mtvm_v_clamp(x, lo, hi);
}
/* Two accumulators a and b requantized together: scaled as mtvm_dw_requantize in 32 bits, then narrowed with saturation
   into one vector of 8 int16 lanes (a's in the even lanes, b's in the odd ones: VQMOVNB/VQMOVNT), where the output
   zero point (saturating) and the clamp take one instruction each for 8 outputs, and scattered as bytes (VSTRB.16)
   to offsets (lane 2i: a's lane i, lane 2i + 1: b's); n < 4: lanes i < n only. Saturating to int16 first keeps every
   value out of [lo, hi] on its side, so the result equals mtvm_dw_requantize's. */
static inline void mtvm_dw_requantize_pair(int8_t* p, mtvm_dw_offsets16 offsets, mtvm_i32x4 a, mtvm_i32x4 b, int32_t multiplier,
                                           int32_t left, int32_t neg, int has_left, int right, int32_t offset, int32_t lo, int32_t hi, int n) {
    if (!has_left && right == 1 && lo == -128 && hi == 127 && n >= 4) {
        /* the common case in assembly: gcc copies a vector before each instruction that writes over its input */
        int32x4_t t;
        __asm__ volatile("vshr.s32 %q[t], %q[a], #31\n\t"
                         "vqrdmlah.s32 %q[t], %q[a], %[m]\n\t"
                         "vshr.s32 %q[a], %q[b], #31\n\t"
                         "vqrdmlah.s32 %q[a], %q[b], %[m]\n\t"
                         "vrshl.s32 %q[t], %[n]\n\t"
                         "vrshl.s32 %q[a], %[n]\n\t"
                         "vqmovnb.s32 %q[t], %q[t]\n\t"
                         "vqmovnt.s32 %q[t], %q[a]\n\t"
                         "vqadd.s16 %q[t], %q[t], %[o]\n\t"
                         "vqmovnb.s16 %q[t], %q[t]\n\t"
                         "vstrb.16 %q[t], [%[p], %q[g]]"
                         : [t] "=&w"(t), [a] "+&w"(a)
                         : [b] "w"(b), [m] "r"(multiplier), [n] "r"(neg), [o] "r"(offset), [p] "r"(p), [g] "w"(offsets)
                         : "memory");
        return;
    }
    if (has_left) { a = vshlq_r_s32(a, left); b = vshlq_r_s32(b, left); }
    if (right == 1) {
        a = mtvm_dw_scale_right(a, multiplier, neg);
        b = mtvm_dw_scale_right(b, multiplier, neg);
    } else {
        a = vqrdmulhq_n_s32(a, multiplier);
        b = vqrdmulhq_n_s32(b, multiplier);
    }
    if (right == 2) {
        a = mtvm_v_rdbpot(a, vdupq_n_s32(neg));
        b = mtvm_v_rdbpot(b, vdupq_n_s32(neg));
    }
    int16x8_t v = vqmovntq_s32(vqmovnbq_s32(vreinterpretq_s16_s32(a), a), b);
    v = vqaddq_n_s16(v, (int16_t)offset);
    /* the whole int8 range: VQMOVNB.S16 saturates each lane into its low byte, which the scatter stores */
    if (lo == -128 && hi == 127) v = vreinterpretq_s16_s8(vqmovnbq_s16(vreinterpretq_s8_s16(v), v));
    else v = vminq_s16(vmaxq_s16(v, vdupq_n_s16((int16_t)lo)), vdupq_n_s16((int16_t)hi));
    if (n >= 4) vstrbq_scatter_offset_s16(p, offsets, v);
    else vstrbq_scatter_offset_p_s16(p, offsets, v, vctp16q((uint32_t)(2 * n)));
}
static inline void mtvm_dw_store(int8_t* p, mtvm_dw_offsets offsets, mtvm_i32x4 v) { vstrbq_scatter_offset_s32(p, offsets, v); }
static inline void mtvm_dw_store_n(int8_t* p, mtvm_dw_offsets offsets, mtvm_i32x4 v, int n) {
    vstrbq_scatter_offset_p_s32(p, offsets, v, vctp32q((uint32_t)n));
}
/* The window kernel (HeliumWindowDepthwiseKernel): 16 plane bytes from p (VLDRB.8, any alignment) */
static inline mtvm_i8x16 mtvm_dw_ld16(const int8_t* p) { return vldrbq_s8(p); }
/* the weight vector w moved up one lane (lane 0 zero): the weights of the next output's window in the same load
   (VSHLC of the whole vector by 8 bits) */
static inline mtvm_i8x16 mtvm_dw_next_window(mtvm_i8x16 w) { uint32_t zero = 0; return vshlcq_s8(w, &zero, 8); }
/* one output: the sum of the 16 lanes' products (VMLADAV.S8; the weight vector is zero outside the window) */
static inline int32_t mtvm_dw_dot16(mtvm_i8x16 x, mtvm_i8x16 w) { return vmladavq_s8(x, w); }
/* four outputs into lanes 0..3 plus the bias: two VMOVs of core register pairs into the vector's doubleword halves
   (VMOV Dm, Rt, Rt2 puts Rt in the low word: no doubt about the lane order, unlike MVE's two-lane VMOV; gcc's
   vsetq_lane takes four single-lane moves) */
static inline mtvm_i32x4 mtvm_dw_lanes4(int32_t s0, int32_t s1, int32_t s2, int32_t s3, int32_t bias) {
    int32x4_t v;
    __asm__("vmov %e[v], %[s0], %[s1]\n\t"
            "vmov %f[v], %[s2], %[s3]"
            : [v] "=w"(v) : [s0] "r"(s0), [s1] "r"(s1), [s2] "r"(s2), [s3] "r"(s3));
    return vaddq_n_s32(v, bias);
}
/* 8 bytes a stride apart (gather offsets) to dst + scatter[i] (VSTRB.16 scatter): 8 consecutive pixels of a channel
   into plane rows that a padding gap separates */
static inline void mtvm_dw_gather_scatter8(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets, const uint16_t* scatter) {
    vstrbq_scatter_offset_u16((uint8_t*)dst, vldrhq_u16(scatter), vldrbq_gather_offset_u16((const uint8_t*)src, offsets));
}
/* One plane load at p + off (off a literal in -127..127; widening loads take a low register) feeding 1 to 5 accumulators,
   each with its weight: assembly, because gcc 12 hoists every load of an unrolled block to the top and spills. */
/* p's value hidden from the optimizer (the weights read through it stay inside the loop instead of spilling) */
#define MTVM_DW_OPAQUE(p) __asm__("" : "+r"(p))
#define MTVM_DW_LD(off) "vldrb.s32 %q[v], [%[pp], #" #off "]\n\t"
#define MTVM_DW_M(i) "vmla.s32 %q[x" #i "], %q[v], %[r" #i "]\n\t"
#define MTVM_DW_LM1(p, off, a0, w0) do { int32x4_t v_; \
    __asm__(MTVM_DW_LD(off) MTVM_DW_M(0) \
            : [v] "=&w"(v_), [x0] "+w"(a0) : [pp] "l"(p), [r0] "r"(w0) : "memory"); } while (0)
#define MTVM_DW_LM2(p, off, a0, w0, a1, w1) do { int32x4_t v_; \
    __asm__(MTVM_DW_LD(off) MTVM_DW_M(0) MTVM_DW_M(1) \
            : [v] "=&w"(v_), [x0] "+w"(a0), [x1] "+w"(a1) : [pp] "l"(p), [r0] "r"(w0), [r1] "r"(w1) : "memory"); } while (0)
#define MTVM_DW_LM3(p, off, a0, w0, a1, w1, a2, w2) do { int32x4_t v_; \
    __asm__(MTVM_DW_LD(off) MTVM_DW_M(0) MTVM_DW_M(1) MTVM_DW_M(2) \
            : [v] "=&w"(v_), [x0] "+w"(a0), [x1] "+w"(a1), [x2] "+w"(a2) : [pp] "l"(p), [r0] "r"(w0), [r1] "r"(w1), [r2] "r"(w2) : "memory"); } while (0)
#define MTVM_DW_LM4(p, off, a0, w0, a1, w1, a2, w2, a3, w3) do { int32x4_t v_; \
    __asm__(MTVM_DW_LD(off) MTVM_DW_M(0) MTVM_DW_M(1) MTVM_DW_M(2) MTVM_DW_M(3) \
            : [v] "=&w"(v_), [x0] "+w"(a0), [x1] "+w"(a1), [x2] "+w"(a2), [x3] "+w"(a3) : [pp] "l"(p), [r0] "r"(w0), [r1] "r"(w1), [r2] "r"(w2), [r3] "r"(w3) : "memory"); } while (0)
#define MTVM_DW_LM5(p, off, a0, w0, a1, w1, a2, w2, a3, w3, a4, w4) do { int32x4_t v_; \
    __asm__(MTVM_DW_LD(off) MTVM_DW_M(0) MTVM_DW_M(1) MTVM_DW_M(2) MTVM_DW_M(3) MTVM_DW_M(4) \
            : [v] "=&w"(v_), [x0] "+w"(a0), [x1] "+w"(a1), [x2] "+w"(a2), [x3] "+w"(a3), [x4] "+w"(a4) : [pp] "l"(p), [r0] "r"(w0), [r1] "r"(w1), [r2] "r"(w2), [r3] "r"(w3), [r4] "r"(w4) : "memory"); } while (0)
#else
typedef struct { uint32_t lane[4]; } mtvm_dw_offsets;
MTVM_VFN mtvm_dw_offsets mtvm_dw_offsets_of(uint32_t stride) { mtvm_dw_offsets r; uint32_t i; for (i = 0; i < 4; ++i) r.lane[i] = i * stride; return r; }
MTVM_VFN mtvm_dw_offsets mtvm_dw_offsets_add(mtvm_dw_offsets offsets, uint32_t delta) {
    uint32_t i; for (i = 0; i < 4; ++i) offsets.lane[i] += delta; return offsets;
}
typedef struct { uint16_t lane[8]; } mtvm_dw_offsets16;
MTVM_VFN mtvm_dw_offsets16 mtvm_dw_offsets16_of(uint32_t stride) {
    mtvm_dw_offsets16 r; uint32_t i; for (i = 0; i < 8; ++i) r.lane[i] = (uint16_t)(i * stride); return r;
}
MTVM_VFN mtvm_dw_offsets16 mtvm_dw_offsets_pair(uint32_t stride, uint32_t second) {
    mtvm_dw_offsets16 r; uint32_t i; for (i = 0; i < 8; ++i) r.lane[i] = (uint16_t)(i / 2 * stride + i % 2 * second); return r;
}
MTVM_VFN mtvm_dw_offsets16 mtvm_dw_offsets16_from(uint32_t first, uint32_t stride) {
    mtvm_dw_offsets16 r; uint32_t i; for (i = 0; i < 8; ++i) r.lane[i] = (uint16_t)(first + i * stride); return r;
}
MTVM_VFN void mtvm_dw_gather8_n(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets, int n) {
    int i;
    for (i = 0; i < n && i < 8; ++i) dst[i] = src[offsets.lane[i]];
}
MTVM_VFN void mtvm_dw_gather8(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets) { mtvm_dw_gather8_n(dst, src, offsets, 8); }
MTVM_VFN mtvm_i32x4 mtvm_dw_ld4(const int8_t* p) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
MTVM_VFN mtvm_i32x4 mtvm_dw_ldg_n(const int8_t* p, mtvm_dw_offsets offsets, int n) {
    mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = i < n ? p[offsets.lane[i]] : 0; return r;
}
MTVM_VFN mtvm_i32x4 mtvm_dw_ldg(const int8_t* p, mtvm_dw_offsets offsets) { return mtvm_dw_ldg_n(p, offsets, 4); }
MTVM_VFN mtvm_i32x4 mtvm_dw_mla(mtvm_i32x4 acc, mtvm_i32x4 x, int32_t w) {
    int i;
    for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)x.lane[i] * (uint32_t)w);
    return acc;
}
MTVM_VFN mtvm_i32x4 mtvm_dw_requantize(mtvm_i32x4 x, int32_t multiplier, int32_t left, int32_t neg, int has_left, int right,
                                       int32_t offset, int32_t lo, int32_t hi) {
    int i;
    for (i = 0; i < 4; ++i) {
        int32_t v = x.lane[i];
        if (has_left) v = mtvm_e_shl(v, left);
        v = mtvm_e_qrdmulh(v, multiplier);
        if (right == 1 || (right == 2 && neg != 0)) v = mtvm_e_rshl(mtvm_e_qadd(v, v >> 31), neg);
        v = (int32_t)((uint32_t)v + (uint32_t)offset);
        x.lane[i] = v < lo ? lo : v > hi ? hi : v;
    }
    return x;
}
MTVM_VFN void mtvm_dw_store_n(int8_t* p, mtvm_dw_offsets offsets, mtvm_i32x4 v, int n) {
    int i;
    for (i = 0; i < 4 && i < n; ++i) p[offsets.lane[i]] = (int8_t)(uint8_t)((uint32_t)v.lane[i] & 0xFFu);
}
MTVM_VFN void mtvm_dw_store(int8_t* p, mtvm_dw_offsets offsets, mtvm_i32x4 v) { mtvm_dw_store_n(p, offsets, v, 4); }
MTVM_VFN int32_t mtvm_e_sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
MTVM_VFN void mtvm_dw_requantize_pair(int8_t* p, mtvm_dw_offsets16 offsets, mtvm_i32x4 a, mtvm_i32x4 b, int32_t multiplier,
                                      int32_t left, int32_t neg, int has_left, int right, int32_t offset, int32_t lo, int32_t hi, int n) {
    int i, j;
    for (i = 0; i < 4 && i < n; ++i)
        for (j = 0; j < 2; ++j) {
            int32_t v = j == 0 ? a.lane[i] : b.lane[i];
            if (has_left) v = mtvm_e_shl(v, left);
            v = mtvm_e_qrdmulh(v, multiplier);
            if (right == 1 || (right == 2 && neg != 0)) v = mtvm_e_rshl(mtvm_e_qadd(v, v >> 31), neg);
            v = mtvm_e_sat16(mtvm_e_sat16(v) + offset);
            v = v < lo ? lo : v > hi ? hi : v;
            p[offsets.lane[2 * i + j]] = (int8_t)(uint8_t)((uint32_t)v & 0xFFu);
        }
}
MTVM_VFN mtvm_i8x16 mtvm_dw_ld16(const int8_t* p) { mtvm_i8x16 r; int i; for (i = 0; i < 16; ++i) r.lane[i] = p[i]; return r; }
MTVM_VFN mtvm_i8x16 mtvm_dw_next_window(mtvm_i8x16 w) {
    mtvm_i8x16 r; int i; r.lane[0] = 0; for (i = 1; i < 16; ++i) r.lane[i] = w.lane[i - 1]; return r;
}
MTVM_VFN int32_t mtvm_dw_dot16(mtvm_i8x16 x, mtvm_i8x16 w) {
    int32_t s = 0; int i; for (i = 0; i < 16; ++i) s += (int32_t)x.lane[i] * w.lane[i]; return s;
}
MTVM_VFN mtvm_i32x4 mtvm_dw_lanes4(int32_t s0, int32_t s1, int32_t s2, int32_t s3, int32_t bias) {
    mtvm_i32x4 r;
    r.lane[0] = (int32_t)((uint32_t)s0 + (uint32_t)bias); r.lane[1] = (int32_t)((uint32_t)s1 + (uint32_t)bias);
    r.lane[2] = (int32_t)((uint32_t)s2 + (uint32_t)bias); r.lane[3] = (int32_t)((uint32_t)s3 + (uint32_t)bias);
    return r;
}
MTVM_VFN void mtvm_dw_gather_scatter8(int8_t* dst, const int8_t* src, mtvm_dw_offsets16 offsets, const uint16_t* scatter) {
    int i; for (i = 0; i < 8; ++i) dst[scatter[i]] = src[offsets.lane[i]];
}
#define MTVM_DW_OPAQUE(p) ((void)0)
#define MTVM_DW_LM1(p, off, a0, w0) do { const mtvm_i32x4 v_ = mtvm_dw_ld4((p) + (off)); (a0) = mtvm_dw_mla((a0), v_, (w0)); } while (0)
#define MTVM_DW_LM2(p, off, a0, w0, a1, w1) do { const mtvm_i32x4 v_ = mtvm_dw_ld4((p) + (off)); (a0) = mtvm_dw_mla((a0), v_, (w0)); \
    (a1) = mtvm_dw_mla((a1), v_, (w1)); } while (0)
#define MTVM_DW_LM3(p, off, a0, w0, a1, w1, a2, w2) do { MTVM_DW_LM2(p, off, a0, w0, a1, w1); MTVM_DW_LM1(p, off, a2, w2); } while (0)
#define MTVM_DW_LM4(p, off, a0, w0, a1, w1, a2, w2, a3, w3) do { MTVM_DW_LM2(p, off, a0, w0, a1, w1); MTVM_DW_LM2(p, off, a2, w2, a3, w3); } while (0)
#define MTVM_DW_LM5(p, off, a0, w0, a1, w1, a2, w2, a3, w3, a4, w4) do { MTVM_DW_LM4(p, off, a0, w0, a1, w1, a2, w2, a3, w3); \
    MTVM_DW_LM1(p, off, a4, w4); } while (0)
#endif

#endif
