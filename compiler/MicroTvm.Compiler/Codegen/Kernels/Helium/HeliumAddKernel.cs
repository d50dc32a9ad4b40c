using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// <see cref="AddTables"/> on Helium (MVE), four int32 lanes per step: two widening byte loads (VLDRB.U32), two
/// gathers from the tables (VLDRW.U32 with the bytes as word offsets), VADD, then K + SRDHM(sum, M) in one
/// VQRDMLASH, the sign correction (VSHR #31, VADD), the right shift (VSHL by a negative register), VMAX/VMIN to the
/// activation range and a narrowing store (VSTRB.32, mtvm_v_st_s8 of CHelpers/mtvm_mve.h); a tail of 1..3 elements is one predicated step.
/// </summary>
internal sealed class HeliumAddKernel : TargetKernel
{
    private readonly BinaryElementwiseKernel _portable = new();

    public override bool Handles(Node node, TargetDescription target) => target.HasMve && AddTables.For(node, doubled: false) is not null;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    /// <summary>Each group of elements is read before its results are stored, and both inputs have the output's
    /// shape and type (<see cref="AddTables.For"/>): the output may take either input's bytes.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var p = AddTables.For(c.Node, doubled: false)!;
        var (t1, t2) = p.Emit(c, "");
        c.Support.Use("mtvm_mve_add");
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
}
