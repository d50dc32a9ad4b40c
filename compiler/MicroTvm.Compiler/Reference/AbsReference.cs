using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>ABS as TFLite Micro computes it: fabs for float32; for int8/int16 the magnitude of the centred value,
/// moved to the output's zero point and, when the scales differ, rescaled (<see cref="AbsQuantization"/>).</summary>
internal static class AbsReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        switch (input.Type)
        {
            case ElementType.Float32:
                values.SetFloats(output, Array.ConvertAll(values.Floats(input), MathF.Abs));
                break;
            case ElementType.Int8 or ElementType.Int16:
                var q = AbsQuantization.Derive(input, output);
                var range = QuantizedRange.Of(output.Type);
                values.SetInts(output, Array.ConvertAll(values.Ints(input), x => range.Clamp(q.Apply(x))));
                break;
            default:
                throw ReferenceErrors.Unsupported(node);
        }
    }
}

/// <summary>
/// ABS's integer arithmetic (TFLite Micro's elementwise.cc): y = |x - InputZeroPoint| + OutputZeroPoint when input
/// and output have the same scale, else MBQM(|x - InputZeroPoint|, Multiplier, Shift) + OutputZeroPoint, clamped to
/// the type. The multiplier comes from the scales' ratio computed in float, then widened (not from a double ratio).
/// </summary>
internal sealed record AbsQuantization(int InputZeroPoint, int OutputZeroPoint, bool Rescales, int Multiplier, int Shift)
{
    public static AbsQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        if (qi.Scale == qo.Scale) return new AbsQuantization(qi.ZeroPoint, qo.ZeroPoint, false, 0, 0);
        var (m, s) = MultiplierRange.Multiplier(qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        return new AbsQuantization(qi.ZeroPoint, qo.ZeroPoint, true, m, s);
    }

    /// <summary>The output value before clamping.</summary>
    public int Apply(int x)
    {
        int magnitude = Math.Abs(x - InputZeroPoint);
        return (Rescales ? FixedPoint.MultiplyByQuantizedMultiplier(magnitude, Multiplier, Shift) : magnitude) + OutputZeroPoint;
    }
}
