using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Requantization of a convolution-like operator (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED):
/// accumulator = Σ (input + InputOffset) * (filter + FilterOffset) + bias; output = clamp(
/// MultiplyByQuantizedMultiplier(accumulator, OutputMultipliers[c], OutputShifts[c]) + OutputOffset).
/// One multiplier/shift per output channel (all equal when the filter is quantized per tensor).
/// </summary>
public sealed record ConvQuantization(
    int InputOffset, int FilterOffset, int OutputOffset, int[] OutputMultipliers, int[] OutputShifts, QuantizedRange Activation)
{
    /// <summary>
    /// Derives the parameters as TFLite does at prepare time: per channel, the effective scale
    /// input_scale * filter_scale / output_scale is computed in double from the float32 scales and split into a
    /// Q31 multiplier and a shift.
    /// </summary>
    public static ConvQuantization Derive(Tensor input, Tensor filter, Tensor output, int outputChannels, FusedActivation activation)
    {
        var inputQ = Require(input);
        var filterQ = Require(filter);
        var outputQ = Require(output);
        var multipliers = new int[outputChannels];
        var shifts = new int[outputChannels];
        // 16x8 layers may rescale with the 64-bit multiply, whose shift range is narrower.
        int maxShift = input.Type == ElementType.Int16 ? MultiplierRange.MaxShift64 : MultiplierRange.MaxShift;
        for (int c = 0; c < outputChannels; c++)
        {
            double effectiveScale = (double)inputQ.Scale * filterQ.ScaleOf(c) / outputQ.Scale;
            (multipliers[c], shifts[c]) = MultiplierRange.Multiplier(effectiveScale, maxShift, $"input scale * filter scale (channel {c}) / output scale", input, filter, output);
        }

        return new ConvQuantization(
            -inputQ.ZeroPoint, -filterQ.ZeroPoint, outputQ.ZeroPoint, multipliers, shifts,
            ActivationRange.Quantized(activation, output));
    }

    /// <summary>The bias with the input zero point's share of the accumulator folded in: Σ (x - zx) * w + bias =
    /// Σ x * w + (bias - zx * Σ w), where Σ w runs over the filter taps the window reads. Wraps to int32 like TFLite's
    /// accumulator. Every kernel that folds the zero point at compile time uses this.</summary>
    public static int FoldInputZeroPoint(long bias, int inputZeroPoint, long filterSum) => unchecked((int)(bias - inputZeroPoint * filterSum));

    internal static QuantizationParameters Require(Tensor tensor) =>
        tensor.Quantization ?? throw new CompilerException(ErrorCodes.UnsupportedOperatorType, $"{tensor} is {tensor.Type.DisplayName()} but has no quantization parameters");
}
