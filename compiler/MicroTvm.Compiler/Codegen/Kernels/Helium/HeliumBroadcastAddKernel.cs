using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// Broadcasting int8 ADD/SUB on Helium (MVE): the tables and folded requantization of <see cref="AddTables"/> (as
/// <see cref="HeliumAddKernel"/>, which takes same-shape operands), over the merged dimensions of
/// <see cref="BroadcastLoops"/>: loops over the outer dimensions, and along the innermost one four lanes per step,
/// both inputs gathered from their tables where both run along it, else the running input gathered and the broadcast
/// input's entry (one per row) added to every lane (mtvm_mve_add_bcast.h); a tail of 1..3 lanes is predicated.
/// </summary>
internal sealed class HeliumBroadcastAddKernel : TargetKernel
{
    private readonly BinaryElementwiseKernel _portable = new();

    public override bool Handles(Node node, TargetDescription target) =>
        target.HasMve && AddTables.For(node, doubled: false, broadcast: true) is not null && Runs(BroadcastLoops.For(node));

    /// <summary>Whether an input runs along the innermost merged dimension (so a broadcast input's entry is one per row).</summary>
    private static bool Runs(BroadcastLoops loops) => loops.Stride(0, loops.Dims.Count - 1) != 0 || loops.Stride(1, loops.Dims.Count - 1) != 0;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    public override void Emit(EmitContext c)
    {
        var p = AddTables.For(c.Node, doubled: false, broadcast: true)!;
        var (t1, t2) = p.Emit(c, "");
        var loops = BroadcastLoops.For(c.Node);
        c.Support.Use("mtvm_mve_add_bcast");
        var body = c.Body;
        int inner = loops.Dims.Count - 1, n = loops.Dims[inner];
        bool aRuns = loops.Stride(0, inner) != 0, bRuns = loops.Stride(1, inner) != 0;
        body.Line($"const mtvm_i32x4 m = mtvm_v_dup({p.Multiplier}), lo = mtvm_v_dup({Math.Max(p.Activation.Min, -128)}), hi = mtvm_v_dup({Math.Min(p.Activation.Max, 127)});");
        body.Line($"int8_t* o = {c.Output()};");
        var scopes = new Stack<IDisposable>();
        string offA = "0", offB = "0";
        for (int d = 0; d < inner; d++)
        {
            scopes.Push(body.Block($"for (int i{d} = 0; i{d} < {loops.Dims[d]}; ++i{d})"));
            if (loops.Stride(0, d) != 0) offA += $" + (size_t)i{d} * {loops.Stride(0, d)}";
            if (loops.Stride(1, d) != 0) offB += $" + (size_t)i{d} * {loops.Stride(1, d)}";
        }

        body.Line($"const uint8_t* a = (const uint8_t*){c.Input(0)} + ({offA});");
        body.Line($"const uint8_t* b = (const uint8_t*){c.Input(1)} + ({offB});");
        string Sum(string tail) => (aRuns, bRuns) switch
        {
            (true, true) => $"mtvm_add_sum4{(tail == "" ? "" : "_n")}({t1}, {t2}, a, b{tail})",
            (true, false) => $"mtvm_addb_sum4{(tail == "" ? "" : "_n")}({t1}, a, {t2}[b[0]]{tail})",
            _ => $"mtvm_addb_sum4{(tail == "" ? "" : "_n")}({t2}, b, {t1}[a[0]]{tail})",
        };
        string Requantize(string sum) => $"mtvm_add_requantize4({sum}, m, {p.Constant}, {p.Shift}, lo, hi)";
        string advance = (aRuns ? "a += 4; " : "") + (bRuns ? "b += 4; " : "") + "o += 4;";
        if (n >= 4)
        {
            body.Line("int j;");
            using (body.Block($"for (j = 0; j < {n / 4}; ++j)"))
            {
                body.Line($"mtvm_v_st_s8(o, {Requantize(Sum(""))});");
                body.Line(advance);
            }
        }

        if (n % 4 != 0)
        {
            body.Line($"mtvm_v_st_s8_n(o, {Requantize(Sum($", {n % 4}"))}, {n % 4});");
            body.Line($"o += {n % 4};");
        }

        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
