/* Float functions without libm: exp, tanh, rounding half away from zero. */
#ifndef MTVM_FLOAT_MATH_H
#define MTVM_FLOAT_MATH_H
#include <stdint.h>

/* 2^e as a float for a normal exponent, -126 <= e <= 127. */
static inline float mtvm_pow2_f32(int32_t e) {
    union { uint32_t u; float f; } v;
    v.u = (uint32_t)(e + 127) << 23;
    return v.f;
}

/* exp(x) for float x without libm: x = k ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial of exp(r), then
   scaled by 2^k. Within a few ulp of the C library's expf, including its denormal results down to 2^-149 and
   +inf above the float range. Reference/FloatMath.cs mirrors it operation for operation: keep them equal. */
static inline float mtvm_exp_f32(float x) {
    float k, r, p;
    int32_t ki;
    if (x > 88.7228394f) return mtvm_pow2_f32(127) * 2.0f;
    if (x < -104.0f) return 0.0f;
    k = x * 1.44269504f;
    ki = (int32_t)(k < 0.0f ? k - 0.5f : k + 0.5f);
    k = (float)ki;
    r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
    p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * (0.00138888889f + r * 0.000198412698f))))));
    /* Outside the normal exponents the scaling is split in two, so that only the last product rounds. */
    if (ki > 127) return p * mtvm_pow2_f32(ki - 1) * 2.0f;
    if (ki < -126) return p * mtvm_pow2_f32(ki + 100) * mtvm_pow2_f32(-100);
    return p * mtvm_pow2_f32(ki);
}

/* tanh(x) = (1 - e^-2|x|) / (1 + e^-2|x|), sign restored; no libm. */
static inline float mtvm_tanh_f32(float x) {
    const float a = x < 0.0f ? -x : x;
    const float t = mtvm_exp_f32(-2.0f * a);
    const float r = (1.0f - t) / (1.0f + t);
    return x < 0.0f ? -r : r;
}

/* round(x) for |x| < 2^31 without libm: nearest integer, ties away from zero. */
static inline int32_t mtvm_round_half_away_f(float x) {
    const int32_t t = (int32_t)x;
    const float frac = x - (float)t;
    if (frac >= 0.5f) return t + 1;
    if (frac <= -0.5f) return t - 1;
    return t;
}

#endif
