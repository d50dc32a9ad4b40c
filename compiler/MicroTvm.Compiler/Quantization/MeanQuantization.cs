using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Quantized MEAN, as TensorFlow Lite Micro computes it for int8 and int16 (also when input and output are quantized
/// alike: it has no truncating shortcut): the sum minus count·input zero point is rescaled by
/// input_scale/(output_scale·count):
/// the Q31 multiplier of input_scale/output_scale absorbs 1/count as ((m &lt;&lt; s) / count, shift - s) with
/// s = min(floor(log2 count), 32, 31 + shift).
/// </summary>
public sealed record MeanQuantization(int InputZeroPoint, int OutputZeroPoint, int Multiplier, int Shift, int Count)
{
    public static MeanQuantization Derive(Tensor input, Tensor output, int count)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        var (m, s) = MultiplierRange.Multiplier((double)qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        if (count > 0)
        {
            int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)count);
            shift = Math.Min(shift, 32);
            shift = Math.Min(shift, 31 + s);
            m = (int)(((long)m << shift) / count);
            s -= shift;
        }

        return new MeanQuantization(qi.ZeroPoint, qo.ZeroPoint, m, s, count);
    }
}
