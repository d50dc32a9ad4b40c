using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Requantization of quantized ADD and SUB (int8 and int16): both operands are offset by their zero points,
/// shifted left by <see cref="LeftShift"/> (20 for int8, 15 for int16), scaled by their own multipliers onto a
/// common scale (twice the larger input scale), combined, and scaled by the output multiplier:
/// out = clamp(MBQM(MBQM(a·2^L, M1, S1) ± MBQM(b·2^L, M2, S2), Mo, So) + OutputOffset).
/// </summary>
public sealed record AddSubQuantization(
    int Input1Offset, int Input2Offset, int OutputOffset, int LeftShift,
    int Input1Multiplier, int Input1Shift, int Input2Multiplier, int Input2Shift,
    int OutputMultiplier, int OutputShift, QuantizedRange Activation)
{
    /// <summary>ADD: TFLite Micro derives the real multipliers in double precision.</summary>
    public static AddSubQuantization ForAdd(Tensor input1, Tensor input2, Tensor output, FusedActivation activation)
    {
        var (q1, q2, qo) = (ConvQuantization.Require(input1), ConvQuantization.Require(input2), ConvQuantization.Require(output));
        int leftShift = LeftShiftFor(output);
        double twiceMaxInputScale = 2 * (double)Math.Max(q1.Scale, q2.Scale);
        double real1 = q1.Scale / twiceMaxInputScale;
        double real2 = q2.Scale / twiceMaxInputScale;
        double realOutput = twiceMaxInputScale / ((1 << leftShift) * (double)qo.Scale);
        return Create(input1, input2, output, leftShift, real1, real2, realOutput, activation);
    }

    /// <summary>SUB: TFLite Micro derives the same quantities in single precision, widening only the final ratios.</summary>
    public static AddSubQuantization ForSub(Tensor input1, Tensor input2, Tensor output, FusedActivation activation)
    {
        var (q1, q2, qo) = (ConvQuantization.Require(input1), ConvQuantization.Require(input2), ConvQuantization.Require(output));
        int leftShift = LeftShiftFor(output);
        float twiceMaxInputScale = 2 * Math.Max(q1.Scale, q2.Scale);
        double real1 = q1.Scale / twiceMaxInputScale;
        double real2 = q2.Scale / twiceMaxInputScale;
        double realOutput = twiceMaxInputScale / ((1 << leftShift) * qo.Scale);
        return Create(input1, input2, output, leftShift, real1, real2, realOutput, activation);
    }

    /// <summary>TFLite's result for the stored values <paramref name="x1"/> and <paramref name="x2"/>, clamped to the activation range.</summary>
    public int Output(int x1, int x2, bool subtract)
    {
        int scaled1 = FixedPoint.MultiplyByQuantizedMultiplier((x1 + Input1Offset) * (1 << LeftShift), Input1Multiplier, Input1Shift);
        int scaled2 = FixedPoint.MultiplyByQuantizedMultiplier((x2 + Input2Offset) * (1 << LeftShift), Input2Multiplier, Input2Shift);
        int raw = subtract ? scaled1 - scaled2 : scaled1 + scaled2;
        return Activation.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(raw, OutputMultiplier, OutputShift) + OutputOffset);
    }

    private static int LeftShiftFor(Tensor output) => output.Type == ElementType.Int16 ? 15 : 20;

    private static AddSubQuantization Create(
        Tensor input1, Tensor input2, Tensor output, int leftShift,
        double real1, double real2, double realOutput, FusedActivation activation)
    {
        var (q1, q2, qo) = (input1.Quantization!, input2.Quantization!, output.Quantization!);
        const int max = MultiplierRange.MaxShift;
        var (m1, s1) = MultiplierRange.Multiplier(real1, max, "input 1 scale / (2 * larger input scale)", input1, input2);
        var (m2, s2) = MultiplierRange.Multiplier(real2, max, "input 2 scale / (2 * larger input scale)", input1, input2);
        var (mo, so) = MultiplierRange.Multiplier(realOutput, max, $"2 * larger input scale / (2^{leftShift} * output scale)", input1, input2, output);
        return new AddSubQuantization(-q1.ZeroPoint, -q2.ZeroPoint, qo.ZeroPoint, leftShift, m1, s1, m2, s2, mo, so,
            ActivationRange.Quantized(activation, output));
    }
}

/// <summary>
/// Requantization of quantized MUL: out = clamp(MBQM((a + Input1Offset)·(b + Input2Offset), Multiplier, Shift) + OutputOffset),
/// with the real multiplier input1_scale·input2_scale/output_scale computed in double.
/// </summary>
public sealed record MulQuantization(int Input1Offset, int Input2Offset, int OutputOffset, int OutputMultiplier, int OutputShift, QuantizedRange Activation)
{
    public static MulQuantization Derive(Tensor input1, Tensor input2, Tensor output, FusedActivation activation)
    {
        var (q1, q2, qo) = (ConvQuantization.Require(input1), ConvQuantization.Require(input2), ConvQuantization.Require(output));
        double real = (double)q1.Scale * q2.Scale / qo.Scale;
        var (m, s) = MultiplierRange.Multiplier(real, MultiplierRange.MaxShift, "input 1 scale * input 2 scale / output scale", input1, input2, output);
        return new MulQuantization(-q1.ZeroPoint, -q2.ZeroPoint, qo.ZeroPoint, m, s, ActivationRange.Quantized(activation, output));
    }
}
