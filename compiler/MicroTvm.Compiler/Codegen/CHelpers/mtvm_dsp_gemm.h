/* The matrix products of the DSP CONV_2D and FULLY_CONNECTED kernels: int8 columns widened into int16 pairs (SXTB16
   order), dot products by SMLAD, two pixels by two filter rows at a time. */
#ifndef MTVM_DSP_GEMM_H
#define MTVM_DSP_GEMM_H
#include <stdint.h>
#include "mtvm_dsp.h"

#if defined(MTVM_DSP_ASM) && defined(__OPTIMIZE__) /* (without optimisation gcc cannot find the registers the assembly needs) */
/* One step of mtvm_gemm16_2x2: 4 column words (two pixels) by one LDM into r8-r11, each row's two words by one
   LDRD into r4, r5, eight SMLAD. */
#define MTVM_GEMM16_STEP \
    "ldm %[x]!, {r8, r9, r10, r11}\n\t" \
    "ldrd r4, r5, [%[w]], #8\n\t" \
    "smlad %[a0], r8, r4, %[a0]\n\t" \
    "smlad %[a2], r10, r4, %[a2]\n\t" \
    "smlad %[a0], r9, r5, %[a0]\n\t" \
    "smlad %[a2], r11, r5, %[a2]\n\t" \
    "ldrd r4, r5, [%[w]], #8\n\t" \
    "smlad %[a1], r8, r4, %[a1]\n\t" \
    "smlad %[a3], r10, r4, %[a3]\n\t" \
    "smlad %[a1], r9, r5, %[a1]\n\t" \
    "smlad %[a3], r11, r5, %[a3]\n\t"
#define MTVM_GEMM16_OPERANDS [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w)
#define MTVM_GEMM16_CLOBBERS "r4", "r5", "r8", "r9", "r10", "r11", "cc", "memory"
/* Two pixels' interleaved column x ([step][pixel][2 words]) times two filter rows w ([step][row][2 words]):
   acc[0] pixel 0 row 0, acc[1] pixel 0 row 1, acc[2] pixel 1 row 0, acc[3] pixel 1 row 1; n4 steps of 4 values.
   Eleven instructions per 16 MACs; the loop runs four steps per pass. */
