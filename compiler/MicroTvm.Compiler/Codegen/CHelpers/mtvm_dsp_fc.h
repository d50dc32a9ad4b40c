/* The DSP FULLY_CONNECTED kernel's dot products: one input row widened once into int16 pairs (SXTB16 order: per 4
   values (x0,x2), (x1,x3)) serves four weight rows at a time, the rows interleaved per 4 values so one load brings
   the next 4 values of every row. Weights int8 (unpacked by SXTB16 and SXTB16 ROR #8 in the loop) or widened at
   compile time into int16 pairs of the same order. */
#ifndef MTVM_DSP_FC_H
#define MTVM_DSP_FC_H
#include <stdint.h>
#include "mtvm_dsp.h"

/* Widens `bytes` (a multiple of 4) int8 values into int16 pairs, SXTB16 order: x0 x1 x2 x3 -> (x0,x2) (x1,x3). */
static inline void mtvm_fc_widen(const int8_t* src, int32_t* dst, int bytes) {
    const int8_t* const end = src + bytes;
    while (src != end) {
        const uint32_t v = mtvm_load4(src);
        dst[0] = mtvm_sxtb16(v);
        dst[1] = mtvm_sxtb16_ror8(v);
        src += 4; dst += 2;
    }
}

#if defined(MTVM_DSP_ASM) && defined(__OPTIMIZE__) /* (without optimisation gcc cannot find the registers the assembly needs) */
/* One row of an int8 step: weight word in register w against the column pair in r10, r11 (r8 a temporary). */
#define MTVM_FC8_ROW(a, w) \
    "sxtb16 r8, " w "\n\t" \
    "smlad %[" a "], r10, r8, %[" a "]\n\t" \
    "sxtb16 " w ", " w ", ror #8\n\t" \
    "smlad %[" a "], r11, " w ", %[" a "]\n\t"
/* One step of mtvm_fc8_1x4: the column's 2 words by LDRD, the four rows' words by two LDRD, 8 SXTB16, 8 SMLAD:
   19 instructions per 16 MACs. */
#define MTVM_FC8_STEP \
    "ldrd r10, r11, [%[x]], #8\n\t" \
    "ldrd r4, r5, [%[w]], #8\n\t" \
    MTVM_FC8_ROW("a0", "r4") MTVM_FC8_ROW("a1", "r5") \
    "ldrd r4, r5, [%[w]], #8\n\t" \
    MTVM_FC8_ROW("a2", "r4") MTVM_FC8_ROW("a3", "r5")
/* One step of mtvm_fc16_1x4: the column's 2 words by LDRD, two rows' 4 words by one LDM, twice, 8 SMLAD:
   11 instructions per 16 MACs. */
#define MTVM_FC16_STEP \
    "ldrd r10, r11, [%[x]], #8\n\t" \
    "ldm %[w]!, {r4, r5, r6, r8}\n\t" \
    "smlad %[a0], r10, r4, %[a0]\n\t" \
    "smlad %[a0], r11, r5, %[a0]\n\t" \
    "smlad %[a1], r10, r6, %[a1]\n\t" \
    "smlad %[a1], r11, r8, %[a1]\n\t" \
    "ldm %[w]!, {r4, r5, r6, r8}\n\t" \
    "smlad %[a2], r10, r4, %[a2]\n\t" \
    "smlad %[a2], r11, r5, %[a2]\n\t" \
    "smlad %[a3], r10, r6, %[a3]\n\t" \
    "smlad %[a3], r11, r8, %[a3]\n\t"
/* Two-row steps for a last block of one or two rows: 10 and 6 instructions per 8 MACs. */
#define MTVM_FC8_STEP2 \
    "ldrd r10, r11, [%[x]], #8\n\t" \
    "ldrd r4, r5, [%[w]], #8\n\t" \
    MTVM_FC8_ROW("a0", "r4") MTVM_FC8_ROW("a1", "r5")
#define MTVM_FC16_STEP2 \
    "ldrd r10, r11, [%[x]], #8\n\t" \
    "ldm %[w]!, {r4, r5, r6, r8}\n\t" \
    "smlad %[a0], r10, r4, %[a0]\n\t" \
    "smlad %[a0], r11, r5, %[a0]\n\t" \
    "smlad %[a1], r10, r6, %[a1]\n\t" \
    "smlad %[a1], r11, r8, %[a1]\n\t"
