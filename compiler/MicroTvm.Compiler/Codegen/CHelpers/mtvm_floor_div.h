/* FLOOR_DIV's and FLOOR_MOD's float arithmetic without libm, exact (as floor and fmodf): Reference/FloorDivReference.cs
   computes the same with Math.Floor and the float remainder operator. */
#ifndef MTVM_FLOOR_DIV_H
#define MTVM_FLOOR_DIV_H
#include <stdint.h>

/* floor(x) for a double. Doubles of magnitude 2^52 or more, infinities and NaN are their own floor; -0.0 stays -0.0. */
static inline double mtvm_floor_f64(double x) {
    double t;
    if (x == 0.0 || !(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;
    t = (double)(int64_t)x; /* toward zero, exact below 2^52 */
    return t > x ? t - 1.0 : t;
}

/* The significand of a finite non-zero float's magnitude bits with its implicit bit (subnormals normalised), and its
   exponent field (0 or below for normalised subnormals). */
static inline uint32_t mtvm_fmod_significand(uint32_t magnitude, int* exponent) {
    uint32_t m = magnitude & 0x7fffffu;
    *exponent = (int)(magnitude >> 23);
    if (*exponent != 0) return m | 0x800000u;
    *exponent = 1;
    while (!(m & 0x800000u)) { m <<= 1; --*exponent; }
    return m;
}

/* fmodf(x, y): x - trunc(x / y) * y, exactly, with x's sign; NaN when y is 0 or x infinite. Long division on the
   significands, one bit per exponent step. */
static inline float mtvm_fmod_f32(float x, float y) {
    union { float f; uint32_t u; } ux, uy, r;
    uint32_t ax, ay, mx, my;
    int ex, ey;
    ux.f = x; uy.f = y;
    ax = ux.u & 0x7fffffffu; ay = uy.u & 0x7fffffffu;
    if (ax > 0x7f800000u || ay > 0x7f800000u) return x + y;      /* NaN */
    if (ax == 0x7f800000u || ay == 0) return (x * y) / (x * y);  /* inf or / 0: NaN */
    if (ax < ay) return x;
    if (ax == ay) return 0.0f * x;
    mx = mtvm_fmod_significand(ax, &ex);
    my = mtvm_fmod_significand(ay, &ey);
    for (; ex > ey; --ex) {
        if (mx >= my) mx -= my;
        mx <<= 1;
    }
    if (mx >= my) mx -= my;
    if (mx == 0) return 0.0f * x;
    while (!(mx & 0x800000u)) { mx <<= 1; --ey; }
    r.u = ey > 0 ? ((uint32_t)ey << 23) | (mx & 0x7fffffu) : mx >> (1 - ey);
    r.u |= ux.u & 0x80000000u;
    return r.f;
}

#endif
