/* Single-precision FPU conversions the float QUANTIZE kernel uses (Kernels/Fpu). With a hard-float ABI (__ARM_FP) they
   are one instruction each in inline assembly; everywhere else (the host tests, or with -DMICROTVM_PORTABLE_FLOAT)
   portable C with the exact semantics of the instruction, so the host runs the very kernel logic the target runs.
   Both conversions saturate and turn NaN into 0, as the Arm conversions do. */
#ifndef MTVM_FPU_H
#define MTVM_FPU_H
#include <stdint.h>
#include <string.h>

#if defined(__ARM_FP) && (__ARM_FP & 4) && defined(__GNUC__) && !defined(MICROTVM_PORTABLE_FLOAT)
/* x rounded to the nearest integer, ties away from zero, saturated to int32 (VCVTA.S32.F32: FPv5 and Armv8-M FP only;
   the kernel uses it only for those targets) */
static inline int32_t mtvm_cvta_s32(float x) {
    float r;
    int32_t i;
    __asm__("vcvta.s32.f32 %0, %1" : "=t"(r) : "t"(x));
    memcpy(&i, &r, 4);
    return i;
}
/* 2x rounded toward zero, saturated to int16, as int32 (VCVT.S16.F32 with one fraction bit: 2x is exact inside the
   instruction; FPv4 and later) */
static inline int32_t mtvm_cvt_twice_s16(float x) {
    int32_t i;
    __asm__("vcvt.s16.f32 %0, %0, #1" : "+t"(x));
    memcpy(&i, &x, 4);
    return i;
}
/* v saturated to int8 and int16 (SSAT: every core with an FPU here is Armv7E-M or later) */
static inline int32_t mtvm_sat8(int32_t v) { return (int32_t)__builtin_arm_ssat(v, 8); }
static inline int32_t mtvm_sat16(int32_t v) { return (int32_t)__builtin_arm_ssat(v, 16); }
#else
static inline int32_t mtvm_cvta_s32(float x) {
    float t;
    if (x != x) return 0;
    if (x >= 2147483648.0f) return INT32_MAX;
    if (x <= -2147483648.0f) return INT32_MIN;
    /* |x| < 2^31: its integer part converts exactly; the fraction x - t is exact as well (Sterbenz). */
    t = (float)(int32_t)x;
    if (x - t >= 0.5f) return (int32_t)t + 1;
    if (x - t <= -0.5f) return (int32_t)t - 1;
    return (int32_t)t;
}
static inline int32_t mtvm_cvt_twice_s16(float x) {
    if (x != x) return 0;
    if (x >= 16383.5f) return 32767;
    if (x <= -16384.0f) return -32768;
    return (int32_t)(2.0f * x);
}
static inline int32_t mtvm_sat8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }
static inline int32_t mtvm_sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
#endif

#endif
