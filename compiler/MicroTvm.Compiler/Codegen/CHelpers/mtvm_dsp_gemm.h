/* The matrix products of the DSP CONV_2D and FULLY_CONNECTED kernels: int8 columns widened into int16 pairs (SXTB16
   order), dot products by SMLAD, two pixels by two filter rows at a time. */
#ifndef MTVM_DSP_GEMM_H
#define MTVM_DSP_GEMM_H
#include <stdint.h>
#include "mtvm_dsp.h"

/* mtvm_gemm16_rows: two pixels' interleaved column x ([n4 steps][pixel][2 words], 4 values per step) times `pairs`
   pairs of filter rows. w streams [pair][4 words of bias: b0, b0, b1, b1][n4 steps][row][2 words]; acc receives
   [pair][row][pixel] (row 0 pixel 0, row 0 pixel 1, row 1 pixel 0, row 1 pixel 1). */
#if defined(MTVM_DSP_ASM) && defined(__OPTIMIZE__)
/* One step: 4 column words by one LDM into r8-r11, both rows' 4 words by one LDM into r4-r7, eight SMLAD; exactly
   40 bytes (32-bit encodings), so the entry into the 8-step loop can be computed. Accumulators r2 (row 0 pixel 0),
   r3 (row 0 pixel 1), r12 (row 1 pixel 0), lr (row 1 pixel 1). */
#define MTVM_GEMM16_STEP \
    "ldmia.w r0!, {r8, r9, r10, r11}\n\t" \
    "ldmia.w r1!, {r4, r5, r6, r7}\n\t" \
    "smlad r2, r8, r4, r2\n\t" \
    "smlad r3, r10, r4, r3\n\t" \
    "smlad r2, r9, r5, r2\n\t" \
    "smlad r3, r11, r5, r3\n\t" \
    "smlad r12, r8, r6, r12\n\t" \
    "smlad lr, r10, r6, lr\n\t" \
    "smlad r12, r9, r7, r12\n\t" \
    "smlad lr, r11, r7, lr\n\t"
/* In assembly because every register is needed (4 accumulators, 2 pointers, 8 operands: QEMU counts each LDM as one
   instruction, so 10 instructions make 16 MACs); the loop state lives on the stack: [sp] acc, [sp+4] column start,
   [sp+8] column end, [sp+12] entry into the loop (n4 % 8 steps from its end), [sp+16] end of w. */
#define MTVM_ARG __attribute__((unused)) /* read by the assembly, in r0-r3 and on the stack */
/* The frame around STEP (STEP_BYTES long): WORDS_ADD and WORDS_SHIFT give the stream's end, w + pairs * ((n4 +
   WORDS_ADD) << WORDS_SHIFT) bytes; shared with mtvm_gemm8_rows (mtvm_dsp_gemm8.h). */
#define MTVM_GEMM_ROWS_ASM(STEP, STEP_BYTES, WORDS_ADD, WORDS_SHIFT) \
    __asm__ volatile( \
        "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" \
        "sub sp, sp, #20\n\t" \
        "ldr r4, [sp, #56]\n\t"          /* pairs (the fifth argument) */ \
        "str r2, [sp]\n\t" \
        "str r0, [sp, #4]\n\t" \
        "add r5, r0, r3, lsl #4\n\t" \
        "str r5, [sp, #8]\n\t" \
        "add r5, r3, #" #WORDS_ADD "\n\t" \
        "mul r5, r5, r4\n\t" \
        "add r5, r1, r5, lsl #" #WORDS_SHIFT "\n\t" \
        "str r5, [sp, #16]\n\t" \
        "and r6, r3, #7\n\t" \
        "rsb r6, r6, #8\n\t" \
        "and r6, r6, #7\n\t"              /* steps skipped in the first pass */ \
        "movs r7, #" #STEP_BYTES "\n\t" \
        "adr r8, 1f\n\t" \
        "mla r6, r6, r7, r8\n\t" \
        "orr r6, r6, #1\n\t"             /* Thumb */ \
        "str r6, [sp, #12]\n\t" \
        "2:\n\t" \
        "ldmia.w r1!, {r2, r3, r12, lr}\n\t" \
        "ldr pc, [sp, #12]\n\t" \
        ".p2align 2\n\t" \
        "1:\n\t" \
        STEP STEP STEP STEP STEP STEP STEP STEP \
        "ldr r4, [sp, #8]\n\t" \
        "cmp r0, r4\n\t" \
        "bne 1b\n\t" \
        "ldr r4, [sp]\n\t" \
        "stmia r4!, {r2, r3, r12, lr}\n\t" \
        "str r4, [sp]\n\t" \
        "ldr r0, [sp, #4]\n\t" \
        "ldr r4, [sp, #16]\n\t" \
        "cmp r1, r4\n\t" \
        "bne 2b\n\t" \
        "add sp, sp, #20\n\t" \
        "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t")
