/* TFLite's quantized DIV, bit for bit as Reference/DivReference.cs (DivQuantization.Apply) computes it. */
#ifndef MTVM_DIV_H
#define MTVM_DIV_H
#include <stdint.h>
#include "mtvm_fixed_point.h"
#include "mtvm_softmax.h"

/* Redundant sign bits below the top bit (31 for 0). */
static inline int mtvm_clrsb32(int32_t x) {
    return mtvm_clz32(x < 0 ? ~(uint32_t)x : (uint32_t)x) - 1;
}

/* v1 / v2 * multiplier * 2^(shift - 31) for centred int8 operands, v2 != 0: the dividend normalised, times the
   divisor's fixed-point reciprocal, then scaled; shift <= 23 keeps the final right shift non-negative. */
static inline int32_t mtvm_div_scaled(int32_t v1, int32_t v2, int32_t multiplier, int shift) {
    int headroom_plus_one, headroom, exponent;
    int32_t reciprocal, quotient;
    if (v2 < 0) { v1 = -v1; v2 = -v2; }
    headroom_plus_one = mtvm_clz32((uint32_t)v2);
    reciprocal = mtvm_one_over_one_plus_x((int32_t)(((uint32_t)v2 << headroom_plus_one) - 0x80000000u));
    headroom = mtvm_clrsb32(v1);
    quotient = mtvm_srdhm((int32_t)((uint32_t)v1 << headroom), reciprocal);
    exponent = (31 - headroom_plus_one) + headroom - shift;
    if (exponent > 31) return 0;
    return mtvm_rdbpot(mtvm_srdhm(quotient, multiplier), exponent);
}

#endif