static inline void mtvm_gemm16_2x2(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    if (n4 & 1) __asm__ volatile(MTVM_GEMM16_STEP : MTVM_GEMM16_OPERANDS : : MTVM_GEMM16_CLOBBERS);
    if (n4 & 2) __asm__ volatile(MTVM_GEMM16_STEP MTVM_GEMM16_STEP : MTVM_GEMM16_OPERANDS : : MTVM_GEMM16_CLOBBERS);
    if (n4 >= 4) {
        const int32_t* const end = x + 4 * (n4 & ~3);
        /* the end pointer stays in memory: r4 is free at the end of a pass */
        __asm__ volatile("1:\n\t" MTVM_GEMM16_STEP MTVM_GEMM16_STEP MTVM_GEMM16_STEP MTVM_GEMM16_STEP
                         "ldr r4, %[end]\n\t"
                         "cmp %[x], r4\n\t"
                         "bne 1b\n\t"
                         : MTVM_GEMM16_OPERANDS : [end] "m"(end) : MTVM_GEMM16_CLOBBERS);
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}
#define MTVM_GEMM16_ASM 1
#endif
#ifndef MTVM_GEMM16_ASM
/* Two pixels' interleaved column x ([step][pixel][2 words]) times two filter rows w ([step][row][2 words]). */
static inline void mtvm_gemm16_2x2(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) {
    int k;
    for (k = 0; k < n4; ++k) {
        acc[0] = mtvm_smlad(x[0], w[0], acc[0]); acc[0] = mtvm_smlad(x[1], w[1], acc[0]);
        acc[2] = mtvm_smlad(x[2], w[0], acc[2]); acc[2] = mtvm_smlad(x[3], w[1], acc[2]);
        acc[1] = mtvm_smlad(x[0], w[2], acc[1]); acc[1] = mtvm_smlad(x[1], w[3], acc[1]);
        acc[3] = mtvm_smlad(x[2], w[2], acc[3]); acc[3] = mtvm_smlad(x[3], w[3], acc[3]);
        x += 4; w += 4;
    }
}
#endif
/* Widens `bytes` (a multiple of 4) int8 values into int16 pairs, SXTB16 order: x0 x1 x2 x3 -> (x0,x2) (x1,x3). */
static inline void mtvm_widen(const int8_t* src, int32_t* dst, int bytes) {
    int i;
    for (i = 0; i < bytes; i += 4) {
        const uint32_t v = mtvm_load4(src + i);
        dst[0] = mtvm_sxtb16(v);
        dst[1] = mtvm_sxtb16_ror8(v);
        dst += 2;
    }
}
/* The same into one pixel's half of an interleaved two-pixel column: two words, then two of the other pixel. */
static inline void mtvm_widen_x2(const int8_t* src, int32_t* dst, int bytes) {
    const int8_t* const end = src + bytes;
    if (bytes & 4) {
        const uint32_t v = mtvm_load4(src);
        dst[0] = mtvm_sxtb16(v);
        dst[1] = mtvm_sxtb16_ror8(v);
        src += 4; dst += 4;
    }
    /* two words per pass: the loop's own instructions are paid half as often */
    while (src != end) {
        const uint32_t v = mtvm_load4(src), u = mtvm_load4(src + 4);
        MTVM_STORE2_SKIP2(mtvm_sxtb16(v), mtvm_sxtb16_ror8(v), dst);
        MTVM_STORE2_SKIP2(mtvm_sxtb16(u), mtvm_sxtb16_ror8(u), dst);
        src += 8;
    }
}
/* `words` pairs (value, value) into one pixel's half of an interleaved column. */
static inline void mtvm_fill_pairs_x2(int32_t* dst, int32_t value, int words) {
    const int32_t pair = (int32_t)(((uint32_t)value & 0xFFFFu) | ((uint32_t)value << 16));
    int i;
    for (i = 0; i < words; i += 2) { dst[0] = pair; dst[1] = pair; dst += 4; }
}
/* `words` pairs (value, value). */
static inline void mtvm_fill_pairs(int32_t* dst, int32_t value, int words) {
    const int32_t pair = (int32_t)(((uint32_t)value & 0xFFFFu) | ((uint32_t)value << 16));
    int i;
    for (i = 0; i < words; ++i) dst[i] = pair;
}
/* Dot products of two widened columns a, b (4 values = 2 words per step) with the int8 weight rows w0, w1
   (natural order: one SXTB16 pair per word matches the columns' order). n4 = values / 4. */
static inline void mtvm_dot_2x2(const int32_t* a, const int32_t* b, const int8_t* w0, const int8_t* w1, int n4, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    int k;
    for (k = 0; k < n4; ++k) {
        const int32_t xa0 = a[0], xa1 = a[1], xb0 = b[0], xb1 = b[1];
        const uint32_t u = mtvm_load4(w0), v = mtvm_load4(w1);
        int32_t lo = mtvm_sxtb16(u), hi = mtvm_sxtb16_ror8(u);
        a00 = mtvm_smlad(xa0, lo, a00); a00 = mtvm_smlad(xa1, hi, a00);
        a10 = mtvm_smlad(xb0, lo, a10); a10 = mtvm_smlad(xb1, hi, a10);
        lo = mtvm_sxtb16(v); hi = mtvm_sxtb16_ror8(v);
        a01 = mtvm_smlad(xa0, lo, a01); a01 = mtvm_smlad(xa1, hi, a01);
        a11 = mtvm_smlad(xb0, lo, a11); a11 = mtvm_smlad(xb1, hi, a11);
        a += 2; b += 2; w0 += 4; w1 += 4;
    }
    acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11;
}
/* One column, two weight rows (acc[0] row w0, acc[1] row w1). */
static inline void mtvm_dot_1x2(const int32_t* a, const int8_t* w0, const int8_t* w1, int n4, int32_t acc[2]) {
    int32_t a0 = acc[0], a1 = acc[1];
    int k;
    for (k = 0; k < n4; ++k) {
        const int32_t x0 = a[0], x1 = a[1];
        const uint32_t u = mtvm_load4(w0), v = mtvm_load4(w1);
        a0 = mtvm_smlad(x0, mtvm_sxtb16(u), a0); a0 = mtvm_smlad(x1, mtvm_sxtb16_ror8(u), a0);
        a1 = mtvm_smlad(x0, mtvm_sxtb16(v), a1); a1 = mtvm_smlad(x1, mtvm_sxtb16_ror8(v), a1);
        a += 2; w0 += 4; w1 += 4;
    }
    acc[0] = a0; acc[1] = a1;
}
/* The same products with weights already widened at compile time into int16 pairs in the columns' order:
   no unpacking, two words (four values) per step so loads pair up (LDRD). n4 = values / 4. */
static inline void mtvm_dot16_2x2(const int32_t* a, const int32_t* b, const int32_t* w0, const int32_t* w1, int n4, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const int32_t* const end = a + 2 * n4;
    while (a != end) {
        int32_t xa0, xa1, xb0, xb1, p0, p1, q0, q1;
        MTVM_LOAD2(xa0, xa1, a);
        MTVM_LOAD2(p0, p1, w0);
        a00 = mtvm_smlad(xa0, p0, a00); a00 = mtvm_smlad(xa1, p1, a00);
        MTVM_LOAD2(xb0, xb1, b);
        a10 = mtvm_smlad(xb0, p0, a10); a10 = mtvm_smlad(xb1, p1, a10);
        MTVM_LOAD2(q0, q1, w1);
        a01 = mtvm_smlad(xa0, q0, a01); a01 = mtvm_smlad(xa1, q1, a01);
        a11 = mtvm_smlad(xb0, q0, a11); a11 = mtvm_smlad(xb1, q1, a11);
    }
    acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11;
}
static inline void mtvm_dot16_1x2(const int32_t* a, const int32_t* w0, const int32_t* w1, int n4, int32_t acc[2]) {
    int32_t a0 = acc[0], a1 = acc[1];
    int k;
    for (k = 0; k < n4; ++k) {
        const int32_t x0 = a[0], x1 = a[1];
        a0 = mtvm_smlad(x0, w0[0], a0); a0 = mtvm_smlad(x1, w0[1], a0);
        a1 = mtvm_smlad(x0, w1[0], a1); a1 = mtvm_smlad(x1, w1[1], a1);
        a += 2; w0 += 2; w1 += 2;
    }
    acc[0] = a0; acc[1] = a1;
}
static inline int32_t mtvm_dot16_1x1(const int32_t* a, const int32_t* w0, int n4, int32_t acc) {
    int k;
    for (k = 0; k < n4; ++k) {
        acc = mtvm_smlad(a[0], w0[0], acc); acc = mtvm_smlad(a[1], w0[1], acc);
        a += 2; w0 += 2;
    }
    return acc;
}
/* One column, one weight row. */
static inline int32_t mtvm_dot_1x1(const int32_t* a, const int8_t* w0, int n4, int32_t acc) {
    int k;
    for (k = 0; k < n4; ++k) {
        const uint32_t u = mtvm_load4(w0);
        acc = mtvm_smlad(a[0], mtvm_sxtb16(u), acc); acc = mtvm_smlad(a[1], mtvm_sxtb16_ror8(u), acc);
        a += 2; w0 += 4;
    }
    return acc;
}

#endif
