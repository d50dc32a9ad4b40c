/* Float functions without libm: exp, tanh, expm1, log, sin, cos, sqrt, floor, ceil, rounding. The transcendental ones
   work in double and round once to float (within 1 ulp of glibc); sqrt, floor and ceil are exact, as IEEE's.
   Reference/FloatMath.cs mirrors every function operation for operation: keep them equal (FloatMathTests). */
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
    if (x != x) return x;
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

static inline uint32_t mtvm_f32_bits(float x) {
    union { float f; uint32_t u; } v;
    v.f = x;
    return v.u;
}

static inline float mtvm_f32_from_bits(uint32_t u) {
    union { uint32_t u; float f; } v;
    v.u = u;
    return v.f;
}

/* 2^e as a double, -1022 <= e <= 1023. */
static inline double mtvm_pow2_f64(int32_t e) {
    union { uint64_t u; double d; } v;
    v.u = (uint64_t)(e + 1023) << 52;
    return v.d;
}

/* The quiet NaN of invalid operations, the same bits on every target (hardware defaults differ in sign). */
#define MTVM_NAN_BITS 0x7FC00000u

/* floor(x) as IEEE's floorf: exact, -0 stays -0; |x| >= 2^23, infinities and NaN are their own floor. */
static inline float mtvm_floor_f32(float x) {
    float t;
    if (!(x > -8388608.0f && x < 8388608.0f) || x == 0.0f) return x;
    t = (float)(int32_t)x;
    return t > x ? t - 1.0f : t;
}

/* ceil(x) as IEEE's ceilf (ceil(-0.5) is -0). */
static inline float mtvm_ceil_f32(float x) { return -mtvm_floor_f32(-x); }

/* TFLite's ROUND: the nearest integer, ties to even, computed from floor as TFLite does (so round(-0.3) is +0). */
static inline float mtvm_round_half_even_f32(float x) {
    const float f = mtvm_floor_f32(x);
    const float d = x - f;
    if (d < 0.5f || (d == 0.5f && ((int32_t)f & 1) == 0)) return f;
    return f + 1.0f;
}

/* sqrt(x) correctly rounded, as IEEE's sqrtf, without libm: the integer square root of the significand. */
static inline float mtvm_sqrt_f32(float x) {
    const uint32_t bits = mtvm_f32_bits(x);
    int32_t e = (int32_t)(bits >> 23);
    uint64_t n, root = 0, rest, bit = (uint64_t)1 << 50;
    uint32_t q, low, half;
    int32_t shift;
    if (!(x > 0.0f) || x > 3.40282347e38f) return x == x && x < 0.0f ? mtvm_f32_from_bits(MTVM_NAN_BITS) : x;
    n = bits & 0x7FFFFFu;
    if (e == 0) {
        while (n < 0x800000u) { n <<= 1; e--; }
        e++;
    } else {
        n |= 0x800000u;
    }
    e -= 150;                                   /* x = n 2^e, 2^23 <= n < 2^24 */
    if (e & 1) { n <<= 1; e--; }                /* e even */
    n <<= 26;                                   /* sqrt(x) = sqrt(n) 2^((e - 26) / 2), 2^49 <= n < 2^51 */
    rest = n;
    while (bit != 0) {                          /* root = floor(sqrt(n)), rest = n - root^2 */
        if (rest >= root + bit) { rest -= root + bit; root = (root >> 1) + bit; }
        else root >>= 1;
        bit >>= 2;
    }
    shift = root >= ((uint64_t)1 << 25) ? 2 : 1;  /* keep 24 bits, round to nearest even on the rest */
    q = (uint32_t)(root >> shift);
    low = (uint32_t)root & ((1u << shift) - 1u);
    half = 1u << (shift - 1);
    if (low > half || (low == half && (rest != 0 || (q & 1u) != 0))) q++;
    /* value q 2^E with E = (e - 26) / 2 + shift; q == 2^24 carries into the exponent. */
    return mtvm_f32_from_bits(((uint32_t)((e - 26) / 2 + shift + 150) << 23) + q - 0x800000u);
}

/* exp(r) - 1 for |r| <= ln2/2 in double: Taylor to degree 13. */
static inline double mtvm_expm1_reduced_f64(double r) {
    return r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * (0.008333333333333333
        + r * (0.001388888888888889 + r * (0.0001984126984126984 + r * (2.48015873015873e-05 + r * (2.7557319223985893e-06
        + r * (2.755731922398589e-07 + r * (2.505210838544172e-08 + r * (2.08767569878681e-09 + r * 1.6059043836821613e-10))))))))))));
}

/* exp(x) - 1 for float x without libm (TFLite's ELU): x = k ln2 + r in double, 2^k (1 + expm1(r)) - 1, rounded once. */
static inline float mtvm_expm1_f32(float x) {
    double d = (double)x, p;
    int32_t k;
    if (!(x > -0.346573591f && x < 0.346573591f)) {
        if (x < -104.0f) return -1.0f;
        if (!(x < 88.7228394f)) return x == x ? mtvm_exp_f32(x) : x;   /* +inf, or NaN */
        k = (int32_t)(d * 1.4426950408889634 + (d < 0.0 ? -0.5 : 0.5));
        p = mtvm_expm1_reduced_f64(d - (double)k * 0.6931471805599453);
        return (float)((1.0 + p) * mtvm_pow2_f64(k) - 1.0);
    }
    return (float)mtvm_expm1_reduced_f64(d);
}

/* log(x) for float x without libm: x = 2^k m, m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m - 1) / (m + 1)
   (|s| < 0.1716, series to s^17), in double, rounded once. */
