using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 ADD and SUB of two same-shape tensors, folded at compile time into two tables and one requantization:
/// TFLite's per-input half of the arithmetic (zero point, left shift of 20, the input's own multiplier and rounding
/// shift) depends on that one int8 value only, so it is a 256-entry int32 table per input, computed with
/// <see cref="FixedPoint"/> from <see cref="AddSubQuantization"/> (SUB stores the second table negated). The tables
/// also carry the output multiplier's left shift (and, for SMMLAR, the doubling), so per element only
/// out = clamp((K + SRDHM(T1[x] + T2[y], M) - [sum &lt; 0]) &gt;&gt; e) remains, where K folds the rounding half of
/// TFLite's RoundingDivideByPOT and the output zero point (the "- 1 for negative sums" turns the shift's
/// round-half-up into round-half-away; a zero product rounded from a negative sum is unaffected). Shapes that
/// broadcast and scales whose values could overflow int32 stay with the portable kernel.
/// </summary>
internal sealed record AddTables(int Count, int[] Table1, int[] Table2, int Multiplier, int Constant, int Shift, QuantizedRange Activation)
{
    /// <summary>The folded form of <paramref name="node"/>, or null when the node is not a same-shape int8 ADD/SUB whose
    /// values stay in int32 (then the portable kernel writes it). <paramref name="doubled"/>: the sum is stored
    /// doubled (SMMLAR multiplies 2s by M and rounds at 2^32, which is SRDHM(s, M) while 2s fits). <paramref name="broadcast"/>:
    /// inputs that broadcast to the output are taken too (the tables do not depend on the shapes).</summary>
    public static AddTables? For(Node node, bool doubled, bool broadcast = false)
    {
        if ((node.Kind != OpKind.Add && node.Kind != OpKind.Sub) || node.Inputs.Count != 2) return null;
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        foreach (var t in new[] { a, b, output })
            if (ExpectQuantized(t, "operand", ElementType.Int8) is not null) return null;
        if (broadcast ? BroadcastLoops.Of(output.Shape, a.Shape, b.Shape) is null : !a.Shape.SequenceEqual(output.Shape) || !b.Shape.SequenceEqual(output.Shape)) return null;
        var activation = node.Attributes is ElementwiseAttributes e ? e.Activation : FusedActivation.None;
        if (ExpectFusedActivation(activation) is not null) return null;

        var q = node.Kind == OpKind.Add ? AddSubQuantization.ForAdd(a, b, output, activation) : AddSubQuantization.ForSub(a, b, output, activation);
        int[] Scaled(int offset, int multiplier, int shift, bool negate) => Enumerable.Range(0, 256).Select(u =>
        {
            int shifted = unchecked((unchecked((sbyte)u) + offset) * (1 << q.LeftShift));
            int scaled = FixedPoint.MultiplyByQuantizedMultiplier(shifted, multiplier, shift);
            return negate ? -scaled : scaled;
        }).ToArray();
        var t1 = Scaled(q.Input1Offset, q.Input1Multiplier, q.Input1Shift, false);
        var t2 = Scaled(q.Input2Offset, q.Input2Multiplier, q.Input2Shift, node.Kind == OpKind.Sub);

        // Exact only while no intermediate wraps: the pre-shifted (and doubled) sum and K + the product stay in int32.
        int pre = Math.Max(q.OutputShift, 0) + (doubled ? 1 : 0);
        int right = Math.Max(-q.OutputShift, 0);
        long sumBound = (t1.Max(v => Math.Abs((long)v)) + t2.Max(v => Math.Abs((long)v))) << pre;
        if (sumBound >= 1L << 31 || q.OutputMultiplier == int.MinValue) return null;
        long constant = (right > 0 ? 1L << (right - 1) : 0) + ((long)q.OutputOffset << right);
        long productBound = (((sumBound >> (doubled ? 1 : 0)) * q.OutputMultiplier) >> 31) + 1;
        if (Math.Abs(constant) + productBound + 1 >= 1L << 31) return null;

        return new AddTables((int)output.ElementCount, t1.Select(v => v << pre).ToArray(), t2.Select(v => v << pre).ToArray(),
            q.OutputMultiplier, (int)constant, right, q.Activation);
    }

    /// <summary>The two tables as constants, indexed by the input byte read as unsigned (the kernels load bytes zero-extended).</summary>
    public (string Table1, string Table2) Emit(EmitContext c, string what)
    {
        string Name(int[] table, int i) => c.Constants.Int32($"{c.Prefix}_table{i}", table,
            $"operator {c.Node.Index} input {i - 1}'s zero point, left shift and multiplier folded per int8 value (index: the byte as unsigned){what}");
        return (Name(Table1, 1), Name(Table2, 2));
    }

    public bool FullRange => Activation.Min <= -128 && Activation.Max >= 127;
}
