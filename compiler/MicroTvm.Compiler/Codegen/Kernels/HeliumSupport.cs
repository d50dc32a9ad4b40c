namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// C helpers of the Helium (MVE, Cortex-M55) kernels (<see cref="HeliumGemmKernel"/>, <see cref="HeliumDepthwiseKernel"/>).
/// With <c>__ARM_FEATURE_MVE</c> they are the &lt;arm_mve.h&gt; intrinsics; everywhere else — the host tests, or with
/// <c>-DMICROTVM_PORTABLE_DSP</c> — the same operations are written in portable C with the exact semantics of the
/// instructions, so the host runs the very kernel logic the target runs.
/// </summary>
internal static class HeliumSupport
{
    /// <summary>Helium (MVE, Cortex-M55): int8 dot products of 16 bytes per VMLADAVA; portable C elsewhere with the
    /// instruction's semantics (sum of 16 int8 products added to a 32-bit accumulator, wrapping).</summary>
    public const string Helium = """
        static inline void mtvm_copy8(const int8_t* src, int8_t* dst, int bytes) { memcpy(dst, src, (size_t)bytes); }
        #if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
        #include <arm_mve.h>
        static inline void mtvm_vdot_2x2(const int8_t* a, const int8_t* b, const int8_t* w0, const int8_t* w1, int n16, int32_t acc[4]) {
            int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
            int k;
            for (k = 0; k < n16; ++k) {
                const int8x16_t xa = vldrbq_s8(a), xb = vldrbq_s8(b), p = vldrbq_s8(w0), q = vldrbq_s8(w1);
                a00 = vmladavaq_s8(a00, xa, p); a10 = vmladavaq_s8(a10, xb, p);
                a01 = vmladavaq_s8(a01, xa, q); a11 = vmladavaq_s8(a11, xb, q);
                a += 16; b += 16; w0 += 16; w1 += 16;
            }
            acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11;
        }
        static inline int32_t mtvm_vdot16(int32_t acc, const int8_t* a, const int8_t* b) { return vmladavaq_s8(acc, vldrbq_s8(a), vldrbq_s8(b)); }
        /* four int32 lanes: widening byte loads, lane-wise multiply-accumulate */
        typedef int32x4_t mtvm_i32x4;
        static inline mtvm_i32x4 mtvm_ld4_s8(const int8_t* p) { return vldrbq_s32(p); }
        static inline mtvm_i32x4 mtvm_ld4_s32(const int32_t* p) { return vldrwq_s32(p); }
        static inline mtvm_i32x4 mtvm_mla4(mtvm_i32x4 acc, mtvm_i32x4 a, mtvm_i32x4 b) { return vaddq_s32(acc, vmulq_s32(a, b)); }
        static inline void mtvm_st4(int32_t* p, mtvm_i32x4 v) { vstrwq_s32(p, v); }
        #else
        typedef struct { int32_t lane[4]; } mtvm_i32x4;
        static inline mtvm_i32x4 mtvm_ld4_s8(const int8_t* p) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
        static inline mtvm_i32x4 mtvm_ld4_s32(const int32_t* p) { mtvm_i32x4 r; int i; for (i = 0; i < 4; ++i) r.lane[i] = p[i]; return r; }
        static inline mtvm_i32x4 mtvm_mla4(mtvm_i32x4 acc, mtvm_i32x4 a, mtvm_i32x4 b) {
            int i;
            for (i = 0; i < 4; ++i) acc.lane[i] = (int32_t)((uint32_t)acc.lane[i] + (uint32_t)a.lane[i] * (uint32_t)b.lane[i]);
            return acc;
        }
        static inline void mtvm_st4(int32_t* p, mtvm_i32x4 v) { int i; for (i = 0; i < 4; ++i) p[i] = v.lane[i]; }
        static inline int32_t mtvm_vdot16(int32_t acc, const int8_t* a, const int8_t* b) {
            uint32_t sum = (uint32_t)acc;
            int i;
            for (i = 0; i < 16; ++i) sum += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
            return (int32_t)sum;
        }
        static inline void mtvm_vdot_2x2(const int8_t* a, const int8_t* b, const int8_t* w0, const int8_t* w1, int n16, int32_t acc[4]) {
            int k;
            for (k = 0; k < n16; ++k) {
                acc[0] = mtvm_vdot16(acc[0], a, w0); acc[2] = mtvm_vdot16(acc[2], b, w0);
                acc[1] = mtvm_vdot16(acc[1], a, w1); acc[3] = mtvm_vdot16(acc[3], b, w1);
                a += 16; b += 16; w0 += 16; w1 += 16;
            }
        }
        #endif
        static inline void mtvm_vdot_1x2(const int8_t* a, const int8_t* w0, const int8_t* w1, int n16, int32_t acc[2]) {
            int k;
            for (k = 0; k < n16; ++k) {
                acc[0] = mtvm_vdot16(acc[0], a, w0); acc[1] = mtvm_vdot16(acc[1], a, w1);
                a += 16; w0 += 16; w1 += 16;
            }
        }
        static inline int32_t mtvm_vdot_1x1(const int8_t* a, const int8_t* w0, int n16, int32_t acc) {
            int k;
            for (k = 0; k < n16; ++k) { acc = mtvm_vdot16(acc, a, w0); a += 16; w0 += 16; }
            return acc;
        }
        """;
}
