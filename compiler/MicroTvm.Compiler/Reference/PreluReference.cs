using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>PRELU as TFLite Micro computes it, with broadcasting: float32 x ≥ 0 ? x : x·alpha; int8 and int16
/// through <see cref="PreluQuantization"/>.</summary>
internal static class PreluReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (input, alpha, output) = (node.Input(0), node.Input(1), node.Output);
        var shape = output.Shape;
        if (output.Type == ElementType.Float32 && input.Type == ElementType.Float32 && alpha.Type == ElementType.Float32)
        {
            var (x, a) = (Broadcast.To(values.Floats(input), input.Shape, shape), Broadcast.To(values.Floats(alpha), alpha.Shape, shape));
            values.SetFloats(output, Enumerable.Range(0, x.Length).Select(i => x[i] >= 0f ? x[i] : x[i] * a[i]).ToArray());
            return;
        }

        if (output.Type is not (ElementType.Int8 or ElementType.Int16) || input.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var q = PreluQuantization.Derive(input, alpha, output);
        var (xi, ai) = (Broadcast.To(values.Ints(input), input.Shape, shape), Broadcast.To(values.Ints(alpha), alpha.Shape, shape));
        values.SetInts(output, Enumerable.Range(0, xi.Length).Select(i => q.Apply(xi[i], ai[i])).ToArray());
    }
}

/// <summary>
/// Quantized PRELU (TFLite Micro's prelu_common.cc): the centred input, when non-negative, scaled by
/// input scale / output scale; when negative, multiplied by the centred alpha and scaled by
/// input scale · alpha scale / output scale (both ratios in double); then the output zero point, clamped to the type.
/// </summary>
internal sealed record PreluQuantization(int InputOffset, int AlphaOffset, int OutputOffset, int Multiplier1, int Shift1, int Multiplier2, int Shift2, QuantizedRange Range)
{
    public static PreluQuantization Derive(Tensor input, Tensor alpha, Tensor output)
    {
        var (qi, qa, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(alpha), ConvQuantization.Require(output));
        var (m1, s1) = MultiplierRange.Multiplier((double)qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        var (m2, s2) = MultiplierRange.Multiplier((double)qi.Scale * qa.Scale / qo.Scale, MultiplierRange.MaxShift,
            "input scale * alpha scale / output scale", input, alpha, output);
        return new PreluQuantization(-qi.ZeroPoint, -qa.ZeroPoint, qo.ZeroPoint, m1, s1, m2, s2, QuantizedRange.Of(output.Type));
    }

    public int Apply(int x, int alpha)
    {
        int centred = x + InputOffset;
        int scaled = centred >= 0
            ? FixedPoint.MultiplyByQuantizedMultiplier(centred, Multiplier1, Shift1)
            : FixedPoint.MultiplyByQuantizedMultiplier(centred * (alpha + AlphaOffset), Multiplier2, Shift2);
        return Range.Clamp(scaled + OutputOffset);
    }
}
