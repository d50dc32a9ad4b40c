/* TFLite's fixed-point arithmetic (gemmlowp's), bit for bit as Quantization/FixedPoint.cs computes it. */
#ifndef MTVM_FIXED_POINT_H
#define MTVM_FIXED_POINT_H
#include <stdint.h>

/* (a * b * 2) / 2^32, rounded to nearest; saturates the single overflow case. */
static inline int32_t mtvm_srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
static inline int32_t mtvm_rdbpot(int32_t x, int exponent) {
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), TFLite's requantization (MultiplyByQuantizedMultiplier). */
static inline int32_t mtvm_mbqm(int32_t x, int32_t multiplier, int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    return mtvm_rdbpot(mtvm_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

/* The 64-bit accumulator variant (16x8 layers): the multiplier reduced to 16 bits, one rounding shift. */
static inline int32_t mtvm_mbqm64(int64_t x, int32_t multiplier, int shift) {
    const int64_t reduced = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)((x * reduced + round) >> total_shift);
}

/* x * 2^left_shift * multiplier / 2^31 for a multiplier above one (no right shift). */
static inline int32_t mtvm_mbqm_gt_one(int32_t x, int32_t multiplier, int left_shift) {
    return mtvm_srdhm((int32_t)((uint32_t)x << left_shift), multiplier);
}

/* x * 2^exponent saturated to int32 (exponent in 1..30). */
static inline int32_t mtvm_sat_shift_left(int32_t x, int exponent) {
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* Number of leading zero bits (32 for 0); portable, no compiler builtin. */
static inline int mtvm_clz32(uint32_t x) {
    int n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
}

#endif
