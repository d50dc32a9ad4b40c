using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The quantization constants the kernels fold into C, as TFLite Micro derives them in its Prepare functions.
/// TODO(codegen): delegate to the shared derivations in Quantization/ once they land, so one place decides.
/// </summary>
internal static class Derivations
{
    public static (int Min, int Max) TypeRange(ElementType type) => type switch
    {
        ElementType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        ElementType.UInt8 => (byte.MinValue, byte.MaxValue),
        ElementType.Int16 => (short.MinValue, short.MaxValue),
        ElementType.Int32 => (int.MinValue, int.MaxValue),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>TFLite's CalculateActivationRangeQuantized: the activation's real bounds quantized into the output's type.</summary>
    public static (int Min, int Max) ActivationRange(FusedActivation activation, Tensor output)
    {
        var (qmin, qmax) = TypeRange(output.Type);
        var q = output.Quantization!;
        float scale = q.Scale;
        int zp = q.ZeroPoint;
        int Quantize(float f) => zp + (int)MathF.Round(f / scale, MidpointRounding.AwayFromZero);
        return activation switch
        {
            FusedActivation.None => (qmin, qmax),
            FusedActivation.Relu => (Math.Max(qmin, Quantize(0f)), qmax),
            FusedActivation.Relu6 => (Math.Max(qmin, Quantize(0f)), Math.Min(qmax, Quantize(6f))),
            FusedActivation.ReluN1To1 => (Math.Max(qmin, Quantize(-1f)), Math.Min(qmax, Quantize(1f))),
            _ => throw new NotSupportedException(activation.ToString()),
        };
    }

    /// <summary>TFLite's CalculateActivationRange for float outputs.</summary>
    public static (float Min, float Max) FloatActivationRange(FusedActivation activation) => activation switch
    {
        FusedActivation.None => (float.MinValue, float.MaxValue),
        FusedActivation.Relu => (0f, float.MaxValue),
        FusedActivation.Relu6 => (0f, 6f),
        FusedActivation.ReluN1To1 => (-1f, 1f),
        _ => throw new NotSupportedException(activation.ToString()),
    };

    /// <summary>Per-output-channel requantization of a convolution / fully connected layer:
    /// input_scale * filter_scale[c] / output_scale, in double, split by QuantizeMultiplier.</summary>
    public static (int[] Multipliers, int[] Shifts) ConvolutionMultipliers(Tensor input, Tensor filter, Tensor output, int channels)
    {
        var multipliers = new int[channels];
        var shifts = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            double real = (double)input.Quantization!.Scale * filter.Quantization!.ScaleOf(c) / output.Quantization!.Scale;
            (multipliers[c], shifts[c]) = FixedPoint.QuantizeMultiplier(real);
        }

        return (multipliers, shifts);
    }

    /// <summary>ADD/SUB of 8-bit tensors: inputs are shifted left by 20 bits and rescaled to twice the larger input
    /// scale; the sum is rescaled to the output.</summary>
    public static AddParameters AddParams(Tensor a, Tensor b, Tensor output)
    {
        const int leftShift = 20;
        double sa = a.Quantization!.Scale, sb = b.Quantization!.Scale, so = output.Quantization!.Scale;
        double twiceMax = 2 * Math.Max(sa, sb);
        var (m1, s1) = FixedPoint.QuantizeMultiplier(sa / twiceMax);
        var (m2, s2) = FixedPoint.QuantizeMultiplier(sb / twiceMax);
        var (mo, so2) = FixedPoint.QuantizeMultiplier(twiceMax / ((1 << leftShift) * so));
        return new AddParameters(leftShift, -a.Quantization.ZeroPoint, m1, s1, -b.Quantization.ZeroPoint, m2, s2, output.Quantization.ZeroPoint, mo, so2);
    }

    public sealed record AddParameters(int LeftShift, int InputOffset1, int Multiplier1, int Shift1, int InputOffset2, int Multiplier2, int Shift2, int OutputOffset, int OutputMultiplier, int OutputShift);

    /// <summary>Softmax on int8: beta * input_scale as a Q5.26 multiplier (input integer bits 5), and the smallest
    /// difference from the row maximum whose exponential still counts.</summary>
    public static (int Multiplier, int LeftShift, int DiffMin) SoftmaxParams(float beta, Tensor input)
    {
        const int inputIntegerBits = 5;
        double maxReal = (1L << 31) - 1.0;
        double real = Math.Min((double)beta * input.Quantization!.Scale * (1 << (31 - inputIntegerBits)), maxReal);
        var (multiplier, shift) = FixedPoint.QuantizeMultiplier(real);
        double maxInputRescaled = 1.0 * ((1 << inputIntegerBits) - 1) * (1L << (31 - inputIntegerBits)) / (1L << shift);
        int diffMin = -(int)Math.Floor(maxInputRescaled);
        return (multiplier, shift, diffMin);
    }

    /// <summary>QUANTIZE between quantized types: effective scale input_scale / output_scale.</summary>
    public static (int Multiplier, int Shift) RequantizeParams(Tensor input, Tensor output) =>
        FixedPoint.QuantizeMultiplier((double)input.Quantization!.Scale / output.Quantization!.Scale);
}
