using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Quantized MEAN and SUM, as TensorFlow Lite Micro's shared reduce code computes them for int8 and int16 (also when
/// input and output are quantized alike: it has no truncating shortcut): the int32 sum minus count·input zero point is
/// rescaled by input_scale/output_scale, and for MEAN also by 1/count: the Q31 multiplier absorbs it as
/// ((m &lt;&lt; s) / count, shift - s) with s = min(floor(log2 count), 32, 31 + shift).
/// The sum must stay inside int32 (in C an overflow would be undefined): count·2^bits above 2^31 - 1 is MTVM2010.
/// </summary>
public sealed record MeanQuantization(int InputZeroPoint, int OutputZeroPoint, int Multiplier, int Shift, int Count)
{
    public static MeanQuantization Derive(Tensor input, Tensor output, int count) => Derive(input, output, count, divide: true);

    public static MeanQuantization DeriveSum(Tensor input, Tensor output, int count) => Derive(input, output, count, divide: false);

    private static MeanQuantization Derive(Tensor input, Tensor output, int count, bool divide)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        long bound = (long)count << (input.Type == ElementType.Int8 ? 8 : 16);
        if (bound > int.MaxValue)
            throw MultiplierRange.OutOfRange(bound, $"the int32 sum bound of {count} {input.Type.DisplayName()} values (count * 2^{(input.Type == ElementType.Int8 ? 8 : 16)})",
                "which exceeds 2^31 - 1: the sum could overflow", input, output);
        var (m, s) = MultiplierRange.Multiplier((double)qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        if (divide && count > 0)
        {
            int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)count);
            shift = Math.Min(shift, 32);
            shift = Math.Min(shift, 31 + s);
            m = (int)(((long)m << shift) / count);
            s -= shift;
        }

        return new MeanQuantization(qi.ZeroPoint, qo.ZeroPoint, m, s, count);
    }

    /// <summary>The output value of one int32 sum of <see cref="Count"/> stored values.</summary>
    public int Requantize(int sum, QuantizedRange range) =>
        range.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(sum - InputZeroPoint * Count, Multiplier, Shift) + OutputZeroPoint);
}
