/* TFLite's MultiplyByQuantizedMultiplier in fewer instructions, bit for bit the same for every multiplier other than
   INT32_MIN (which QuantizeMultiplier never produces; the kernels check): SaturatingRoundingDoublingHighMul's
   nudge-and-truncate equals adding 2^30 and shifting arithmetically by 31 for either sign (one SMLAL), and
   RoundingDivideByPOT stays in 32 bits with no branch (a zero mask for a zero exponent leaves x as it is). */
#ifndef MTVM_DSP_REQUANTIZE_H
#define MTVM_DSP_REQUANTIZE_H
#include <stdint.h>
#include "mtvm_dsp.h"

static inline int32_t mtvm_requantize(int32_t x, int32_t multiplier, int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int64_t product = (int64_t)(int32_t)((uint32_t)x << left) * multiplier + ((int64_t)1 << 30);
    const int32_t r = (int32_t)(((uint32_t)product >> 31) | ((uint32_t)(product >> 32) << 1));
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t remainder = r & mask;
    const int32_t threshold = (mask >> 1) + (r < 0 ? 1 : 0);
    return (r >> right) + (remainder > threshold ? 1 : 0);
}
/* The same as mtvm_requantize when |x * 2^shift| < 2^30 (the code generator proves that bound from the weights,
   bias and input range before it uses this): the doubling high multiply is one SMMULR of 2x, and the rounding
   shift cannot overflow, so it is an add of half minus the sign bit. */
static inline int32_t mtvm_requantize_small(int32_t x, int32_t multiplier, int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t r = mtvm_smmulr((int32_t)((uint32_t)x << (left + 1)), multiplier);
    const int32_t half = (int32_t)((1u << right) >> 1);
    return (r + half + (r < 0 ? -(right > 0) : 0)) >> right;
}
static inline int8_t mtvm_requantize_small_int8(int32_t acc, int32_t multiplier, int shift, int32_t offset, int32_t lo, int32_t hi) {
    int32_t v = mtvm_requantize_small(acc, multiplier, shift) + offset;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)v;
}
/* Requantized accumulator plus the output zero point, clamped to the activation range. */
static inline int8_t mtvm_requantize_int8(int32_t acc, int32_t multiplier, int shift, int32_t offset, int32_t lo, int32_t hi) {
    int32_t v = mtvm_requantize(acc, multiplier, shift) + offset;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)v;
}

#endif
