using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int16 ADD and SUB on Helium (MVE), same shape or broadcasting, with TFLite's int16 arithmetic (the one the reference
/// evaluator uses for every int16 ADD/SUB, power-of-two scales included: <see cref="AddSubQuantization"/>) computed
/// exactly on four int32 lanes per step (mtvm_mve_add16.h): each input widened (VLDRH.S32), shifted left by 15
/// (after its zero point, if any), SRDHM by its multiplier (VQRDMULH) and divided by its power of two rounding half
/// away (VQADD of the sign, VRSHL); the two added or subtracted (VADD/VSUB); the output multiplier likewise (its left
/// shift by VSHL first, wrapping as TFLite's int32 product does), the output zero point added (VADD), clamped
/// (VMAX/VMIN) and narrowed (VSTRH.32). An input whose multiplier is 2^30 with a right shift k ≤ 14 and no zero point
/// (the larger-scale input, and both with power-of-two scales) is exactly x &lt;&lt; (14 - k): one VSHL. Loops over the
/// merged dimensions of <see cref="BroadcastLoops"/>; along the innermost one a broadcast input's entry is scaled once
/// per row (a one-element output: both); a tail of 1..3 lanes is one predicated step. Every parameter range is exact,
/// so the kernel takes every int16 ADD/SUB.
/// </summary>
internal sealed class HeliumAdd16Kernel : TargetKernel
{
    private readonly BinaryElementwiseKernel _portable = new();

    public override bool Handles(Node node, TargetDescription target) =>
        target.HasMve && Arithmetic(node) is not null;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    /// <summary>Each group of four is read before it is stored, so an input of the output's shape may share its bytes.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    /// <summary>The node's quantization when it is an int16 ADD/SUB this kernel takes, else null.</summary>
    private static AddSubQuantization? Arithmetic(Node node)
    {
        if ((node.Kind != OpKind.Add && node.Kind != OpKind.Sub) || node.Inputs.Count != 2) return null;
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        foreach (var t in new[] { a, b, output })
            if (ExpectQuantized(t, "operand", ElementType.Int16) is not null) return null;
        if (BroadcastLoops.Of(output.Shape, a.Shape, b.Shape) is null) return null;
        var activation = node.Attributes is ElementwiseAttributes e ? e.Activation : FusedActivation.None;
        if (ExpectFusedActivation(activation) is not null) return null;
        var q = node.Kind == OpKind.Add ? AddSubQuantization.ForAdd(a, b, output, activation) : AddSubQuantization.ForSub(a, b, output, activation);
        // The input multipliers are below one (each input scale over twice the larger): no input shifts left.
        return q.Input1Shift > 0 || q.Input2Shift > 0 ? null : q;
    }

    /// <summary>MBQM((x + offset) · 2^15, multiplier, shift) of the int32 lanes <paramref name="x"/>, shift ≤ 0.</summary>
    private static string Scale(string x, int offset, int multiplier, int shift)
    {
        if (offset == 0 && multiplier == 1 << 30 && -shift <= 14)
            return 14 + shift == 0 ? x : $"mtvm_a16_shl({x}, {14 + shift})";
        if (offset != 0) x = $"mtvm_a16_add_n({x}, {CLiteral.Int(offset)})";
        x = $"mtvm_a16_srdhm(mtvm_a16_shl({x}, 15), {CLiteral.Int(multiplier)})";
        return shift < 0 ? $"mtvm_a16_rdbpot({x}, {shift})" : x;
    }

    /// <summary>MBQM(sum, multiplier, shift) + output zero point, clamped.</summary>
    private static string Requantize(string sum, AddSubQuantization q)
    {
        string v = q.OutputShift > 0 ? $"mtvm_a16_shl({sum}, {q.OutputShift})" : sum;
        v = $"mtvm_a16_srdhm({v}, {CLiteral.Int(q.OutputMultiplier)})";
        if (q.OutputShift < 0) v = $"mtvm_a16_rdbpot({v}, {q.OutputShift})";
        if (q.OutputOffset != 0) v = $"mtvm_a16_add_n({v}, {CLiteral.Int(q.OutputOffset)})";
        return $"mtvm_a16_clamp({v}, lo, hi)";
    }

    public override void Emit(EmitContext c)
    {
        var q = Arithmetic(c.Node)!;
        var loops = BroadcastLoops.For(c.Node);
        c.Support.Use("mtvm_mve_add16");
        var body = c.Body;
        int inner = loops.Dims.Count - 1, n = loops.Dims[inner];
        bool aRuns = loops.Stride(0, inner) != 0, bRuns = loops.Stride(1, inner) != 0;
        string combine = c.Node.Kind == OpKind.Add ? "mtvm_a16_add" : "mtvm_a16_sub";
        body.Line($"const mtvm_i32x4 lo = mtvm_v_dup({CLiteral.Int(Math.Max(q.Activation.Min, short.MinValue))}), hi = mtvm_v_dup({CLiteral.Int(Math.Min(q.Activation.Max, short.MaxValue))});");
        body.Line($"int16_t* o = (int16_t*){c.Output()};");
        var scopes = new Stack<IDisposable>();
        string offA = "0", offB = "0";
        for (int d = 0; d < inner; d++)
        {
            scopes.Push(body.Block($"for (int i{d} = 0; i{d} < {loops.Dims[d]}; ++i{d})"));
            if (loops.Stride(0, d) != 0) offA += $" + (size_t)i{d} * {loops.Stride(0, d)}";
            if (loops.Stride(1, d) != 0) offB += $" + (size_t)i{d} * {loops.Stride(1, d)}";
        }

        body.Line($"const int16_t* a = (const int16_t*){c.Input(0)} + ({offA});");
        body.Line($"const int16_t* b = (const int16_t*){c.Input(1)} + ({offB});");
        // A broadcast input's entry is the same in every lane of the row: scaled once.
        string ScaleA(string x) => Scale(x, q.Input1Offset, q.Input1Multiplier, q.Input1Shift);
        string ScaleB(string x) => Scale(x, q.Input2Offset, q.Input2Multiplier, q.Input2Shift);
        if (!aRuns) body.Line($"const mtvm_i32x4 sa = {ScaleA("mtvm_v_dup(a[0])")};");
        if (!bRuns) body.Line($"const mtvm_i32x4 sb = {ScaleB("mtvm_v_dup(b[0])")};");
        string Step(string tail)
        {
            string x = aRuns ? ScaleA($"mtvm_a16_ld{(tail == "" ? "(a" : "_n(a")}{tail})") : "sa";
            string y = bRuns ? ScaleB($"mtvm_a16_ld{(tail == "" ? "(b" : "_n(b")}{tail})") : "sb";
            return Requantize($"{combine}({x}, {y})", q);
        }

        string advance = (aRuns ? "a += 4; " : "") + (bRuns ? "b += 4; " : "") + "o += 4;";
        if (n >= 4)
        {
            body.Line("int j;");
            using (body.Block($"for (j = 0; j < {n / 4}; ++j)"))
            {
                body.Line($"mtvm_a16_st(o, {Step("")});");
                body.Line(advance);
            }
        }

        if (n % 4 != 0)
        {
            body.Line($"mtvm_a16_st_n(o, {Step($", {n % 4}")}, {n % 4});");
            if (inner > 0) body.Line($"o += {n % 4};");
        }

        while (scopes.Count > 0) scopes.Pop().Dispose();
    }
}
