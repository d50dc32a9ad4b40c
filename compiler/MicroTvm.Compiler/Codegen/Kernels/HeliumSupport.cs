namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// C helpers of the Helium (MVE, Cortex-M55) kernels (<see cref="HeliumGemmKernel"/>, <see cref="HeliumDepthwiseKernel"/>).
/// With <c>__ARM_FEATURE_MVE</c> they are &lt;arm_mve.h&gt; intrinsics (and one assembly loop); everywhere else — the
/// host tests, or with <c>-DMICROTVM_PORTABLE_DSP</c> — the same operations are written in portable C with the exact
/// semantics of the instructions, so the host runs the very kernel logic the target runs.
/// </summary>
internal static class HeliumSupport
{
    /// <summary>Four int32 lanes and TFLite's fixed-point arithmetic on them (support name "mve_vector", for any
    /// Helium kernel): <c>mtvm_v_srdhm</c> (SaturatingRoundingDoublingHighMul = VQRDMULH), <c>mtvm_v_rdbpot</c>
    /// (RoundingDivideByPOT: VRSHL after a saturating -1 on negative lanes whose exponent is non-zero),
    /// <c>mtvm_v_requantize</c> (MultiplyByQuantizedMultiplier), bit-exact for every input;
    /// <c>mtvm_v_requantize_clamp</c>/<c>_store</c> add the output zero point, clamp and narrow to int8.</summary>
    public const string Vector = """
        #if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
        #include <arm_mve.h>
        #define MTVM_VFN static inline
        typedef int32x4_t mtvm_i32x4;
        typedef int16x8_t mtvm_i16x8;
        static inline mtvm_i32x4 mtvm_v_dup(int32_t v) { return vdupq_n_s32(v); }
        static inline mtvm_i32x4 mtvm_v_ld_s32(const int32_t* p) { return vldrwq_s32(p); }
        /* lanes a, b, c, d (two VMOVs from core register pairs) */
        static inline mtvm_i32x4 mtvm_v_make(int32_t a, int32_t b, int32_t c, int32_t d) {
            mtvm_i32x4 v = vdupq_n_s32(0);
            v = vsetq_lane_s32(a, v, 0); v = vsetq_lane_s32(b, v, 1); v = vsetq_lane_s32(c, v, 2); v = vsetq_lane_s32(d, v, 3);
            return v;
        }
        static inline mtvm_i32x4 mtvm_v_add(mtvm_i32x4 a, mtvm_i32x4 b) { return vaddq_s32(a, b); }
        /* x << s per lane, bits shifted out lost (VSHL by register, s >= 0) */
        static inline mtvm_i32x4 mtvm_v_shl(mtvm_i32x4 x, mtvm_i32x4 s) { return vshlq_s32(x, s); }
        /* TFLite's SaturatingRoundingDoublingHighMul per lane: VQRDMULH's (2ab + 2^31) >> 32, saturating only
           INT32_MIN * INT32_MIN, equals it for every input. */
        static inline mtvm_i32x4 mtvm_v_srdhm(mtvm_i32x4 a, mtvm_i32x4 b) { return vqrdmulhq_s32(a, b); }
        /* TFLite's RoundingDivideByPOT per lane (ties away from zero) for exponents e in [0, 31], given as neg = -e:
           VRSHL by -e rounds ties up, so negative x first lose 1 where e > 0 (saturating, which leaves INT32_MIN exact). */
        static inline mtvm_i32x4 mtvm_v_rdbpot(mtvm_i32x4 x, mtvm_i32x4 neg) {
            const mtvm_i32x4 fix = vandq_s32(vshrq_n_s32(x, 31), vshrq_n_s32(neg, 31));
            return vrshlq_s32(vqaddq_s32(x, fix), neg);
        }
        /* mtvm_v_rdbpot when every lane's exponent is non-zero: no mask. */
        static inline mtvm_i32x4 mtvm_v_rdbpot_nonzero(mtvm_i32x4 x, mtvm_i32x4 neg) { return vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), neg); }
        static inline mtvm_i32x4 mtvm_v_clamp(mtvm_i32x4 x, int32_t lo, int32_t hi) { return vminq_s32(vmaxq_s32(x, vdupq_n_s32(lo)), vdupq_n_s32(hi)); }
        /* the low byte of each lane to p[0..3] (VSTRB.32) */
        static inline void mtvm_v_st_s8(int8_t* p, mtvm_i32x4 v) { vstrbq_s32(p, v); }
        /* the same for the first n lanes only (tail-predicated) */
        static inline void mtvm_v_st_s8_n(int8_t* p, mtvm_i32x4 v, int n) { vstrbq_p_s32(p, v, vctp32q((uint32_t)n)); }
        #else
        /* The emulation is not inlined: gcc compiles the unrolled kernels' many calls much faster, and each helper is
           checked once by the sanitizers. */
        #if defined(__GNUC__)
        #define MTVM_VFN static __attribute__((unused, noinline))
        #else
        #define MTVM_VFN static
        #endif
        typedef struct { int32_t lane[4]; } mtvm_i32x4;
        MTVM_VFN mtvm_i32x4 mtvm_v_dup(int32_t v) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = v; return r; }
        MTVM_VFN mtvm_i32x4 mtvm_v_ld_s32(const int32_t* p) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
        MTVM_VFN mtvm_i32x4 mtvm_v_make(int32_t a, int32_t b, int32_t c, int32_t d) { mtvm_i32x4 r; r.lane[0] = a; r.lane[1] = b; r.lane[2] = c; r.lane[3] = d; return r; }
        MTVM_VFN mtvm_i32x4 mtvm_v_add(mtvm_i32x4 a, mtvm_i32x4 b) { int i; for (i = 0; i < 4; ++i) a.lane[i] = (int32_t)((uint32_t)a.lane[i] + (uint32_t)b.lane[i]); return a; }
        /* VSHL by register: the shift is the lane's bottom byte, signed; right shifts are arithmetic */
        MTVM_VFN int32_t mtvm_e_shl(int32_t x, int32_t s) {
            const int n = (int8_t)(uint8_t)((uint32_t)s & 0xFFu);
            if (n >= 32) return 0;
            if (n >= 0) return (int32_t)((uint32_t)x << n);
            return n <= -32 ? (x < 0 ? -1 : 0) : x >> -n;
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_shl(mtvm_i32x4 x, mtvm_i32x4 s) { int i; for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_shl(x.lane[i], s.lane[i]); return x; }
        /* VQRDMULH */
        MTVM_VFN int32_t mtvm_e_qrdmulh(int32_t a, int32_t b) {
            if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
            return (int32_t)((2 * (int64_t)a * b + ((int64_t)1 << 31)) >> 32);
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_srdhm(mtvm_i32x4 a, mtvm_i32x4 b) { int i; for (i = 0; i < 4; ++i) a.lane[i] = mtvm_e_qrdmulh(a.lane[i], b.lane[i]); return a; }
        /* VQADD */
        MTVM_VFN int32_t mtvm_e_qadd(int32_t a, int32_t b) { const int64_t s = (int64_t)a + b; return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s; }
        /* VRSHL by register: left shifts as VSHL, right shifts by n add 2^(n-1) first (in wider precision) */
        MTVM_VFN int32_t mtvm_e_rshl(int32_t x, int32_t s) {
            const int n = (int8_t)(uint8_t)((uint32_t)s & 0xFFu);
            if (n >= 0) return mtvm_e_shl(x, n);
            if (n < -32) return 0;
            return (int32_t)(((int64_t)x + ((int64_t)1 << (-n - 1))) >> -n);
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_rdbpot(mtvm_i32x4 x, mtvm_i32x4 neg) {
            int i;
            for (i = 0; i < 4; ++i) {
                const int32_t fix = (x.lane[i] >> 31) & (neg.lane[i] >> 31);
                x.lane[i] = mtvm_e_rshl(mtvm_e_qadd(x.lane[i], fix), neg.lane[i]);
            }
            return x;
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_rdbpot_nonzero(mtvm_i32x4 x, mtvm_i32x4 neg) {
            int i;
            for (i = 0; i < 4; ++i) x.lane[i] = mtvm_e_rshl(mtvm_e_qadd(x.lane[i], x.lane[i] >> 31), neg.lane[i]);
            return x;
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_clamp(mtvm_i32x4 x, int32_t lo, int32_t hi) {
            int i;
            for (i = 0; i < 4; ++i) x.lane[i] = x.lane[i] < lo ? lo : x.lane[i] > hi ? hi : x.lane[i];
            return x;
        }
        MTVM_VFN void mtvm_v_st_s8(int8_t* p, mtvm_i32x4 v) { int i; for (i = 0; i < 4; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)v.lane[i] & 0xFFu); }
        MTVM_VFN void mtvm_v_st_s8_n(int8_t* p, mtvm_i32x4 v, int n) { int i; for (i = 0; i < 4 && i < n; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)v.lane[i] & 0xFFu); }
        #endif
        /* TFLite's MultiplyByQuantizedMultiplier per lane: x * 2^left, doubling high multiply, divide by 2^right with
           neg = -right (per channel: left = max(shift, 0), right = max(-shift, 0)). */
        MTVM_VFN mtvm_i32x4 mtvm_v_requantize(mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg) {
            return mtvm_v_rdbpot(mtvm_v_srdhm(mtvm_v_shl(x, left), multiplier), neg);
        }
        /* mtvm_v_requantize plus the output zero point, clamped to [lo, hi]. What the compiler knows of the shifts saves
           instructions: has_left = 0 when no channel shifts left; right = 0 when none shifts right, 1 when every channel
           does, 2 when some do. */
        MTVM_VFN mtvm_i32x4 mtvm_v_requantize_clamp(mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg,
                                                         int has_left, int right, int32_t offset, int32_t lo, int32_t hi) {
            if (has_left) x = mtvm_v_shl(x, left);
            x = mtvm_v_srdhm(x, multiplier);
            if (right == 1) x = mtvm_v_rdbpot_nonzero(x, neg);
            else if (right == 2) x = mtvm_v_rdbpot(x, neg);
            return mtvm_v_clamp(mtvm_v_add(x, mtvm_v_dup(offset)), lo, hi);
        }
        /* Four int32 lanes requantized as mtvm_v_requantize_clamp, stored as bytes: the first n lanes (4: all, unpredicated). */
        MTVM_VFN void mtvm_v_requantize_store(int8_t* out, mtvm_i32x4 x, mtvm_i32x4 multiplier, mtvm_i32x4 left, mtvm_i32x4 neg,
                                                   int has_left, int right, int32_t offset, int32_t lo, int32_t hi, int n) {
            x = mtvm_v_requantize_clamp(x, multiplier, left, neg, has_left, right, offset, lo, hi);
            if (n >= 4) mtvm_v_st_s8(out, x); else mtvm_v_st_s8_n(out, x, n);
        }
        """;