__attribute__((naked, noinline, unused)) static void mtvm_gemm16_rows(const int32_t* x MTVM_ARG, const int32_t* w MTVM_ARG, int32_t* acc MTVM_ARG,
                                                                      int n4 MTVM_ARG, int pairs MTVM_ARG) {
    MTVM_GEMM_ROWS_ASM(MTVM_GEMM16_STEP, 40, 1, 4); /* per pair 4 + 4 * n4 words */
}
#else
static inline void mtvm_gemm16_rows(const int32_t* x, const int32_t* w, int32_t* acc, int n4, int pairs) {
    int pair, k;
    for (pair = 0; pair < pairs; ++pair) {
        const int32_t* c = x;
        int32_t a0 = w[0], a1 = w[1], a2 = w[2], a3 = w[3];
        w += 4;
        for (k = 0; k < n4; ++k) {
            a0 = mtvm_smlad(c[0], w[0], a0); a0 = mtvm_smlad(c[1], w[1], a0);
            a1 = mtvm_smlad(c[2], w[0], a1); a1 = mtvm_smlad(c[3], w[1], a1);
            a2 = mtvm_smlad(c[0], w[2], a2); a2 = mtvm_smlad(c[1], w[3], a2);
            a3 = mtvm_smlad(c[2], w[2], a3); a3 = mtvm_smlad(c[3], w[3], a3);
            c += 4; w += 4;
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
        acc += 4;
    }
}
#endif
/* The portable form of one pair of filter rows of the assembly DspGemmRows generates per layer: acc = the pair's bias
   words (w[0..3]) plus two pixels' interleaved column x times both rows ([n4 steps][row][2 words]); returns w past the
   rows, at the pair's requantization operands. acc: row 0 pixel 0, row 0 pixel 1, row 1 pixel 0, row 1 pixel 1. */
static inline const int32_t* mtvm_gemm16_pair(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) {
    int32_t a0 = w[0], a1 = w[1], a2 = w[2], a3 = w[3];
    int k;
    w += 4;
    for (k = 0; k < n4; ++k) {
        a0 = mtvm_smlad(x[0], w[0], a0); a0 = mtvm_smlad(x[1], w[1], a0);
        a1 = mtvm_smlad(x[2], w[0], a1); a1 = mtvm_smlad(x[3], w[1], a1);
        a2 = mtvm_smlad(x[0], w[2], a2); a2 = mtvm_smlad(x[1], w[3], a2);
        a3 = mtvm_smlad(x[2], w[2], a3); a3 = mtvm_smlad(x[3], w[3], a3);
        x += 4; w += 4;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    return w;
}
/* Two pixels' runs of `bytes` int8 values (a multiple of 4), a for pixel 0 and b for pixel 1, widened at once into an
   interleaved column ([step][pixel][2 words], SXTB16 order): per 4 values two LDR, four SXTB16 and one STM. */
#if defined(MTVM_DSP_ASM)
#define MTVM_WIDEN2_STEP \
    "ldr %[u], [%[a]], #4\n\t" "ldr %[v], [%[b]], #4\n\t" \
    "sxtb16 r8, %[u]\n\t" "sxtb16 r9, %[u], ror #8\n\t" "sxtb16 r10, %[v]\n\t" "sxtb16 r11, %[v], ror #8\n\t" \
    "stmia %[d]!, {r8, r9, r10, r11}\n\t"
#define MTVM_WIDEN2_OPERANDS : [a] "+r"(a), [b] "+r"(b), [d] "+r"(d), [u] "=&r"(u), [v] "=&r"(v) : : "r8", "r9", "r10", "r11", "memory"
static inline void mtvm_widen2_x2(const int8_t* a, const int8_t* b, int32_t* d, int bytes) {
    const int8_t* const end = a + bytes;
    uint32_t u, v;
    if (bytes & 4) __asm__ volatile(MTVM_WIDEN2_STEP MTVM_WIDEN2_OPERANDS);
    while (a != end) __asm__ volatile(MTVM_WIDEN2_STEP MTVM_WIDEN2_STEP MTVM_WIDEN2_OPERANDS);
}
#else
static inline void mtvm_widen2_x2(const int8_t* a, const int8_t* b, int32_t* d, int bytes) {
    int i;
    for (i = 0; i < bytes; i += 4) {
        const uint32_t u = mtvm_load4(a + i), v = mtvm_load4(b + i);
        d[0] = mtvm_sxtb16(u); d[1] = mtvm_sxtb16_ror8(u); d[2] = mtvm_sxtb16(v); d[3] = mtvm_sxtb16_ror8(v);
        d += 4;
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
