/* The Helium pooling kernel's steps: int16 sums of 8 channels, int8 maxima of 16, predicated tails. */
#ifndef MTVM_MVE_POOL_H
#define MTVM_MVE_POOL_H
#include <stdint.h>
#include <string.h>
#include "mtvm_mve.h"
#include "mtvm_pool_mean.h"

#ifdef MTVM_MVE
static inline mtvm_i16x8 mtvm_pool_zero16(void) { return vdupq_n_s16(0); }
static inline mtvm_i8x16 mtvm_pool_min8(void) { return vdupq_n_s8(-128); }
/* sum + 8 (or the first n) bytes at p widened to int16 (VLDRB.S16, VADD.I16) */
static inline mtvm_i16x8 mtvm_pool_add16(mtvm_i16x8 sum, const int8_t* p, int n) {
    return n >= 8 ? vaddq_s16(sum, vldrbq_s16(p)) : vaddq_s16(sum, vldrbq_z_s16(p, vctp16q((uint32_t)n)));
}
/* lanewise max with 16 (or the first n) bytes at p */
static inline mtvm_i8x16 mtvm_pool_max8(mtvm_i8x16 m, const int8_t* p, int n) {
    return n >= 16 ? vmaxq_s8(m, vldrbq_s8(p)) : vmaxq_s8(m, vldrbq_z_s8(p, vctp8q((uint32_t)n)));
}
static inline void mtvm_pool_store8(int8_t* o, mtvm_i8x16 m, int32_t lo, int32_t hi, int n) {
    m = vminq_s8(vmaxq_s8(m, vdupq_n_s8((int8_t)lo)), vdupq_n_s8((int8_t)hi));
    if (n >= 16) vstrbq_s8(o, m); else vstrbq_p_s8(o, m, vctp8q((uint32_t)n));
}
static inline void mtvm_pool_mean8(int8_t* o, mtvm_i16x8 sum, int count, int32_t lo, int32_t hi, int n) {
    int16_t s[8];
    int i;
    vstrhq_s16(s, sum);
    for (i = 0; i < n && i < 8; ++i) o[i] = mtvm_pool_mean(s[i], count, lo, hi);
}
#else
static inline mtvm_i16x8 mtvm_pool_zero16(void) { mtvm_i16x8 r; memset(&r, 0, sizeof r); return r; }
static inline mtvm_i8x16 mtvm_pool_min8(void) { mtvm_i8x16 r; memset(&r, 0x80, sizeof r); return r; }
/* int16 lanes wrap as VADD.I16 does; the predicated-off lanes add zero */
static inline mtvm_i16x8 mtvm_pool_add16(mtvm_i16x8 sum, const int8_t* p, int n) {
    int i;
    for (i = 0; i < 8 && i < n; ++i) sum.lane[i] = (int16_t)(uint16_t)((uint32_t)(uint16_t)sum.lane[i] + (uint32_t)(int32_t)p[i]);
    return sum;
}
static inline mtvm_i8x16 mtvm_pool_max8(mtvm_i8x16 m, const int8_t* p, int n) {
    int i;
    for (i = 0; i < 16; ++i) { const int8_t v = i < n ? p[i] : 0; m.lane[i] = v > m.lane[i] ? v : m.lane[i]; }
    return m;
}
static inline void mtvm_pool_store8(int8_t* o, mtvm_i8x16 m, int32_t lo, int32_t hi, int n) {
    int i;
    for (i = 0; i < 16 && i < n; ++i) { int32_t v = m.lane[i] > lo ? m.lane[i] : lo; o[i] = (int8_t)(v < hi ? v : hi); }
}
static inline void mtvm_pool_mean8(int8_t* o, mtvm_i16x8 sum, int count, int32_t lo, int32_t hi, int n) {
    int i;
    for (i = 0; i < n && i < 8; ++i) o[i] = mtvm_pool_mean(sum.lane[i], count, lo, hi);
}
#endif

#endif
