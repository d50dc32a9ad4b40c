namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// The fixed-point arithmetic of TensorFlow Lite's quantized reference kernels, in one place: the compiler folds
/// multipliers with it, the reference evaluator computes with it, and the generated C mirrors it. Every rule here
/// (rounding of the doubling high multiply, round-half-away in the power-of-two divide, how a real multiplier is
/// split) must match TFLite bit for bit.
/// </summary>
public static class FixedPoint
{
    /// <summary>
    /// Splits a positive real multiplier into a Q31 mantissa in [2^30, 2^31) and a power-of-two exponent, so that
    /// real ≈ multiplier * 2^(shift - 31). Zero maps to (0, 0); exponents below -31 flush to zero.
    /// </summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double real)
    {
        if (real == 0.0) return (0, 0);
        int shift = Math.ILogB(real) + 1;                 // frexp: real = q * 2^shift, |q| in [0.5, 1)
        double q = Math.ScaleB(real, -shift);
        long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (qFixed == 1L << 31)
        {
            qFixed /= 2;
            shift++;
        }

        if (shift < -31)
        {
            shift = 0;
            qFixed = 0;
        }

        return ((int)qFixed, shift);
    }

    /// <summary>(a * b * 2) / 2^32 rounded to nearest (gemmlowp's nudge: a positive tie rounds up, a negative tie
    /// toward zero), saturating the one overflow case.</summary>
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == b && a == int.MinValue) return int.MaxValue;
        long ab = (long)a * b;
        long nudge = ab >= 0 ? 1L << 30 : 1 - (1L << 30);
        return (int)((ab + nudge) / (1L << 31));
    }

    /// <summary>x / 2^exponent rounded to nearest, ties away from zero (arithmetic shift plus a correction).</summary>
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>x * multiplier * 2^(shift - 31) with TFLite's double rounding (int32 accumulators).</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int multiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(x * (1 << leftShift)), multiplier), rightShift);
    }

    /// <summary>
    /// The int64-accumulator variant TFLite uses for 16x8 convolutions: the multiplier is reduced to 16 bits and a
    /// single rounding shift is applied.
    /// </summary>
    public static int MultiplyByQuantizedMultiplier(long x, int multiplier, int shift)
    {
        int reducedMultiplier = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
        int totalShift = 15 - shift;
        long round = 1L << (totalShift - 1);
        long result = (x * reducedMultiplier + round) >> totalShift;
        return (int)result;
    }
}
