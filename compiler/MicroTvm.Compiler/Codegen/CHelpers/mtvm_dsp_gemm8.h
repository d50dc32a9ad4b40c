/* The DSP CONV_2D matrix product with int8 weights (Kernels/Dsp/DspCompactGemm.cs): output channels in pairs, each
   pair's two weights at one column position stored as one int16 h = w0 + 256 * w1 (the lower byte is w0, the upper
   one w1 less the borrow), SXTB16 order. SMLAD of a column word with the weight word as it is sums acc0 + 256 * acc1;
   with the weight word after SXTB16 (the lower bytes: w0) it sums acc0. */
#ifndef MTVM_DSP_GEMM8_H
#define MTVM_DSP_GEMM8_H
#include <stdint.h>
#include "mtvm_dsp.h"
#include "mtvm_dsp_gemm.h"

/* acc1 * 2^(8 - shift) from the pair's sums: (sum - acc0) = acc1 * 2^8 exactly while |acc1| < 2^23 (checked at
   compile time), shifted right by `shift` (8 - the fast requantization's left shift); the subtraction wraps as the
   accumulators do (arithmetic shift: the compilers this code is built with). */
static inline int32_t mtvm_gemm8_high(int32_t sum, int32_t acc0, int shift) { return (int32_t)((uint32_t)sum - (uint32_t)acc0) >> shift; }

/* One pair of channels: acc = the pair's start words (w[0..3]) plus two pixels' interleaved column x times the pair's
   shared words ([n4 steps][2 words of h]); returns w past them. acc: acc0 pixel 0, acc0 pixel 1, sum pixel 0, sum pixel 1.
   The portable form of mtvm_gemm8_rows and of the per-layer assembly DspGemmRows writes for compact filters. */
static inline const int32_t* mtvm_gemm8_pair(const int32_t* x, const int32_t* w, int n4, int32_t acc[4]) {
    int32_t a0 = w[0], a1 = w[1], s0 = w[2], s1 = w[3];
    int k;
    w += 4;
    for (k = 0; k < n4; ++k) {
        const int32_t h0 = w[0], h1 = w[1];
        const int32_t l0 = mtvm_sxtb16((uint32_t)h0), l1 = mtvm_sxtb16((uint32_t)h1);
        s0 = mtvm_smlad(x[0], h0, s0); s0 = mtvm_smlad(x[1], h1, s0);
        s1 = mtvm_smlad(x[2], h0, s1); s1 = mtvm_smlad(x[3], h1, s1);
        a0 = mtvm_smlad(x[0], l0, a0); a0 = mtvm_smlad(x[1], l1, a0);
        a1 = mtvm_smlad(x[2], l0, a1); a1 = mtvm_smlad(x[3], l1, a1);
        x += 4; w += 2;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = s0; acc[3] = s1;
    return w;
}

/* Widens `pairs` pairs of channels' int8 rows for the widened steps (DspCompactGemm.cs, WidenedBlocks): s streams per
   pair 4 start words, `n4` steps of one int8 word of each row, `tail` words (requantization operands); d receives the
   same with each int8 word as its SXTB16 pair (w0,w2) and SXTB16 ROR #8 pair (w1,w3), the order mtvm_gemm16_pair reads. */
static inline void mtvm_gemm8_widen(const int32_t* s, int32_t* d, int pairs, int n4, int tail) {
    int pair, k;
    for (pair = 0; pair < pairs; ++pair) {
        d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3];
        s += 4; d += 4;
        for (k = 0; k < n4; ++k) {
            const uint32_t u = (uint32_t)s[0], v = (uint32_t)s[1];
            d[0] = mtvm_sxtb16(u); d[1] = mtvm_sxtb16_ror8(u); d[2] = mtvm_sxtb16(v); d[3] = mtvm_sxtb16_ror8(v);
            s += 2; d += 4;
        }
        for (k = 0; k < tail; ++k) *d++ = *s++;
    }
}

/* mtvm_gemm8_rows: two pixels' interleaved column x ([n4 steps][pixel][2 words], 4 values per step) times `pairs`
   pairs of channels. w streams [pair][4 words: the accumulators' start][n4 steps][2 words of h]; acc receives
   [pair][acc0 pixel 0, acc0 pixel 1, sum pixel 0, sum pixel 1]. */
#if defined(MTVM_DSP_ASM) && defined(__OPTIMIZE__)
/* One step: 4 column words by one LDM into r8-r11, the pair's 2 weight words by one LDM into r4-r5, four SMLAD with
   them as they are (sums r12 pixel 0, lr pixel 1), SXTB16 of both, four SMLAD (acc0: r2 pixel 0, r3 pixel 1);
   exactly 48 bytes (32-bit encodings), so the entry into the 8-step loop can be computed. */
#define MTVM_GEMM8_STEP \
    "ldmia.w r0!, {r8, r9, r10, r11}\n\t" \
    "ldmia.w r1!, {r4, r5}\n\t" \
    "smlad r12, r8, r4, r12\n\t" \
    "smlad lr, r10, r4, lr\n\t" \
    "smlad r12, r9, r5, r12\n\t" \
    "smlad lr, r11, r5, lr\n\t" \
    "sxtb16 r4, r4\n\t" \
    "sxtb16 r5, r5\n\t" \
    "smlad r2, r8, r4, r2\n\t" \
    "smlad r3, r10, r4, r3\n\t" \
    "smlad r2, r9, r5, r2\n\t" \
    "smlad r3, r11, r5, r3\n\t"
/* The frame of mtvm_gemm16_rows (MTVM_GEMM_ROWS_ASM) around this step. */
__attribute__((naked, noinline, unused)) static void mtvm_gemm8_rows(const int32_t* x MTVM_ARG, const int32_t* w MTVM_ARG, int32_t* acc MTVM_ARG,
                                                                     int n4 MTVM_ARG, int pairs MTVM_ARG) {
    MTVM_GEMM_ROWS_ASM(MTVM_GEMM8_STEP, 48, 2, 3); /* per pair 4 + 2 * n4 words */
}
#else
static inline void mtvm_gemm8_rows(const int32_t* x, const int32_t* w, int32_t* acc, int n4, int pairs) {
    int pair;
    for (pair = 0; pair < pairs; ++pair) {
        w = mtvm_gemm8_pair(x, w, n4, acc);
        acc += 4;
    }
}
#endif

#endif
