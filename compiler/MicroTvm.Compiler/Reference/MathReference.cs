using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The element-wise math operators as TFLite Micro computes them. float32: TFLM calls std::exp, std::log, std::sqrt,
/// std::sin, std::cos, std::floor, std::ceil, std::expm1 (ELU); here they are <see cref="FloatMath"/>'s, which the generated C
/// computes bit for bit (within an ulp of glibc; sqrt, floor and ceil exact). RSQRT is 1 / sqrt(x), SQUARE x * x,
/// ROUND ties to even. int8: <see cref="RsqrtQuantization"/> and <see cref="EluQuantization"/>.
/// </summary>
internal static class MathReference
{
    /// <summary>The float32 function of each operator.</summary>
    public static Func<float, float> FloatFunction(OpKind kind) =>
        kind == OpKind.Exp ? FloatMath.Exp
        : kind == OpKind.Log ? FloatMath.Log
        : kind == OpKind.Sqrt ? FloatMath.Sqrt
        : kind == OpKind.Rsqrt ? x => 1.0f / FloatMath.Sqrt(x)
        : kind == OpKind.Square ? x => x * x
        : kind == OpKind.Sin ? FloatMath.Sin
        : kind == OpKind.Cos ? FloatMath.Cos
        : kind == OpKind.Floor ? FloatMath.Floor
        : kind == OpKind.Ceil ? FloatMath.Ceil
        : kind == OpKind.Round ? FloatMath.RoundHalfEven
        : kind == OpKind.Elu ? x => x < 0.0f ? FloatMath.Expm1(x) : x
        : throw new ArgumentOutOfRangeException(nameof(kind), kind.Name, "not an element-wise math operator");

    public static void Evaluate(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        if (input.Type == ElementType.Float32)
        {
            var f = FloatFunction(node.Kind);
            values.SetFloats(output, Array.ConvertAll(values.Floats(input), x => f(x)));
            return;
        }

        Func<int, int> int8 = input.Type != ElementType.Int8 ? throw ReferenceErrors.Unsupported(node)
            : node.Kind == OpKind.Rsqrt ? RsqrtQuantization.Derive(input, output).Apply
            : node.Kind == OpKind.Elu ? EluQuantization.Derive(input, output).Apply
            : throw ReferenceErrors.Unsupported(node);
        values.SetInts(output, Array.ConvertAll(values.Ints(input), x => int8(x)));
    }
}

/// <summary>
/// RSQRT int8 as TFLM's elementwise.cc: for v = x - InputZeroPoint, 1/sqrt(v) as a multiplier and shift
/// (<see cref="InverseSqrt"/>), applied to 1 with 20 extra bits, then scaled by 1 / (sqrt(input scale) * output scale)
/// (sqrt and product in float, the reciprocal in double) with the 20 bits taken back; v = 0 gives 127. TFLM refuses a
/// negative v when it runs; this arithmetic treats it as 1.
/// </summary>
internal sealed record RsqrtQuantization(int InputZeroPoint, int OutputZeroPoint, int Multiplier, int Shift)
{
    private const int ExtraBits = 20;

    public static RsqrtQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        var (m, s) = MultiplierRange.Multiplier(1.0 / (double)(MathF.Sqrt(qi.Scale) * qo.Scale), MultiplierRange.MaxShift, "1 / (sqrt(input scale) * output scale)", input, output);
        return new RsqrtQuantization(qi.ZeroPoint, qo.ZeroPoint, m, s);
    }

    public int Apply(int x)
    {
        int v = x - InputZeroPoint;
        if (v == 0) return sbyte.MaxValue;
        var (inverse, shift) = InverseSqrt.Of(v);
        int scaled = FixedPoint.MultiplyByQuantizedMultiplier(1, inverse, shift + ExtraBits);
        return QuantizedRange.Of(ElementType.Int8).Clamp(FixedPoint.MultiplyByQuantizedMultiplier(scaled, Multiplier, Shift - ExtraBits) + OutputZeroPoint);
    }
}

/// <summary>
/// ELU int8 as TFLM's elu.cc tabulates it: the input dequantized in float, exp(x) - 1 below 0 (float exp, not expm1),
/// times 1 / output scale (in float), rounded half away from zero, plus the output zero point, clamped.
/// </summary>
internal sealed record EluQuantization(float InputScale, int InputZeroPoint, float InverseOutputScale, int OutputZeroPoint)
{
    public static EluQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        return new EluQuantization(qi.Scale, qi.ZeroPoint, 1.0f / qo.Scale, qo.ZeroPoint);
    }

    public int Apply(int x)
    {
        float value = InputScale * (x - InputZeroPoint);
        float transformed = value < 0.0f ? FloatMath.Exp(value) - 1.0f : value;
        float rescaled = MathF.Round(transformed * InverseOutputScale, MidpointRounding.AwayFromZero);
        float shifted = rescaled + OutputZeroPoint;
        int quantized = float.IsNaN(shifted) || shifted >= 2147483648.0f || shifted < -2147483648.0f ? int.MinValue : (int)shifted;
        return QuantizedRange.Of(ElementType.Int8).Clamp(quantized);
    }
}
