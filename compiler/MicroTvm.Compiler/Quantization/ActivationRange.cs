using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>An inclusive clamp range of quantized output values.</summary>
public readonly record struct QuantizedRange(int Min, int Max)
{
    public int Clamp(int value) => Math.Min(Math.Max(value, Min), Max);

    /// <summary>The full range of an integer element type.</summary>
    public static QuantizedRange Of(ElementType type) => type switch
    {
        ElementType.Int8 => new(sbyte.MinValue, sbyte.MaxValue),
        ElementType.UInt8 => new(byte.MinValue, byte.MaxValue),
        ElementType.Int16 => new(short.MinValue, short.MaxValue),
        ElementType.Int32 => new(int.MinValue, int.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an integer element type"),
    };
}

/// <summary>An inclusive clamp range of float output values.</summary>
public readonly record struct FloatRange(float Min, float Max)
{
    /// <summary>min(max(x, Min), Max), as TFLite's ActivationFunctionWithMinMax.</summary>
    public float Clamp(float value) => Math.Min(Math.Max(value, Min), Max);
}

/// <summary>
/// The output clamp a fused activation implies. For quantized outputs the bounds 0, 6, ±1 are quantized with the
/// output's float32 scale (float division, then rounding half away from zero) and intersected with the type's range.
/// </summary>
public static class ActivationRange
{
    public static QuantizedRange Quantized(FusedActivation activation, Tensor output)
    {
        var full = QuantizedRange.Of(output.Type);
        var q = ConvQuantization.Require(output);
        float scale = q.Scale;
        int zeroPoint = q.ZeroPoint;
        // The float-to-int conversion saturates (as the Cortex-M's VCVT does; a C cast of an out-of-range float is
        // undefined): with a tiny scale, 6 / scale is far above every int and the bound is the type's maximum.
        int Quantize(float value)
        {
            float rounded = MathF.Round(value / scale, MidpointRounding.AwayFromZero);
            long integer = float.IsNaN(rounded) ? 0 : rounded >= 2147483648f ? int.MaxValue : rounded <= -2147483648f ? int.MinValue : (long)rounded;
            return (int)Math.Clamp(zeroPoint + integer, int.MinValue, int.MaxValue);
        }

        return activation switch
        {
            FusedActivation.None => full,
            FusedActivation.Relu => new(Math.Max(full.Min, Quantize(0f)), full.Max),
            FusedActivation.Relu6 => new(Math.Max(full.Min, Quantize(0f)), Math.Min(full.Max, Quantize(6f))),
            FusedActivation.ReluN1To1 => new(Math.Max(full.Min, Quantize(-1f)), Math.Min(full.Max, Quantize(1f))),
            _ => throw Unsupported(activation),
        };
    }

    /// <summary>The clamp of a fused activation on an int32 (not quantized) output, as TFLite's CalculateActivationRange.</summary>
    public static QuantizedRange Int32(FusedActivation activation) => activation switch
    {
        FusedActivation.None => QuantizedRange.Of(ElementType.Int32),
        FusedActivation.Relu => new(0, int.MaxValue),
        FusedActivation.Relu6 => new(0, 6),
        FusedActivation.ReluN1To1 => new(-1, 1),
        _ => throw Unsupported(activation),
    };

    public static FloatRange Float(FusedActivation activation) => activation switch
    {
        FusedActivation.None => new(float.MinValue, float.MaxValue),
        FusedActivation.Relu => new(0f, float.MaxValue),
        FusedActivation.Relu6 => new(0f, 6f),
        FusedActivation.ReluN1To1 => new(-1f, 1f),
        _ => throw Unsupported(activation),
    };

    private static CompilerException Unsupported(FusedActivation activation) =>
        new(ErrorCodes.UnsupportedOperatorType, $"fused activation {activation} is not supported (supported: None, Relu, ReluN1To1, Relu6)");
}
