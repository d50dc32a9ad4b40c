using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Integer SOFTMAX with int8 input: input differences to the row maximum are scaled by beta·input_scale into Q5.26
/// (<see cref="InputMultiplier"/>, <see cref="InputLeftShift"/>), differences below <see cref="DiffMin"/> contribute
/// nothing (their exponential underflows), exponentials are summed in Q12.19 and normalised by a fixed-point reciprocal.
/// </summary>
public sealed record SoftmaxQuantization(int InputMultiplier, int InputLeftShift, int DiffMin)
{
    /// <summary>Integer bits of the scaled input differences (Q5.26).</summary>
    public const int ScaledDiffIntegerBits = 5;

    /// <summary>Integer bits of the sum of exponentials (Q12.19).</summary>
    public const int AccumulationIntegerBits = 12;

    public static SoftmaxQuantization Derive(Tensor input, float beta)
    {
        var q = ConvQuantization.Require(input);
        double real = Math.Min((double)beta * q.Scale * (1 << (31 - ScaledDiffIntegerBits)), (1L << 31) - 1.0);
        var (multiplier, leftShift) = FixedPoint.QuantizeMultiplier(real);
        int diffMin = -InputRadius(ScaledDiffIntegerBits, leftShift);
        return new SoftmaxQuantization(multiplier, leftShift, diffMin);
    }

    /// <summary>
    /// The largest input magnitude (in input units) whose scaled value still fits the fixed-point format:
    /// floor((2^integerBits - 1) · 2^(31 - integerBits) / 2^leftShift).
    /// </summary>
    public static int InputRadius(int integerBits, int leftShift, int totalSignedBits = 31)
    {
        double maxInputRescaled = 1.0 * ((1 << integerBits) - 1) * (1L << (totalSignedBits - integerBits)) / (1L << leftShift);
        return (int)Math.Floor(maxInputRescaled);
    }
}