static inline float mtvm_log_f32(float x) {
    uint32_t bits = mtvm_f32_bits(x);
    int32_t k = 0;
    double m, s, s2;
    if (!(x > 0.0f)) return x == 0.0f ? mtvm_f32_from_bits(0xFF800000u) : x == x ? mtvm_f32_from_bits(MTVM_NAN_BITS) : x;
    if (x > 3.40282347e38f) return x;
    if (bits < 0x800000u) { bits = mtvm_f32_bits(x * 16777216.0f); k = -24; }
    k += (int32_t)(bits >> 23) - 127;
    m = (double)mtvm_f32_from_bits((bits & 0x7FFFFFu) | 0x3F800000u);
    if (m > 1.4142135623730951) { m *= 0.5; k++; }
    s = (m - 1.0) / (m + 1.0);
    s2 = s * s;
    return (float)((double)k * 0.6931471805599453 + 2.0 * s * (1.0 + s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285
        + s2 * (0.1111111111111111 + s2 * (0.09090909090909091 + s2 * (0.07692307692307693 + s2 * (0.06666666666666667 + s2 * 0.058823529411764705)))))))));
}

/* 2/pi in 32-bit words after one word of zeros: bit i of 2/pi (i = 1, 2, ...) is bit 31 - (i + 31) % 32 of word (i + 31) / 32. */
static const uint32_t mtvm_two_over_pi[8] = {
    0x00000000u, 0xA2F9836Eu, 0x4E441529u, 0xFC2757D1u, 0xF534DDC0u, 0xDB629599u, 0x3C439041u, 0xFE5163ABu,
};

/* |x| = (4n + quadrant + r) pi/2 with |r| <= 1/2 for finite |x| >= pi/4, exactly: x 2/pi mod 4 from the 96 bits of 2/pi
   that matter for x's exponent (Payne-Hanek). Returns r pi/2 in double; quadrant in 0..3. */
static inline double mtvm_reduce_pio2(float x, uint32_t *quadrant) {
    const uint32_t bits = mtvm_f32_bits(x) & 0x7FFFFFFFu;
    const uint32_t m = (bits & 0x7FFFFFu) | 0x800000u;        /* |x| = m 2^e, e = (bits >> 23) - 150 */
    const uint32_t g = (bits >> 23) - 150 - 1 + 31;          /* window of 96 bits from bit i = e - 1 */
    const uint32_t w = g / 32, sh = g % 32;
    uint32_t word[3], hi;
    uint64_t p0, p1;
    double f;
    int i;
    for (i = 0; i < 3; i++)
        word[i] = sh == 0 ? mtvm_two_over_pi[w + (uint32_t)i]
                          : (mtvm_two_over_pi[w + (uint32_t)i] << sh) | (mtvm_two_over_pi[w + (uint32_t)i + 1] >> (32 - sh));
    p0 = (uint64_t)m * word[2];                               /* m * window mod 2^96: integer part in the top 2 bits */
    p1 = (uint64_t)m * word[1] + (p0 >> 32);
    hi = m * word[0] + (uint32_t)(p1 >> 32);
    f = (double)(hi & 0x3FFFFFFFu) * 9.313225746154785e-10 + (double)(uint32_t)p1 * 2.168404344971009e-19
        + (double)(uint32_t)p0 * 5.048709793414476e-29;       /* the 94 fraction bits, 2^-30, 2^-62, 2^-94 */
    *quadrant = hi >> 30;
    if (f >= 0.5) { f -= 1.0; *quadrant = (*quadrant + 1u) & 3u; }
    return f * 1.5707963267948966;
}

/* sin(r), cos(r) for |r| <= pi/4 in double: Taylor to degree 15 and 16. */
static inline double mtvm_sin_reduced_f64(double r) {
    const double r2 = r * r;
    return r + r * r2 * (-0.16666666666666666 + r2 * (0.008333333333333333 + r2 * (-0.0001984126984126984 + r2 * (2.7557319223985893e-06
        + r2 * (-2.505210838544172e-08 + r2 * (1.6059043836821613e-10 + r2 * -7.647163731819816e-13))))));
}

static inline double mtvm_cos_reduced_f64(double r) {
    const double r2 = r * r;
    return 1.0 + r2 * (-0.5 + r2 * (0.041666666666666664 + r2 * (-0.001388888888888889 + r2 * (2.48015873015873e-05
        + r2 * (-2.755731922398589e-07 + r2 * (2.08767569878681e-09 + r2 * (-1.1470745597729725e-11 + r2 * 4.779477332387385e-14)))))));
}

/* sin(x) and cos(x) for float x without libm, in double after an exact reduction, rounded once. */
static inline float mtvm_sin_f32(float x) {
    uint32_t quadrant;
    double r, y;
    if (x > -0.785398163f && x < 0.785398163f) return (float)mtvm_sin_reduced_f64((double)x);
    if (!(x - x == 0.0f)) return x == x ? mtvm_f32_from_bits(MTVM_NAN_BITS) : x;
    r = mtvm_reduce_pio2(x, &quadrant);
    y = (quadrant & 1u) ? mtvm_cos_reduced_f64(r) : mtvm_sin_reduced_f64(r);
    if (quadrant >= 2u) y = -y;
    return (float)(x < 0.0f ? -y : y);
}

static inline float mtvm_cos_f32(float x) {
    uint32_t quadrant;
    double r, y;
    if (x > -0.785398163f && x < 0.785398163f) return (float)mtvm_cos_reduced_f64((double)x);
    if (!(x - x == 0.0f)) return x == x ? mtvm_f32_from_bits(MTVM_NAN_BITS) : x;
    r = mtvm_reduce_pio2(x, &quadrant);
    y = (quadrant & 1u) ? mtvm_sin_reduced_f64(r) : mtvm_cos_reduced_f64(r);
    if (quadrant == 1u || quadrant == 2u) y = -y;
    return (float)y;
}

#endif
