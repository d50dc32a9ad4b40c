using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// An int8 ADD or SUB of two same-shape tensors as one affine form per element, for the DSP extension:
/// out = clamp((C + SMLAW(A, a·La) + SMLAW(B, b·Lb)) &gt;&gt; Shift), where SMLAW(A, x) = (A·x) &gt;&gt; 16 takes the
/// 32-bit A and the int16 lane x (the byte sign-extended by SXTB16, La = 1, or masked into the lane's high byte,
/// La = 256, when A would not fit otherwise). TFLite's arithmetic rounds three times, so the form is not exact by
/// construction: its operands are chosen from the real slopes and then proven at compile time on all 65,536 pairs of
/// int8 inputs (the interval of constants C that give TFLite's result for every pair, after the activation clamp,
/// must not be empty, and no sum may leave int32). Null when no candidate passes: the table kernel then runs.
/// </summary>
internal sealed record DspLinearAdd(int Count, int A, int B, bool WideA, bool WideB, int Constant, int Shift, QuantizedRange Activation)
{
    /// <summary>Added to the constant in the packed form: the results' high halves are then out + 128 in [0, 255] for
    /// USAT16, and EOR 0x80 per byte gives the int8 values back.</summary>
    public const int PackedOffset = 128 << 16;

    /// <summary>The results pack two at a time: shift 16 and no clamp inside the int8 range.</summary>
    public bool Packed => Shift == 16 && Activation.Min <= -128 && Activation.Max >= 127;

    /// <summary>Candidates tried per node: shifts below the largest that fits, and the rounded slopes one step either side.</summary>
    private const int Shifts = 4;

    public static DspLinearAdd? For(Node node)
    {
        if (AddTables.For(node, doubled: true) is null) return null;
        bool subtract = node.Kind == OpKind.Sub;
        var activation = node.Attributes is ElementwiseAttributes e ? e.Activation : FusedActivation.None;
        var q = subtract
            ? AddSubQuantization.ForSub(node.Input(0), node.Input(1), node.Output, activation)
            : AddSubQuantization.ForAdd(node.Input(0), node.Input(1), node.Output, activation);
        var expected = new int[65536];
        for (int i = 0; i < 65536; i++) expected[i] = q.Output((sbyte)(i >> 8), (sbyte)i, subtract);

        // The real form TFLite's integers approximate: out ≈ alpha·a + beta·b + gamma (output steps per input step).
        double output = q.OutputMultiplier / 2147483648.0 * Math.Pow(2, q.OutputShift) * (1 << q.LeftShift);
        double alpha = q.Input1Multiplier / 2147483648.0 * Math.Pow(2, q.Input1Shift) * output;
        double beta = (subtract ? -1 : 1) * q.Input2Multiplier / 2147483648.0 * Math.Pow(2, q.Input2Shift) * output;
        double gamma = alpha * q.Input1Offset + beta * q.Input2Offset + q.OutputOffset;
        double largest = (Math.Abs(alpha) + Math.Abs(beta)) * 128 + Math.Abs(gamma) + 2;
        // The sum (about largest·2^k) must stay inside int32 with room for the rounding terms.
        int top = Math.Min(24, 29 - (int)Math.Ceiling(Math.Log2(largest)));
        // A shift of 16 first where the activation leaves the whole int8 range: the results' high halves then pack
        // two at a time (PKHTB, USAT16), one instruction per four elements cheaper.
        bool fullRange = q.Activation.Min <= -128 && q.Activation.Max >= 127;
        var shifts = Enumerable.Range(0, Shifts).Select(i => top - i).Where(k => k >= 8);
        if (fullRange && top >= 16) shifts = shifts.Prepend(16).Distinct();
        foreach (int k in shifts)
        {
            var (a0, wideA) = Slope(alpha, k);
            var (b0, wideB) = Slope(beta, k);
            if (a0 is null || b0 is null) continue;
            foreach (int da in new[] { 0, 1, -1 })
                foreach (int db in new[] { 0, 1, -1 })
                {
                    int a = (int)(a0.Value + da), b = (int)(b0.Value + db);
                    if (Prove(expected, q.Activation, a, wideA, b, wideB, k, k == 16 && fullRange ? PackedOffset : 0) is { } c)
                        return new DspLinearAdd((int)node.Output.ElementCount, a, b, wideA, wideB, c, k, q.Activation);
                }
        }

        return null;
    }

    /// <summary>The 32-bit multiplier for a slope at shift <paramref name="k"/>, with the lane holding the byte
    /// (x1) or the byte times 256 when the multiplier would not fit otherwise; null when neither fits.</summary>
    private static (long? Multiplier, bool Wide) Slope(double slope, int k)
    {
        foreach (bool wide in new[] { false, true })
        {
            double m = Math.Round(slope * Math.Pow(2, 16 + k) / (wide ? 256 : 1));
            if (Math.Abs(m) < (1L << 31) - 2) return ((long)m, wide);
        }

        return (null, false);
    }

    /// <summary>SMLAW of the multiplier with one byte's lane (the instruction's high 32 bits of the 48-bit product).</summary>
    private static long Term(int multiplier, int value, bool wide) => ((long)multiplier * (value * (wide ? 256 : 1))) >> 16;

    /// <summary>A constant C for which the form gives <paramref name="expected"/> for every pair and no sum leaves
    /// int32 (with <paramref name="reserve"/> more added to C), or null.</summary>
    private static int? Prove(int[] expected, QuantizedRange range, int a, bool wideA, int b, bool wideB, int k, long reserve)
    {
        var ta = new long[256];
        var tb = new long[256];
        for (int v = -128; v < 128; v++) (ta[v & 255], tb[v & 255]) = (Term(a, v, wideA), Term(b, v, wideB));
        int lo = Math.Max(range.Min, -128), hi = Math.Min(range.Max, 127);
        long min = long.MinValue, max = long.MaxValue;
        for (int i = 0; i < 65536; i++)
        {
            int o = expected[i];
            long sum = ta[i >> 8] + tb[i & 255];
            // (C + sum) >> k clamped to [lo, hi] must be o: at least o·2^k unless o is the lower clamp, below (o+1)·2^k
            // unless it is the upper one.
            if (o > lo) min = Math.Max(min, ((long)o << k) - sum);
            if (o < hi) max = Math.Min(max, ((long)(o + 1) << k) - 1 - sum);
            if (min > max) return null;
        }

        long c = min == long.MinValue ? (max == long.MaxValue ? 0 : max) : max == long.MaxValue ? min : min + (max - min) / 2;
        if (Math.Abs(c) >= 1L << 31) return null;
        long partial = Math.Abs(c) + ta.Max(Math.Abs);
        long total = partial + tb.Max(Math.Abs);
        return total + reserve < 1L << 31 ? (int)c : null;
    }
}
