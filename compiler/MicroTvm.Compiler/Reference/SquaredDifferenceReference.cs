using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>SQUARED_DIFFERENCE as TFLite Micro computes it, with broadcasting: float32 (a - b)·(a - b); int32 the same,
/// wrapping; int8 and int16 through <see cref="SquaredDifferenceQuantization"/>.</summary>
internal static class SquaredDifferenceReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (a.Type != output.Type || b.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var shape = output.Shape;
        switch (output.Type)
        {
            case ElementType.Float32:
            {
                var (x, y) = (Broadcast.To(values.Floats(a), a.Shape, shape), Broadcast.To(values.Floats(b), b.Shape, shape));
                values.SetFloats(output, Enumerable.Range(0, x.Length).Select(i =>
                {
                    float d = x[i] - y[i];
                    return d * d;
                }).ToArray());
                break;
            }
            case ElementType.Int32:
            {
                var (x, y) = (Broadcast.To(values.Ints(a), a.Shape, shape), Broadcast.To(values.Ints(b), b.Shape, shape));
                values.SetInts(output, Enumerable.Range(0, x.Length).Select(i =>
                {
                    int d = unchecked(x[i] - y[i]);
                    return unchecked(d * d);
                }).ToArray());
                break;
            }
            case ElementType.Int8 or ElementType.Int16:
            {
                var q = SquaredDifferenceQuantization.Derive(a, b, output);
                var (x, y) = (Broadcast.To(values.Ints(a), a.Shape, shape), Broadcast.To(values.Ints(b), b.Shape, shape));
                values.SetInts(output, Enumerable.Range(0, x.Length).Select(i => q.Apply(x[i], y[i])).ToArray());
                break;
            }
            default:
                throw ReferenceErrors.Unsupported(node);
        }
    }
}

/// <summary>
/// Quantized SQUARED_DIFFERENCE (TFLite Micro's squared_difference.cc): both operands centred, shifted left by
/// <see cref="LeftShift"/> (7 for int8, 0 for int16), scaled onto twice the larger input scale (multipliers below
/// one), subtracted and squared in int32 — at most (2^15)² — then scaled by (2·max scale)² / (2^(2·LeftShift) · output
/// scale) (the denominator a float product) and clamped to the type.
/// </summary>
internal sealed record SquaredDifferenceQuantization(
    int Offset1, int Offset2, int OutputOffset, int LeftShift, int Multiplier1, int Shift1, int Multiplier2, int Shift2,
    int OutputMultiplier, int OutputShift, QuantizedRange Range)
{
    public static SquaredDifferenceQuantization Derive(Tensor a, Tensor b, Tensor output)
    {
        var (qa, qb, qo) = (ConvQuantization.Require(a), ConvQuantization.Require(b), ConvQuantization.Require(output));
        int leftShift = output.Type == ElementType.Int8 ? 7 : 0;
        double twiceMaxScale = 2.0 * Math.Max(qa.Scale, qb.Scale);
        float denominator = (1 << (2 * leftShift)) * qo.Scale;
        var (m1, s1) = MultiplierRange.Multiplier(qa.Scale / twiceMaxScale, 0, "input 1 scale / (2 * larger input scale)", a, b);
        var (m2, s2) = MultiplierRange.Multiplier(qb.Scale / twiceMaxScale, 0, "input 2 scale / (2 * larger input scale)", a, b);
        var (mo, so) = MultiplierRange.Multiplier(twiceMaxScale * twiceMaxScale / denominator, MultiplierRange.MaxShift,
            $"(2 * larger input scale)^2 / (2^{2 * leftShift} * output scale)", a, b, output);
        return new SquaredDifferenceQuantization(-qa.ZeroPoint, -qb.ZeroPoint, qo.ZeroPoint, leftShift, m1, s1, m2, s2, mo, so,
            QuantizedRange.Of(output.Type));
    }

    public int Apply(int x, int y)
    {
        int scaled1 = FixedPoint.MultiplyByQuantizedMultiplier((x + Offset1) * (1 << LeftShift), Multiplier1, Shift1);
        int scaled2 = FixedPoint.MultiplyByQuantizedMultiplier((y + Offset2) * (1 << LeftShift), Multiplier2, Shift2);
        int difference = scaled1 - scaled2;
        return Range.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(difference * difference, OutputMultiplier, OutputShift) + OutputOffset);
    }
}
