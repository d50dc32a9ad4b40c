/* The Helium ADD/SUB kernel's steps: table gathers and the folded requantization, four int32 lanes at a time. */
#ifndef MTVM_MVE_ADD_H
#define MTVM_MVE_ADD_H
#include <stdint.h>
#include "mtvm_mve.h"

#ifdef MTVM_MVE
/* t1[a[i]] + t2[b[i]] for four lanes: widening byte loads, gathers of words at the bytes' offsets */
static inline mtvm_i32x4 mtvm_add_sum4(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b) {
    return vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vldrbq_u32(a)), vldrwq_gather_shifted_offset_s32(t2, vldrbq_u32(b)));
}
/* the same for the first n (1..3) lanes, the others zero */
static inline mtvm_i32x4 mtvm_add_sum4_n(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b, int n) {
    const mve_pred16_t p = vctp32q((uint32_t)n);
    return vaddq_s32(vldrwq_gather_shifted_offset_z_s32(t1, vldrbq_z_u32(a, p), p), vldrwq_gather_shifted_offset_z_s32(t2, vldrbq_z_u32(b, p), p));
}
/* clamp((k + SRDHM(s, m) - [s < 0]) >> e, lo, hi); VQRDMLASH is k + SRDHM(s, m), saturated (k is chosen so it never is) */
static inline mtvm_i32x4 mtvm_add_requantize4(mtvm_i32x4 s, mtvm_i32x4 m, int32_t k, int e, mtvm_i32x4 lo, mtvm_i32x4 hi) {
    mtvm_i32x4 v = vqrdmlashq_n_s32(s, m, k);
    if (e > 0) v = vshlq_r_s32(vaddq_s32(v, vshrq_n_s32(s, 31)), -e);
    return vminq_s32(vmaxq_s32(v, lo), hi);
}
#else
static inline mtvm_i32x4 mtvm_add_sum4_n(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b, int n) {
    mtvm_i32x4 r;
    int i;
    for (i = 0; i < 4; ++i) r.lane[i] = i < n ? (int32_t)((uint32_t)t1[a[i]] + (uint32_t)t2[b[i]]) : 0;
    return r;
}
static inline mtvm_i32x4 mtvm_add_sum4(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b) { return mtvm_add_sum4_n(t1, t2, a, b, 4); }
/* VQRDMLASH: saturate((2 s m + k 2^32 + 2^31) / 2^32), i.e. k + floor((s m + 2^30) / 2^31) saturated */
static inline int32_t mtvm_add_qrdmlash(int32_t s, int32_t m, int32_t k) {
    const int64_t v = (int64_t)k + (((int64_t)s * m + ((int64_t)1 << 30)) >> 31);
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}
static inline mtvm_i32x4 mtvm_add_requantize4(mtvm_i32x4 s, mtvm_i32x4 m, int32_t k, int e, mtvm_i32x4 lo, mtvm_i32x4 hi) {
    int i;
    for (i = 0; i < 4; ++i) {
        int32_t v = mtvm_add_qrdmlash(s.lane[i], m.lane[i], k);
        if (e > 0) v = (int32_t)((uint32_t)v + (uint32_t)(s.lane[i] >> 31)) >> e;
        v = v > lo.lane[i] ? v : lo.lane[i];
        s.lane[i] = v < hi.lane[i] ? v : hi.lane[i];
    }
    return s;
}
#endif

#endif