#define MTVM_FC_OPERANDS4 [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w)
#define MTVM_FC_OPERANDS2 [a0] "+r"(a0), [a1] "+r"(a1), [x] "+r"(x), [w] "+r"(w)
#define MTVM_FC_CLOBBERS "r4", "r5", "r6", "r8", "r10", "r11", "cc", "memory"
/* The loop of every kernel: 1, 2, then 4 steps per pass until the column ends (the end pointer stays in memory:
   r8 is free at the end of a step). */
#define MTVM_FC_LOOP(STEP, OPERANDS) \
    if (n4 & 1) __asm__ volatile(STEP : OPERANDS : : MTVM_FC_CLOBBERS); \
    if (n4 & 2) __asm__ volatile(STEP STEP : OPERANDS : : MTVM_FC_CLOBBERS); \
    if (n4 >= 4) { \
        const int32_t* const end = x + 2 * (n4 & ~3); \
        __asm__ volatile("1:\n\t" STEP STEP STEP STEP \
                         "ldr r8, %[end]\n\t" \
                         "cmp %[x], r8\n\t" \
                         "bne 1b\n\t" \
                         : OPERANDS : [end] "m"(end) : MTVM_FC_CLOBBERS); \
    }
#define MTVM_FC_1X4(STEP) \
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3]; \
    MTVM_FC_LOOP(STEP, MTVM_FC_OPERANDS4) \
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
#define MTVM_FC_1X2(STEP) \
    int32_t a0 = acc[0], a1 = acc[1]; \
    MTVM_FC_LOOP(STEP, MTVM_FC_OPERANDS2) \
    acc[0] = a0; acc[1] = a1;
/* Column x (n4 steps of 2 words) times four int8 rows w ([step][row][4 bytes]): acc[r] += row r . x. */
static inline void mtvm_fc8_1x4(const int32_t* x, const int8_t* w, int n4, int32_t acc[4]) { MTVM_FC_1X4(MTVM_FC8_STEP) }
/* Column x times four widened rows w ([step][row][2 words]). */
static inline void mtvm_fc16_1x4(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) { MTVM_FC_1X4(MTVM_FC16_STEP) }
/* The same with two rows. */
static inline void mtvm_fc8_1x2(const int32_t* x, const int8_t* w, int n4, int32_t acc[2]) { MTVM_FC_1X2(MTVM_FC8_STEP2) }
static inline void mtvm_fc16_1x2(const int32_t* x, const int32_t* w, int n4, int32_t acc[2]) { MTVM_FC_1X2(MTVM_FC16_STEP2) }
#else
/* Column x times `rows` interleaved rows w, int8 ([step][row][4 bytes]) or widened ([step][row][2 words]). */
static inline void mtvm_fc8_rows(const int32_t* x, const int8_t* w, int n4, int32_t* acc, int rows) {
    int k, r;
    for (k = 0; k < n4; ++k, x += 2)
        for (r = 0; r < rows; ++r, w += 4) {
            const uint32_t v = mtvm_load4(w);
            acc[r] = mtvm_smlad(x[0], mtvm_sxtb16(v), acc[r]);
            acc[r] = mtvm_smlad(x[1], mtvm_sxtb16_ror8(v), acc[r]);
        }
}
static inline void mtvm_fc16_rows(const int32_t* x, const int32_t* w, int n4, int32_t* acc, int rows) {
    int k, r;
    for (k = 0; k < n4; ++k, x += 2)
        for (r = 0; r < rows; ++r, w += 2) {
            acc[r] = mtvm_smlad(x[0], w[0], acc[r]);
            acc[r] = mtvm_smlad(x[1], w[1], acc[r]);
        }
}
static inline void mtvm_fc8_1x4(const int32_t* x, const int8_t* w, int n4, int32_t acc[4]) { mtvm_fc8_rows(x, w, n4, acc, 4); }
static inline void mtvm_fc16_1x4(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) { mtvm_fc16_rows(x, w, n4, acc, 4); }
static inline void mtvm_fc8_1x2(const int32_t* x, const int8_t* w, int n4, int32_t acc[2]) { mtvm_fc8_rows(x, w, n4, acc, 2); }
static inline void mtvm_fc16_1x2(const int32_t* x, const int32_t* w, int n4, int32_t acc[2]) { mtvm_fc16_rows(x, w, n4, acc, 2); }
#endif

#endif
