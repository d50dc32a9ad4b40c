/* TFLite's GetInvSqrtQuantizedMultiplierExp: 1/sqrt(x) of an integer as a Q31 multiplier and a (reversed) shift, by
   five Newton-Raphson steps in Q3. Quantization/InverseSqrt.cs is the same arithmetic. */
#ifndef MTVM_INV_SQRT_H
#define MTVM_INV_SQRT_H
#include <stdint.h>
#include "mtvm_fixed_point.h"

static inline void mtvm_inv_sqrt(int32_t input, int32_t *multiplier, int *shift) {
    int32_t half_input, x, cube, q6;
    int pairs, i, s = 11;
    if (input <= 1) { *multiplier = INT32_MAX; *shift = 0; return; }
    while (input >= ((int32_t)1 << 29)) { input /= 4; s++; }
    pairs = (mtvm_clz32((uint32_t)input) - 1) / 2 - 1;
    s -= pairs;
    input = (int32_t)((uint32_t)input << (2 * pairs));
    half_input = mtvm_rdbpot(input >> 1, 1);
    x = (int32_t)1 << 28;
    for (i = 0; i < 5; i++) {
        cube = mtvm_sat_shift_left(mtvm_srdhm(mtvm_srdhm(x, x), x), 6);
        q6 = (int32_t)((uint32_t)mtvm_srdhm((1 << 28) + (1 << 27), x) - (uint32_t)mtvm_srdhm(half_input, cube));
        x = mtvm_sat_shift_left(q6, 3);
    }
    x = mtvm_srdhm(x, 1518500250);
    if (s < 0) { x = (int32_t)((uint32_t)x << -s); s = 0; }
    *multiplier = x;
    *shift = -s;
}

#endif
