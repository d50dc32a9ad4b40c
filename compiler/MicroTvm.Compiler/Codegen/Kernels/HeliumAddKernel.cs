using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// <see cref="AddTables"/> on Helium (MVE), four int32 lanes per step: two widening byte loads (VLDRB.U32), two
/// gathers from the tables (VLDRW.U32 with the bytes as word offsets), VADD, then K + SRDHM(sum, M) in one
/// VQRDMLASH, the sign correction (VSHR #31, VADD), the right shift (VSHL by a negative register), VMAX/VMIN to the
/// activation range and a narrowing store (VSTRB.32, mtvm_v_st_s8 of HeliumSupport); a tail of 1..3 elements is one predicated step.
/// </summary>
internal sealed class HeliumAddKernel : TargetKernel
{
    private readonly BinaryElementwiseKernel _portable = new();

    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.Add, OpKind.Sub };

    public override bool Handles(Node node, TargetDescription target) => target.HasMve && AddTables.For(node, doubled: false) is not null;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    public override void Emit(EmitContext c)
    {
        var p = AddTables.For(c.Node, doubled: false)!;
        var (t1, t2) = p.Emit(c, "");
        c.Support.Use("helium_add");
        c.Support.UseMemcpy();
        var body = c.Body;
        body.Line($"const uint8_t* a = (const uint8_t*){c.Input(0)};");
        body.Line($"const uint8_t* b = (const uint8_t*){c.Input(1)};");
        body.Line($"int8_t* o = {c.Output()};");
        body.Line($"const mtvm_i32x4 m = mtvm_v_dup({p.Multiplier}), lo = mtvm_v_dup({Math.Max(p.Activation.Min, -128)}), hi = mtvm_v_dup({Math.Min(p.Activation.Max, 127)});");
        string Requantize(string sum) => $"mtvm_add_requantize4({sum}, m, {p.Constant}, {p.Shift}, lo, hi)";
        if (p.Count >= 4)
        {
            body.Line($"const uint8_t* const end = a + {p.Count / 4 * 4};");
            using (body.Block("while (a != end)"))
            {
                body.Line($"mtvm_v_st_s8(o, {Requantize($"mtvm_add_sum4({t1}, {t2}, a, b)")});");
                body.Line("a += 4; b += 4; o += 4;");
            }
        }

        if (p.Count % 4 != 0)
            body.Line($"mtvm_v_st_s8_n(o, {Requantize($"mtvm_add_sum4_n({t1}, {t2}, a, b, {p.Count % 4})")}, {p.Count % 4});");
    }

    /// <summary>The Helium instructions of the kernel; portable C of the same semantics elsewhere (host tests).
    /// Needs "mve_vector" (<c>mtvm_i32x4</c>, <c>mtvm_v_dup</c>, <c>mtvm_v_st_s8</c>).</summary>
    public const string Support = """
        #if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(MICROTVM_PORTABLE_DSP)
        /* t1[a[i]] + t2[b[i]] for four lanes: widening byte loads, gathers of words at the bytes' offsets */
        static inline mtvm_i32x4 mtvm_add_sum4(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b) {
            return vaddq_s32(vldrwq_gather_shifted_offset_s32(t1, vldrbq_u32(a)), vldrwq_gather_shifted_offset_s32(t2, vldrbq_u32(b)));
        }
        /* the same for the first n (1..3) lanes, the others zero */
        static inline mtvm_i32x4 mtvm_add_sum4_n(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b, int n) {
            const mve_pred16_t p = vctp32q((uint32_t)n);
            return vaddq_s32(vldrwq_gather_shifted_offset_z_s32(t1, vldrbq_z_u32(a, p), p), vldrwq_gather_shifted_offset_z_s32(t2, vldrbq_z_u32(b, p), p));
        }
        /* clamp((k + SRDHM(s, m) - [s < 0]) >> e, lo, hi); VQRDMLASH is k + SRDHM(s, m), saturated (k is chosen so it never is) */
        static inline mtvm_i32x4 mtvm_add_requantize4(mtvm_i32x4 s, mtvm_i32x4 m, int32_t k, int e, mtvm_i32x4 lo, mtvm_i32x4 hi) {
            mtvm_i32x4 v = vqrdmlashq_n_s32(s, m, k);
            if (e > 0) v = vshlq_r_s32(vaddq_s32(v, vshrq_n_s32(s, 31)), -e);
            return vminq_s32(vmaxq_s32(v, lo), hi);
        }
        #else
        static inline mtvm_i32x4 mtvm_add_sum4_n(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b, int n) {
            mtvm_i32x4 r;
            int i;
            for (i = 0; i < 4; ++i) r.lane[i] = i < n ? (int32_t)((uint32_t)t1[a[i]] + (uint32_t)t2[b[i]]) : 0;
            return r;
        }
        static inline mtvm_i32x4 mtvm_add_sum4(const int32_t* t1, const int32_t* t2, const uint8_t* a, const uint8_t* b) { return mtvm_add_sum4_n(t1, t2, a, b, 4); }
        /* VQRDMLASH: saturate((2 s m + k 2^32 + 2^31) / 2^32), i.e. k + floor((s m + 2^30) / 2^31) saturated */
        static inline int32_t mtvm_add_qrdmlash(int32_t s, int32_t m, int32_t k) {
            const int64_t v = (int64_t)k + (((int64_t)s * m + ((int64_t)1 << 30)) >> 31);
            return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
        }
        static inline mtvm_i32x4 mtvm_add_requantize4(mtvm_i32x4 s, mtvm_i32x4 m, int32_t k, int e, mtvm_i32x4 lo, mtvm_i32x4 hi) {
            int i;
            for (i = 0; i < 4; ++i) {
                int32_t v = mtvm_add_qrdmlash(s.lane[i], m.lane[i], k);
                if (e > 0) v = (int32_t)((uint32_t)v + (uint32_t)(s.lane[i] >> 31)) >> e;
                v = v > lo.lane[i] ? v : lo.lane[i];
                s.lane[i] = v < hi.lane[i] ? v : hi.lane[i];
            }
            return s;
        }
        #endif
        """;
}
