/* TFLite's quantized softmax: exp of non-positive Q5.26 values, 1 / (1 + x), int8 rows, the int16 tables' read. */
#ifndef MTVM_SOFTMAX_H
#define MTVM_SOFTMAX_H
#include <stddef.h>
#include <stdint.h>
#include "mtvm_fixed_point.h"

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31. */
static inline int32_t mtvm_exp_neg_quarter(int32_t a) {
    const int32_t constant_term = 1895147668;   /* exp(-1/8) */
    const int32_t one_third = 715827883;
    const int32_t x = a + (1 << 28);             /* a + 1/8 */
    const int32_t x2 = mtvm_srdhm(x, x);
    const int32_t x3 = mtvm_srdhm(x2, x);
    const int32_t x4 = mtvm_srdhm(x2, x2);
    const int32_t x4_over_4 = mtvm_rdbpot(x4, 2);
    const int32_t poly = mtvm_rdbpot(mtvm_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return constant_term + mtvm_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 given with 5 integer bits (Q5.26); result in Q0.31. */
static inline int32_t mtvm_exp_on_negative_values(int32_t a) {
    const int32_t one_quarter = (int32_t)1 << 24;
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = mtvm_exp_neg_quarter(mtvm_sat_shift_left(a_mod_quarter_minus_one_quarter, 5));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    if (remainder & ((int32_t)1 << 24)) result = mtvm_srdhm(result, 1672461947); /* exp(-1/4) */
    if (remainder & ((int32_t)1 << 25)) result = mtvm_srdhm(result, 1302514674); /* exp(-1/2) */
    if (remainder & ((int32_t)1 << 26)) result = mtvm_srdhm(result, 790015084);  /* exp(-1) */
    if (remainder & ((int32_t)1 << 27)) result = mtvm_srdhm(result, 290630308);  /* exp(-2) */
    if (remainder & ((int32_t)1 << 28)) result = mtvm_srdhm(result, 39332535);   /* exp(-4) */
    if (remainder & ((int32_t)1 << 29)) result = mtvm_srdhm(result, 720401);     /* exp(-8) */
    if (remainder & ((int32_t)1 << 30)) result = mtvm_srdhm(result, 242);        /* exp(-16) */
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1), x and the result in Q0.31 (Newton-Raphson, three steps). */
static inline int32_t mtvm_one_over_one_plus_x(int32_t a) {
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t constant_48_over_17 = 1515870810;    /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    int32_t x = constant_48_over_17 + mtvm_srdhm(half_denominator, constant_neg_32_over_17);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mtvm_srdhm(half_denominator, x);
        const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        x = x + mtvm_sat_shift_left(mtvm_srdhm(x, one_minus), 2);
    }
    return mtvm_sat_shift_left(x, 1);
}

/* TFLite's quantized softmax over one row of int8 values: out8 (int8, zero point -128) or, when out8 is NULL,
   out16 (int16, zero point -32768); out_bits is 8 or 16, [out_min, out_max] the output type's range. */
static inline void mtvm_softmax_row(const int8_t* input, int depth, int32_t beta_multiplier, int beta_left_shift,
                                    int32_t diff_min, int out_bits, int32_t out_min, int32_t out_max,
                                    int8_t* out8, int16_t* out16) {
    int32_t max_in_row = -128;
    int32_t sum_of_exps = 0; /* Q12.19 */
    int c;
    for (c = 0; c < depth; ++c) if (input[c] > max_in_row) max_in_row = input[c];
    for (c = 0; c < depth; ++c) {
        const int32_t diff = (int32_t)input[c] - max_in_row;
        if (diff >= diff_min) {
            const int32_t scaled_diff = mtvm_mbqm_gt_one(diff, beta_multiplier, beta_left_shift);
            sum_of_exps += mtvm_rdbpot(mtvm_exp_on_negative_values(scaled_diff), 12);
        }
    }
    {
        const int headroom_plus_one = mtvm_clz32((uint32_t)sum_of_exps);
        const int num_bits_over_unit = 12 - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = mtvm_one_over_one_plus_x(shifted_sum_minus_one);
        for (c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)input[c] - max_in_row;
            int32_t out = out_min;
            if (diff >= diff_min) {
                const int32_t scaled_diff = mtvm_mbqm_gt_one(diff, beta_multiplier, beta_left_shift);
                const int32_t exp_in_0 = mtvm_exp_on_negative_values(scaled_diff);
                out = mtvm_rdbpot(mtvm_srdhm(shifted_scale, exp_in_0), num_bits_over_unit + 31 - out_bits) + out_min;
                if (out < out_min) out = out_min;
                if (out > out_max) out = out_max;
            }
            if (out8 != NULL) out8[c] = (int8_t)out; else out16[c] = (int16_t)out;
        }
    }
}

/* int8 in, int8 out (zero point -128). */
static inline void mtvm_softmax_int8_row(const int8_t* input, int8_t* output, int depth,
                                         int32_t beta_multiplier, int beta_left_shift, int32_t diff_min) {
    mtvm_softmax_row(input, depth, beta_multiplier, beta_left_shift, diff_min, 8, -128, 127, output, NULL);
}

/* int8 in, int16 out (zero point -32768). */
static inline void mtvm_softmax_int8_int16_row(const int8_t* input, int16_t* output, int depth,
                                               int32_t beta_multiplier, int beta_left_shift, int32_t diff_min) {
    mtvm_softmax_row(input, depth, beta_multiplier, beta_left_shift, diff_min, 16, -32768, 32767, NULL, output);
}

/* TFLite's int16 interpolation table read: 512 segments of 128 input steps, linear, rounded to nearest. */
static inline int32_t mtvm_lut16(int32_t value, const int16_t* table) {
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7F;
    const int32_t slope = (int16_t)(table[index + 1] - table[index]);
    return (int16_t)(table[index] + ((slope * offset + 64) >> 7));
}

#endif
