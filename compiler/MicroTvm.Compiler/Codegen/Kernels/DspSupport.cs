namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// C helpers of the Cortex-M DSP kernels (<see cref="DspGemmKernel"/>, <see cref="DspDepthwiseKernel"/>).
/// On a CPU with the DSP extension (<c>__ARM_FEATURE_DSP</c>) the packed operations are the ACLE intrinsics of
/// &lt;arm_acle.h&gt; (SMLAD, SXTB16; SXTB16 with its free ROR #8 through inline assembly, which ACLE lacks);
/// everywhere else — the host tests, or with <c>-DMICROTVM_PORTABLE_DSP</c> — the same operations are written in
/// portable C with the exact semantics of the instructions, so the host runs the very kernel logic the target runs.
/// </summary>
internal static class DspSupport
{
    /// <summary>Packed 16-bit arithmetic: pairs of int16 in one int32, low half first.</summary>
    public const string Intrinsics = """
        #include <string.h>
        #if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__GNUC__) && !defined(MICROTVM_PORTABLE_DSP)
        #include <arm_acle.h>
        #define MTVM_DSP_ASM 1
        /* acc + lo(a)*lo(b) + hi(a)*hi(b) */
        static inline int32_t mtvm_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
        /* acc + lo(a)*lo(b) */
        static inline int32_t mtvm_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
        /* acc + hi(a)*hi(b) */
        static inline int32_t mtvm_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }
        /* bytes 0 and 2 of v, sign-extended into the low and high halves */
        static inline int32_t mtvm_sxtb16(uint32_t v) { return __sxtb16(v); }
        /* bytes 1 and 3 of v, sign-extended into the low and high halves (one instruction: SXTB16 with ROR #8) */
        static inline int32_t mtvm_sxtb16_ror8(uint32_t v) { int32_t r; __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v)); return r; }
        /* (a * b + 2^31) >> 32, the rounded high word (SMMULR) */
        static inline int32_t mtvm_smmulr(int32_t a, int32_t b) { int32_t r; __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
        /* two consecutive words, then p += 2 (one LDRD with post-increment; words need only 4-byte alignment) */
        #define MTVM_LOAD2(lo, hi, p) __asm__("ldrd %0, %1, [%2], #8" : "=&r"(lo), "=&r"(hi), "+r"(p) : : "memory")
        /* two words to p, then p += 4 (one STRD with post-increment: one pixel's half of an interleaved column) */
        #define MTVM_STORE2_SKIP2(lo, hi, p) __asm__ volatile("strd %1, %2, [%0], #16" : "+r"(p) : "r"(lo), "r"(hi) : "memory")
        #if defined(__OPTIMIZE__) /* (without optimisation gcc cannot find the registers the assembly needs) */
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
        #else
        #define MTVM_LOAD2(lo, hi, p) do { (lo) = (p)[0]; (hi) = (p)[1]; (p) += 2; } while (0)
        #define MTVM_STORE2_SKIP2(lo, hi, p) do { (p)[0] = (lo); (p)[1] = (hi); (p) += 4; } while (0)
        static inline int32_t mtvm_smmulr(int32_t a, int32_t b) { return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32); }
        static inline int32_t mtvm_lo16(int32_t v) { return (int32_t)(int16_t)(uint16_t)((uint32_t)v & 0xFFFFu); }
        static inline int32_t mtvm_hi16(int32_t v) { return (int32_t)(int16_t)(uint16_t)((uint32_t)v >> 16); }
        static inline int32_t mtvm_pack16(int32_t lo, int32_t hi) { return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16)); }
        /* 32-bit wrap-around like the instruction (the Q flag is not modelled: nothing reads it). */
        static inline int32_t mtvm_smlad(int32_t a, int32_t b, int32_t acc) {
            return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_lo16(a) * mtvm_lo16(b)) + (uint32_t)(mtvm_hi16(a) * mtvm_hi16(b)));
        }
        static inline int32_t mtvm_smlabb(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_lo16(a) * mtvm_lo16(b))); }
        static inline int32_t mtvm_smlatt(int32_t a, int32_t b, int32_t acc) { return (int32_t)((uint32_t)acc + (uint32_t)(mtvm_hi16(a) * mtvm_hi16(b))); }
        static inline int32_t mtvm_sxtb16(uint32_t v) { return mtvm_pack16((int8_t)(uint8_t)(v & 0xFFu), (int8_t)(uint8_t)((v >> 16) & 0xFFu)); }
        static inline int32_t mtvm_sxtb16_ror8(uint32_t v) { return mtvm_pack16((int8_t)(uint8_t)((v >> 8) & 0xFFu), (int8_t)(uint8_t)(v >> 24)); }
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
        /* 4 bytes from any address (one LDR on Armv7-M and later, which allow unaligned word loads). */
        static inline uint32_t mtvm_load4(const int8_t* p) { uint32_t v; memcpy(&v, p, 4); return v; }
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
        """;

    /// <summary>TFLite's MultiplyByQuantizedMultiplier in fewer instructions, bit for bit the same for every
    /// multiplier other than INT32_MIN (which QuantizeMultiplier never produces; the kernels check):
    /// SaturatingRoundingDoublingHighMul's nudge-and-truncate equals adding 2^30 and shifting arithmetically by 31
    /// for either sign (one SMLAL), and RoundingDivideByPOT stays in 32 bits with no branch (a zero mask for a
    /// zero exponent leaves x as it is).</summary>
    public const string Requantize = """
        static inline int32_t mtvm_requantize(int32_t x, int32_t multiplier, int shift) {
            const int left = shift > 0 ? shift : 0;
            const int right = shift > 0 ? 0 : -shift;
            const int64_t product = (int64_t)(int32_t)((uint32_t)x << left) * multiplier + ((int64_t)1 << 30);
            const int32_t r = (int32_t)(((uint32_t)product >> 31) | ((uint32_t)(product >> 32) << 1));
            const int32_t mask = (int32_t)((1u << right) - 1u);
            const int32_t remainder = r & mask;
            const int32_t threshold = (mask >> 1) + (r < 0 ? 1 : 0);
            return (r >> right) + (remainder > threshold ? 1 : 0);
        }
        /* The same as mtvm_requantize when |x * 2^shift| < 2^30 (the code generator proves that bound from the weights,
           bias and input range before it uses this): the doubling high multiply is one SMMULR of 2x, and the rounding
           shift cannot overflow, so it is an add of half minus the sign bit. */
        static inline int32_t mtvm_requantize_small(int32_t x, int32_t multiplier, int shift) {
            const int left = shift > 0 ? shift : 0;
            const int right = shift > 0 ? 0 : -shift;
            const int32_t r = mtvm_smmulr((int32_t)((uint32_t)x << (left + 1)), multiplier);
            const int32_t half = (int32_t)((1u << right) >> 1);
            return (r + half + (r < 0 ? -(right > 0) : 0)) >> right;
        }
        static inline int8_t mtvm_requantize_small_int8(int32_t acc, int32_t multiplier, int shift, int32_t offset, int32_t lo, int32_t hi) {
            int32_t v = mtvm_requantize_small(acc, multiplier, shift) + offset;
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
            return (int8_t)v;
        }
        /* Requantized accumulator plus the output zero point, clamped to the activation range. */
        static inline int8_t mtvm_requantize_int8(int32_t acc, int32_t multiplier, int shift, int32_t offset, int32_t lo, int32_t hi) {
            int32_t v = mtvm_requantize(acc, multiplier, shift) + offset;
            v = v < lo ? lo : v;
            v = v > hi ? hi : v;
            return (int8_t)v;
        }
        """;
}
