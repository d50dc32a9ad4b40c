using System.Globalization;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// The one check that a ratio of scales can be applied by the fixed-point arithmetic before anything computes with it:
/// the evaluator and the code generator both derive their constants through here, so a model is either rejected by
/// both (MTVM2010, naming the tensors, their scales and the ratio) or computed without an out-of-range shift by both.
/// Tiny ratios are not errors: TFLite's QuantizeMultiplier flushes them to a zero multiplier, and so do we.
/// </summary>
public static class MultiplierRange
{
    /// <summary>TFLite's 32-bit MultiplyByQuantizedMultiplier takes shifts in [-31, 30]: x·2^shift must be a shift of
    /// an int32, and a multiplier of 2^31 or more would saturate every non-zero value anyway.</summary>
    public const int MaxShift = 30;

    /// <summary>The 64-bit variant (16x8 layers) shifts right by 15 - shift, which must stay at least 1.</summary>
    public const int MaxShift64 = 14;

    /// <summary>QuantizeMultiplier of <paramref name="real"/>, or MTVM2010 when it is not finite and non-negative or
    /// needs a left shift above <paramref name="maxShift"/>.</summary>
    /// <param name="ratio">How the ratio is formed, e.g. "input scale / output scale".</param>
    /// <param name="tensors">The tensors whose scales form it (named in the message).</param>
    public static (int Multiplier, int Shift) Multiplier(double real, int maxShift, string ratio, params Tensor[] tensors)
    {
        if (!double.IsFinite(real) || real < 0) throw OutOfRange(real, ratio, "which no fixed-point multiplier represents", tensors);
        var (multiplier, shift) = FixedPoint.QuantizeMultiplier(real);
        if (shift > maxShift)
            throw OutOfRange(real, ratio, $"which needs a left shift of {shift}; the requantization takes at most {maxShift} (ratios below 2^{maxShift})", tensors);
        return (multiplier, shift);
    }

    /// <summary>MTVM2010 for a value derived from <paramref name="tensors"/>' scales that the arithmetic cannot use.</summary>
    public static CompilerException OutOfRange(double value, string ratio, string why, params Tensor[] tensors) =>
        new(ErrorCodes.QuantizationOutOfRange,
            $"{ratio} = {value.ToString("R", CultureInfo.InvariantCulture)} ({string.Join(", ", tensors.Select(Describe))}), {why}");

    private static string Describe(Tensor t)
    {
        var q = t.Quantization;
        if (q is null) return t.ToString();
        var scales = q.Scales.Distinct().ToArray();
        string scale = scales.Length == 1
            ? scales[0].ToString("R", CultureInfo.InvariantCulture)
            : $"{scales.Min().ToString("R", CultureInfo.InvariantCulture)} to {scales.Max().ToString("R", CultureInfo.InvariantCulture)}";
        return $"{t} scale {scale}";
    }
}

/// <summary>
/// int8 layers accumulate in int32 (TFLite, the evaluator's truncation and the generated C alike). The bound is proved
/// from the weights at compile time, per output channel: |bias| + 256 · Σ(|w| + |filter zero point|) covers every
/// partial sum of both the evaluator's Σ(x - zx)(w - zw) + bias (|x - zx| ≤ 255) and the generated C's
/// (bias - zx·Σw) + Σ x·w (|x| ≤ 128). A model that could exceed 2^31 - 1 is rejected (MTVM2010): in C the overflow
/// would be undefined.
/// </summary>
public static class AccumulatorBound
{
    public static void Check(Node node)
    {
        if (!node.Kind.HasWeights) return;
        if (node.Inputs.Count < 2 || node.Inputs[0] is not { Type: ElementType.Int8 } input || node.Inputs[1] is not { Type: ElementType.Int8, Data: not null } filter) return;
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        int channelDimension = node.Kind == OpKind.DepthwiseConv2D ? filter.Rank - 1 : 0;
        if (filter.Rank == 0) return;
        int channels = filter.Shape[channelDimension];
        long filterZero = Math.Abs((long)(filter.Quantization?.ZeroPoint ?? 0));
        var sums = new long[channels];
        int inner = 1;
        for (int d = channelDimension + 1; d < filter.Rank; d++) inner *= filter.Shape[d];
        var data = filter.Data;
        for (int i = 0; i < data.Length; i++)
            sums[i / inner % channels] += Math.Abs((long)unchecked((sbyte)data[i])) + filterZero;
        long[]? biases = bias is { Data: not null } && bias.Type is ElementType.Int32 ? BiasValues(bias) : null;
        for (int c = 0; c < channels; c++)
        {
            long bound = Math.Abs(biases is null || biases.Length == 0 ? 0 : biases[c % biases.Length]) + 256 * sums[c];
            if (bound > int.MaxValue)
                throw MultiplierRange.OutOfRange(bound, $"the int32 accumulator bound of output channel {c} (|bias| + 256 * sum of |weight|)",
                    "which exceeds 2^31 - 1: the sum could overflow", input, filter);
        }
    }

    private static long[] BiasValues(Tensor bias)
    {
        var values = new long[bias.Data!.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToInt32(bias.Data, i * 4);
        return values;
    }
}
