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
/// int8 products accumulate in int32 (TFLite, the evaluator's truncation and the generated C alike). The bound is proved
/// from the constant weights at compile time, per accumulator: |bias| + 256 · Σ(|w| + |weight zero point|) covers every
/// partial sum of both the evaluator's Σ(x - zx)(w - zw) + bias (|x - zx| ≤ 255) and the generated C's
/// (bias - zx·Σw) + Σ x·w (|x| ≤ 128). A model that could exceed 2^31 - 1 is rejected (MTVM2010): in C the overflow
/// would be undefined. The accumulators: each output channel of an int8 CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and
/// FULLY_CONNECTED; each filter's feature product and, with an int8 state, each unit's time product (plus bias) of an
/// int8 SVDF; each gate's input product (plus bias) and recurrent product of each unit of an int8 LSTM. (The int16
/// products accumulate in int64, or wrap through uint32 where TFLM's int32 sum does: SVDF with an int16 state.)
/// </summary>
public static class AccumulatorBound
{
    private const long Int8Reach = 256;

    public static void Check(Node node)
    {
        if (node.Kind == OpKind.Svdf) Svdf(node);
        else if (node.Kind == OpKind.UnidirectionalSequenceLstm) Lstm(node);
        else if (node.Kind.HasWeights) Weighted(node);
    }

    private static void Weighted(Node node)
    {
        if (node.Inputs.Count < 2 || node.Inputs[0] is not { Type: ElementType.Int8 } input || node.Inputs[1] is not { Type: ElementType.Int8, Data: not null } filter) return;
        if (filter.Rank == 0) return;
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        int channelDimension = node.Kind == OpKind.DepthwiseConv2D ? filter.Rank - 1 : 0;
        int channels = filter.Shape[channelDimension];
        long filterZero = Math.Abs((long)(filter.Quantization?.ZeroPoint ?? 0));
        var sums = new long[channels];
        int inner = 1;
        for (int d = channelDimension + 1; d < filter.Rank; d++) inner *= filter.Shape[d];
        var data = filter.Data;
        for (int i = 0; i < data.Length; i++)
            sums[i / inner % channels] += Math.Abs((long)unchecked((sbyte)data[i])) + filterZero;
        long[]? biases = bias is { Data: not null } && bias.Type is ElementType.Int32 ? Int32Values(bias) : null;
        for (int c = 0; c < channels; c++)
            Require(BiasAt(biases, c) + Int8Reach * sums[c], $"the int32 accumulator bound of output channel {c} (|bias| + 256 * sum of |weight|)", WithBias(bias, input, filter));
    }

    private static void Svdf(Node node)
    {
        var input = node.Input(SvdfRules.Input);
        if (input.Type != ElementType.Int8) return;
        var feature = node.Input(SvdfRules.WeightsFeature);
        var featureSums = RowSums(feature);
        for (int f = 0; f < featureSums.Length; f++)
            Require(Int8Reach * featureSums[f], $"the int32 accumulator bound of filter {f}'s feature product (256 * sum of |weights_feature|)", input, feature);

        var state = node.Input(SvdfRules.State);
        if (state.Type != ElementType.Int8) return;
        var time = node.Input(SvdfRules.WeightsTime);
        var g = SvdfRules.Dimensions(node);
        var filterSums = RowSums(time);
        if (filterSums.Length < g.Filters) return;
        long[]? biases = node.Inputs[SvdfRules.Bias] is { Data: not null } b ? Int32Values(b) : null;
        for (int u = 0; u < g.Units; u++)
        {
            long sum = 0;
            for (int r = 0; r < g.Rank; r++) sum += filterSums[u * g.Rank + r];
            Require(BiasAt(biases, u) + Int8Reach * sum, $"the int32 accumulator bound of unit {u}'s time product (|bias| + 256 * sum of |weights_time|)", WithBias(node.Inputs[SvdfRules.Bias], state, time));
        }
    }

    private static void Lstm(Node node)
    {
        if (node.Input(Ir.Lstm.Input).Type != ElementType.Int8) return;   // 16x8 accumulates in int64
        string[] gates = { "input", "forget", "cell", "output" };
        for (int g = 0; g < 4; g++)
        {
            var weights = node.Input(Ir.Lstm.InputWeights + g);
            var recurrent = node.Input(Ir.Lstm.RecurrentWeights + g);
            var bias = node.Input(Ir.Lstm.Biases + g);
            var biases = bias is { Data: not null, Type: ElementType.Int32 } ? Int32Values(bias) : null;
            var inputSums = RowSums(weights);
            var recurrentSums = RowSums(recurrent);
            for (int j = 0; j < inputSums.Length; j++)
            {
                Require(BiasAt(biases, j) + Int8Reach * inputSums[j],
                    $"the int32 accumulator bound of unit {j}'s {gates[g]} gate input product (|bias| + 256 * sum of |weight|)", WithBias(bias, node.Input(Ir.Lstm.Input), weights));
                Require(Int8Reach * recurrentSums[j],
                    $"the int32 accumulator bound of unit {j}'s {gates[g]} gate recurrent product (256 * sum of |weight|)", node.Input(Ir.Lstm.OutputState), recurrent);
            }
        }
    }

    private static void Require(long bound, string what, params Tensor[] tensors)
    {
        if (bound > int.MaxValue)
            throw MultiplierRange.OutOfRange(bound, what, "which exceeds 2^31 - 1: the sum could overflow", tensors);
    }

    /// <summary>Σ(|w| + |zero point|) of each row (first dimension) of a constant int8 weight tensor; none when not constant int8.</summary>
    private static long[] RowSums(Tensor weights)
    {
        if (weights is not { Type: ElementType.Int8, Data: not null } || weights.Rank == 0) return Array.Empty<long>();
        int rows = weights.Shape[0];
        int length = weights.Data.Length / Math.Max(rows, 1);
        long zero = Math.Abs((long)(weights.Quantization?.ZeroPoint ?? 0));
        var sums = new long[rows];
        for (int i = 0; i < rows * length; i++) sums[i / length] += Math.Abs((long)unchecked((sbyte)weights.Data[i])) + zero;
        return sums;
    }

    private static Tensor[] WithBias(Tensor? bias, params Tensor[] tensors) => bias is null ? tensors : [.. tensors, bias];

    private static long BiasAt(long[]? biases, int index) => biases is null || biases.Length == 0 ? 0 : Math.Abs(biases[index % biases.Length]);

    private static long[] Int32Values(Tensor bias)
    {
        var values = new long[bias.Data!.Length / 4];
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.ToInt32(bias.Data, i * 4);
        return values;
    }
}