    /// <summary>The matrix product (VMLADAVA over blocks of 4 filter rows and 1 or 2 columns) and the depthwise int16 lanes
    /// (VMULLB/VMULLT, VMOVNT) of the convolution kernels (support name "mve", needs "mve_vector").</summary>
    public const string Helium = """
        #if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
        /* The matrix product of two pixels: acc[0][c] and acc[1][c] = bias[c] + filter row c times the columns xa, xb, for
           all 4 * blocks channels. Each column is `pieces` pieces (xa[r], xb[r]) of `full` 16-byte steps and then `tail`
           (0..15) more bytes, read by tail-predicated loads (nothing past a piece is touched). The filter is re-laid at compile
           time as [block of 4 rows][piece][step][4 rows][16 bytes], zero weights past each piece's tail, so one step's four
           weight vectors are consecutive. VMLADAVA adds 16 int8 products to a 32-bit sum; its accumulators must be even core
           registers, so the steps are assembly (gcc 12 spills eight of them otherwise) inside a function of their own,
           where all eight are free (and VPR, which the tail's VCTP sets, is the caller's to save). */
        __attribute__((noinline, unused)) static void mtvm_vgemm_2xn(const int8_t* const* xa, const int8_t* const* xb, int pieces, int full, int tail,
                                                                  const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0, int32_t* acc1) {
            int blk, r;
            for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4, acc1 += 4) {
                int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3], b0 = a0, b1 = a1, b2 = a2, b3 = a3;
                for (r = 0; r < pieces; ++r) {
                    const int8_t* x = xa[r];
                    const int8_t* y = xb[r];
                    if (full > 0) {
                        int n = full;
                        __asm__ volatile(
                            "1:\n\t"
                            "vldrb.8 q0, [%[x]], #16\n\t"
                            "vldrb.8 q1, [%[y]], #16\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a0], q0, q2\n\t"
                            "vmladava.s8 %[b0], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a1], q0, q2\n\t"
                            "vmladava.s8 %[b1], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a2], q0, q2\n\t"
                            "vmladava.s8 %[b2], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a3], q0, q2\n\t"
                            "vmladava.s8 %[b3], q1, q2\n\t"
                            "subs %[n], %[n], #1\n\t"
                            "bne 1b"
                            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [b0] "+Te"(b0), [b1] "+Te"(b1), [b2] "+Te"(b2), [b3] "+Te"(b3),
                              [x] "+r"(x), [y] "+r"(y), [w] "+r"(w), [n] "+r"(n)
                            : : "q0", "q1", "q2", "memory", "cc");
                    }
                    if (tail > 0) {
                        __asm__ volatile(
                            "vctp.8 %[t]\n\t"
                            "vpstt\n\t"
                            "vldrbt.8 q0, [%[x]]\n\t"
                            "vldrbt.8 q1, [%[y]]\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a0], q0, q2\n\t"
                            "vmladava.s8 %[b0], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a1], q0, q2\n\t"
                            "vmladava.s8 %[b1], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a2], q0, q2\n\t"
                            "vmladava.s8 %[b2], q1, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a3], q0, q2\n\t"
                            "vmladava.s8 %[b3], q1, q2"
                            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [b0] "+Te"(b0), [b1] "+Te"(b1), [b2] "+Te"(b2), [b3] "+Te"(b3),
                              [w] "+r"(w)
                            : [x] "r"(x), [y] "r"(y), [t] "r"(tail)
                            : "q0", "q1", "q2", "memory");
                    }
                }
                acc0[0] = a0; acc0[1] = a1; acc0[2] = a2; acc0[3] = a3;
                acc1[0] = b0; acc1[1] = b1; acc1[2] = b2; acc1[3] = b3;
            }
        }
        /* The same for one pixel. */
        __attribute__((noinline, unused)) static void mtvm_vgemm_1xn(const int8_t* const* xa, int pieces, int full, int tail,
                                                                  const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0) {
            int blk, r;
            for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4) {
                int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
                for (r = 0; r < pieces; ++r) {
                    const int8_t* x = xa[r];
                    if (full > 0) {
                        int n = full;
                        __asm__ volatile(
                            "1:\n\t"
                            "vldrb.8 q0, [%[x]], #16\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a0], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a1], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a2], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a3], q0, q2\n\t"
                            "subs %[n], %[n], #1\n\t"
                            "bne 1b"
                            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [x] "+r"(x), [w] "+r"(w), [n] "+r"(n)
                            : : "q0", "q2", "memory", "cc");
                    }
                    if (tail > 0) {
                        __asm__ volatile(
                            "vctp.8 %[t]\n\t"
                            "vpst\n\t"
                            "vldrbt.8 q0, [%[x]]\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a0], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a1], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a2], q0, q2\n\t"
                            "vldrb.8 q2, [%[w]], #16\n\t"
                            "vmladava.s8 %[a3], q0, q2"
                            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [w] "+r"(w)
                            : [x] "r"(x), [t] "r"(tail)
                            : "q0", "q2", "memory");
                    }
                }
                acc0[0] = a0; acc0[1] = a1; acc0[2] = a2; acc0[3] = a3;
            }
        }
        #else
        /* VMLADAVA.S8 on the first n bytes of x (a tail-predicated load reads the rest as zero). */
        MTVM_VFN int32_t mtvm_e_mladava(int32_t acc, const int8_t* x, const int8_t* k, int n) {
            uint32_t sum = (uint32_t)acc;
            int i;
            for (i = 0; i < n; ++i) sum += (uint32_t)((int32_t)x[i] * k[i]);
            return (int32_t)sum;
        }
        MTVM_VFN void mtvm_vgemm_1xn(const int8_t* const* xa, int pieces, int full, int tail,
                                     const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0) {
            int blk, r, s, j;
            for (blk = 0; blk < blocks; ++blk, bias += 4, acc0 += 4) {
                for (j = 0; j < 4; ++j) acc0[j] = bias[j];
                for (r = 0; r < pieces; ++r)
                    for (s = 0; s < full + (tail > 0); ++s, w += 64)
                        for (j = 0; j < 4; ++j) acc0[j] = mtvm_e_mladava(acc0[j], xa[r] + 16 * s, w + 16 * j, s < full ? 16 : tail);
            }
        }
        MTVM_VFN void mtvm_vgemm_2xn(const int8_t* const* xa, const int8_t* const* xb, int pieces, int full, int tail,
                                     const int8_t* w, const int32_t* bias, int blocks, int32_t* acc0, int32_t* acc1) {
            mtvm_vgemm_1xn(xa, pieces, full, tail, w, bias, blocks, acc0);
            mtvm_vgemm_1xn(xb, pieces, full, tail, w, bias, blocks, acc1);
        }
        #endif
        #if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
        typedef int16x8_t mtvm_i16x8;
        /* 8 bytes sign-extended into int16 lanes (VLDRB.S16); the first n only (tail-predicated, the rest zero) */
        static inline mtvm_i16x8 mtvm_v16_ld_s8(const int8_t* p) { return vldrbq_s16(p); }
        static inline mtvm_i16x8 mtvm_v16_ld_s8_n(const int8_t* p, int n) { return vldrbq_z_s16(p, vctp16q((uint32_t)n)); }
        /* acc + the products of the even (VMULLB) / odd (VMULLT) int16 lanes, widened to int32 */
        static inline mtvm_i32x4 mtvm_v_mla_even(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) { return vaddq_s32(acc, vmullbq_int_s16(a, b)); }
        static inline mtvm_i32x4 mtvm_v_mla_odd(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) { return vaddq_s32(acc, vmulltq_int_s16(a, b)); }
        /* Bytes of the even lanes (channels 0, 2, 4, 6) and odd lanes (1, 3, 5, 7) interleaved into p[0..n-1]: VMOVNT puts the
           odd lanes into the top halves of the even ones, VSTRB.16 stores the 8 halves' low bytes. */
        /* One depthwise tap of 8 channels: even += x[0,2,4,6] * k[ko + 0,2,4,6], odd += x[1,3,5,7] * k[ko + 1,3,5,7] (int16
           lanes widened into int32). Assembly, because gcc 12 reassociates the vector sums of unrolled taps and spills
           every product; ko is a literal (an immediate offset); widening loads take low registers only ("l"). */
        #define MTVM_DW_TAP(even, odd, x, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
            __asm__("vldrb.s16 %q[v], [%[xp]]\n\tvldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvmullb.s16 %q[t], %q[v], %q[f]\n\t" \
                    "vadd.i32 %q[e], %q[e], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o], %q[o], %q[t]" \
                    : [e] "+w"(even), [o] "+w"(odd), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) : [xp] "l"(x), [kp] "l"(k) : "memory"); } while (0)
        /* The same tap for two output pixels whose inputs are d bytes apart (d a literal below 128): one filter load. */
        #define MTVM_DW_TAP2(even0, odd0, even1, odd1, x, d, k, ko) do { int16x8_t v_, f_; int32x4_t t_; \
            __asm__("vldrb.s16 %q[f], [%[kp], #" #ko "]\n\tvldrb.s16 %q[v], [%[xp]]\n\t" \
                    "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e0], %q[e0], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o0], %q[o0], %q[t]\n\t" \
                    "vldrb.s16 %q[v], [%[xp], #" #d "]\n\t" \
                    "vmullb.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[e1], %q[e1], %q[t]\n\tvmullt.s16 %q[t], %q[v], %q[f]\n\tvadd.i32 %q[o1], %q[o1], %q[t]" \
                    : [e0] "+w"(even0), [o0] "+w"(odd0), [e1] "+w"(even1), [o1] "+w"(odd1), [v] "=&w"(v_), [f] "=&w"(f_), [t] "=&w"(t_) \
                    : [xp] "l"(x), [kp] "l"(k) : "memory"); } while (0)
        static inline void mtvm_v_st_s8_interleaved(int8_t* p, mtvm_i32x4 even, mtvm_i32x4 odd, int n) {
            const int16x8_t v = vmovntq_s32(vreinterpretq_s16_s32(even), odd);
            if (n >= 8) vstrbq_s16(p, v); else vstrbq_p_s16(p, v, vctp16q((uint32_t)n));
        }
        #else
        typedef struct { int16_t lane[8]; } mtvm_i16x8;
        MTVM_VFN mtvm_i16x8 mtvm_v16_ld_s8_n(const int8_t* p, int n) { mtvm_i16x8 r; int i; for (i = 0; i < 8; ++i) r.lane[i] = (int16_t)(i < n ? p[i] : 0); return r; }
        MTVM_VFN mtvm_i16x8 mtvm_v16_ld_s8(const int8_t* p) { return mtvm_v16_ld_s8_n(p, 8); }
        MTVM_VFN mtvm_i32x4 mtvm_v_mla_even(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) {
            int i;
            for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)((int32_t)a.lane[2 * i] * b.lane[2 * i]));
            return acc;
        }
        MTVM_VFN mtvm_i32x4 mtvm_v_mla_odd(mtvm_i32x4 acc, mtvm_i16x8 a, mtvm_i16x8 b) {
            int i;
            for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)((int32_t)a.lane[2 * i + 1] * b.lane[2 * i + 1]));
            return acc;
        }
        #define MTVM_DW_TAP(even, odd, x, k, ko) do { const mtvm_i16x8 v_ = mtvm_v16_ld_s8(x), f_ = mtvm_v16_ld_s8((k) + (ko)); \
            (even) = mtvm_v_mla_even((even), v_, f_); (odd) = mtvm_v_mla_odd((odd), v_, f_); } while (0)
        #define MTVM_DW_TAP2(even0, odd0, even1, odd1, x, d, k, ko) do { MTVM_DW_TAP(even0, odd0, (x), k, ko); MTVM_DW_TAP(even1, odd1, (x) + (d), k, ko); } while (0)
        MTVM_VFN void mtvm_v_st_s8_interleaved(int8_t* p, mtvm_i32x4 even, mtvm_i32x4 odd, int n) {
            int i;
            for (i = 0; i < n && i < 8; ++i) p[i] = (int8_t)(uint8_t)((uint32_t)(i % 2 ? odd.lane[i / 2] : even.lane[i / 2]) & 0xFFu);
        }
        #endif
        /* The tap of a last, partial group: only the first n channels are read (tail-predicated). */
        #define MTVM_DW_TAP_N(even, odd, x, k, ko, n) do { const mtvm_i16x8 v_ = mtvm_v16_ld_s8_n((x), (n)), f_ = mtvm_v16_ld_s8((k) + (ko)); \
            (even) = mtvm_v_mla_even((even), v_, f_); (odd) = mtvm_v_mla_odd((odd), v_, f_); } while (0)
        """;
}
