using System.Numerics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL as TFLite Micro computes them: float32, int32,
/// int64 and bool by value (IEEE comparisons for float32: NaN is unequal to everything); int8 on a common scale
/// (<see cref="ComparisonQuantization"/>). The output is bool (0 or 1).</summary>
internal static class ComparisonReference
{
    /// <param name="op">The C comparison operator: ==, !=, &lt;, &lt;=, &gt;, &gt;=.</param>
    public static void Evaluate(Node node, TensorValues values, string op)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (output.Type != ElementType.Bool || a.Type != b.Type) throw ReferenceErrors.Unsupported(node);
        var shape = output.Shape;
        int[] result;
        switch (a.Type)
        {
            case ElementType.Float32:
                result = Compare(Broadcast.To(values.Floats(a), a.Shape, shape), Broadcast.To(values.Floats(b), b.Shape, shape), op);
                break;
            case ElementType.Int32 or ElementType.Int64 or ElementType.Bool:
                result = Compare(Broadcast.To(values.Longs(a), a.Shape, shape), Broadcast.To(values.Longs(b), b.Shape, shape), op);
                break;
            case ElementType.Int8:
                var q = ComparisonQuantization.Derive(a, b);
                result = Compare(
                    Broadcast.To(Array.ConvertAll(values.Ints(a), q.ScaleFirst), a.Shape, shape),
                    Broadcast.To(Array.ConvertAll(values.Ints(b), q.ScaleSecond), b.Shape, shape), op);
                break;
            default:
                throw ReferenceErrors.Unsupported(node);
        }

        values.SetInts(output, result);
    }

    private static int[] Compare<T>(T[] x, T[] y, string op) where T : IComparisonOperators<T, T, bool>
    {
        var result = new int[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            bool holds = op switch
            {
                "==" => x[i] == y[i],
                "!=" => x[i] != y[i],
                "<" => x[i] < y[i],
                "<=" => x[i] <= y[i],
                ">" => x[i] > y[i],
                ">=" => x[i] >= y[i],
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            };
            result[i] = holds ? 1 : 0;
        }

        return result;
    }
}

/// <summary>
/// int8 comparisons (TFLite Micro's comparisons.cc): each operand is centred on its zero point, shifted left by
/// <see cref="LeftShift"/> and multiplied by its own scale (as a Q31 multiplier below one), and the results are
/// compared as int32: (x - z)·2^8·scale.
/// </summary>
internal sealed record ComparisonQuantization(int Offset1, int Multiplier1, int Shift1, int Offset2, int Multiplier2, int Shift2)
{
    public const int LeftShift = 8;

    /// <summary>TFLite Micro takes each scale as a multiplier below one (it stops on a scale of 1 or more): MTVM2010.</summary>
    public static ComparisonQuantization Derive(Tensor a, Tensor b)
    {
        var (qa, qb) = (ConvQuantization.Require(a), ConvQuantization.Require(b));
        var (m1, s1) = MultiplierRange.Multiplier(qa.Scale, 0, "input 1 scale (a comparison takes scales below 1)", a);
        var (m2, s2) = MultiplierRange.Multiplier(qb.Scale, 0, "input 2 scale (a comparison takes scales below 1)", b);
        return new ComparisonQuantization(-qa.ZeroPoint, m1, s1, -qb.ZeroPoint, m2, s2);
    }

    public int ScaleFirst(int x) => FixedPoint.MultiplyByQuantizedMultiplier((x + Offset1) * (1 << LeftShift), Multiplier1, Shift1);

    public int ScaleSecond(int x) => FixedPoint.MultiplyByQuantizedMultiplier((x + Offset2) * (1 << LeftShift), Multiplier2, Shift2);
}
