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
        // TFLite's QuantizeMultiplierGreaterThanOne requires beta·input_scale·2^26 > 1: the input differences are shifted
        // left, never right (a negative shift count is undefined in C).
        if (!(real > 1))
            throw MultiplierRange.OutOfRange(real, "beta * input scale * 2^26", "which must be greater than 1", input);
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

/// <summary>
/// Integer SOFTMAX with int16 input and output (output scale 2^-15, zero point 0): input differences are scaled so
/// that [-65535, 0] covers [-10, 0], exponentials and the reciprocal of their sum come from two 513-entry
/// interpolation tables built in single precision.
/// </summary>
public sealed record SoftmaxInt16Quantization(int InputMultiplier, int InputShift, short[] ExpTable, short[] OneOverOnePlusXTable)
{
    public static SoftmaxInt16Quantization Derive(Tensor input, float beta)
    {
        var q = ConvQuantization.Require(input);
        double real = (double)q.Scale * beta / (10.0 / 65535.0);
        var (multiplier, shift) = MultiplierRange.Multiplier(real, MultiplierRange.MaxShift, "input scale * beta / (10 / 65535)", input);
        return new SoftmaxInt16Quantization(multiplier, shift,
            LookupTable.Int16(MathF.Exp, -10f, 0f, -1f, 1f),
            LookupTable.Int16(x => 1f / (1f + x), 0f, 1f, -1f, 1f));
    }
}

/// <summary>
/// TFLite's interpolation tables for int16 inputs: 512 segments over [inputMin, inputMax] plus a final entry, each
/// entry biased by half the interpolation error at the segment's midpoint; outputs on [outputMin, outputMax] mapped to
/// the int16 range. All arithmetic in single precision, rounding half away from zero.
/// </summary>
public static class LookupTable
{
    public static short[] Int16(Func<float, float> f, float inputMin, float inputMax, float outputMin, float outputMax)
    {
        const int steps = 512;
        float step = (inputMax - inputMin) / steps;
        float halfStep = step / 2;
        float scalingInv = 65536f / (outputMax - outputMin);
        static float Round(float x) => MathF.Round(x, MidpointRounding.AwayFromZero);
        static short Saturate(float x) => (short)Math.Min(Math.Max(x, short.MinValue), short.MaxValue);

        var table = new short[steps + 1];
        for (int i = 0; i < steps; i++)
        {
            float value = f(inputMin + i * step);
            float midpoint = f(inputMin + i * step + halfStep);
            float next = f(inputMin + (i + 1) * step);
            float sample = Round(value * scalingInv);
            float midpointInterpolated = Round((next * scalingInv + Round(value * scalingInv)) / 2);
            float midpointExact = Round(midpoint * scalingInv);
            float bias = Round((midpointInterpolated - midpointExact) / 2);
            table[i] = Saturate(sample - bias);
        }

        table[steps] = Saturate(Round(f(inputMax) * scalingInv));
        return table;
    }

    /// <summary>Reads an int16 table at an int16 position: 512 segments of 128 input steps, linear interpolation rounded to nearest.</summary>
    public static int Lookup(int value, short[] table)
    {
        int index = 256 + (value >> 7);
        int offset = value & 0x7F;
        int baseValue = table[index];
        int slope = (short)(table[index + 1] - table[index]);
        int delta = (slope * offset + 64) >> 7;
        return (short)(baseValue + delta);
    }
}
