using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>Seeded random one-operator models for the board tests of the target kernels.</summary>
internal static class RandomLayers
{
    /// <summary>A DEPTHWISE_CONV_2D with per-channel int8 weights, a random bias and an output scale that keeps values in range.</summary>
    public static TfliteModelBuilder Depthwise(Random r, int[] input, int filterH, int filterW, int multiplier, int strideH, int strideW, int padding, int activation, float outputScale = 1)
    {
        int outputs = input[3] * multiplier, taps = filterH * filterW;
        int Out(int size, int f, int stride) => padding == Options.Same ? (size + stride - 1) / stride : (size - f) / stride + 1;
        var b = new TfliteModelBuilder();
        const float inScale = 0.05f;
        var scales = Enumerable.Range(0, outputs).Select(_ => (float)(0.004 * Math.Pow(5, r.NextDouble()))).ToArray();
        var weights = Enumerable.Range(0, outputs * taps).Select(_ => (sbyte)r.Next(-127, 128)).ToArray();
        var bias = Enumerable.Range(0, outputs).Select(_ => r.Next(-60 * taps, 60 * taps + 1)).ToArray();
        float outScale = inScale * scales[0] * 30 * MathF.Sqrt(taps) / 128 * outputScale;
        int x = b.AddTensor("x", ElementType.Int8, input, quantization: (inScale, r.Next(-128, 128)));
        int w = b.AddTensor("w", TensorTypes.Of(ElementType.Int8), [1, filterH, filterW, outputs], Int8s(weights), scales, new long[outputs], 3);
        int c = b.AddTensor("b", TensorTypes.Of(ElementType.Int32), [outputs], Int32s(bias), scales.Select(s => s * inScale).ToArray(), new long[outputs], 0);
        int y = b.AddTensor("y", ElementType.Int8, [input[0], Out(input[1], filterH, strideH), Out(input[2], filterW, strideW), outputs], quantization: (outScale, r.Next(-128, 128)));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        b.AddOperator(Builtin.DepthwiseConv2D, [x, w, c], [y], Options.DepthwiseConv2D(padding, strideW, strideH, multiplier, activation));
        return b;
    }

    /// <summary>A 16x8 CONV_2D (input NHWC, <paramref name="filterH"/> = 0: FULLY_CONNECTED of input [batches, depth]
    /// into <paramref name="outputs"/> units) with int16 activations (zero point 0), int8 weights per channel, an int64,
    /// int32 or no bias (<paramref name="biasType"/> null), filter taps <paramref name="dilation"/> apart, and an int16
    /// output scale that keeps most values in range.</summary>
    public static TfliteModelBuilder Layer16(Random r, int[] input, int outputs, int filterH, int filterW, int stride, int padding, int activation, ElementType? biasType, int dilation = 1)
    {
        bool fc = filterH == 0;
        int inC = input[^1], taps = fc ? inC : filterH * filterW * inC;
        int Out(int size, int f) => padding == Options.Same ? (size + stride - 1) / stride : (size - (f - 1) * dilation - 1) / stride + 1;
        var b = new TfliteModelBuilder();
        const float inScale = 0.0005f;
        var scales = Enumerable.Range(0, outputs).Select(_ => (float)(0.004 * Math.Pow(5, r.NextDouble()))).ToArray();
        var weights = Enumerable.Range(0, outputs * taps).Select(_ => (sbyte)r.Next(-127, 128)).ToArray();
        float outScale = inScale * scales[0] * 256 * 30 * MathF.Sqrt(taps) / 128;
        int x = b.AddTensor("x", ElementType.Int16, input, quantization: (inScale, 0));
        int[] filterShape = fc ? [outputs, inC] : [outputs, filterH, filterW, inC];
        int w = b.AddTensor("w", TensorTypes.Of(ElementType.Int8), filterShape, Int8s(weights), scales, new long[outputs], 0);
        int c = -1;
        if (biasType is { } type)
        {
            var bias = Enumerable.Range(0, outputs).Select(_ => (long)r.Next(-20000 * taps, 20000 * taps + 1)).ToArray();
            var data = type == ElementType.Int64 ? Int64s(bias) : Int32s(bias.Select(v => (int)v).ToArray());
            c = b.AddTensor("b", TensorTypes.Of(type), [outputs], data, scales.Select(s => s * inScale).ToArray(), new long[outputs], 0);
        }

        int[] outShape = fc ? [input[0], outputs] : [input[0], Out(input[1], filterH), Out(input[2], filterW), outputs];
        int y = b.AddTensor("y", ElementType.Int16, outShape, quantization: (outScale, 0));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        if (fc) b.AddOperator(Builtin.FullyConnected, [x, w, c], [y], Options.FullyConnected(activation));
        else b.AddOperator(Builtin.Conv2D, [x, w, c], [y], Options.Conv2D(padding, stride, stride, activation, dilation, dilation));
        return b;
    }

    /// <summary>A 16x8 DEPTHWISE_CONV_2D (input channels times <paramref name="multiplier"/> outputs, filter taps
    /// <paramref name="dilation"/> apart) with int16 activations, per-channel int8 weights, an int64 bias (or none) and an
    /// int16 output scale that keeps most values in range.</summary>
    public static TfliteModelBuilder Depthwise16(Random r, int[] input, int filterH, int filterW, int stride, int padding, int activation, bool bias, int multiplier = 1, int dilation = 1)
    {
        int channels = input[3] * multiplier, taps = filterH * filterW;
        int Out(int size, int f) => padding == Options.Same ? (size + stride - 1) / stride : (size - (f - 1) * dilation - 1) / stride + 1;
        var b = new TfliteModelBuilder();
        const float inScale = 0.0005f;
        var scales = Enumerable.Range(0, channels).Select(_ => (float)(0.004 * Math.Pow(5, r.NextDouble()))).ToArray();
        var weights = Enumerable.Range(0, channels * taps).Select(_ => (sbyte)r.Next(-127, 128)).ToArray();
        float outScale = inScale * scales[0] * 256 * 30 * MathF.Sqrt(taps) / 128;
        int x = b.AddTensor("x", ElementType.Int16, input, quantization: (inScale, 0));
        int w = b.AddTensor("w", TensorTypes.Of(ElementType.Int8), [1, filterH, filterW, channels], Int8s(weights), scales, new long[channels], 3);
        int c = bias
            ? b.AddTensor("b", TensorTypes.Of(ElementType.Int64), [channels], Int64s(Enumerable.Range(0, channels).Select(_ => (long)r.Next(-20000 * taps, 20000 * taps + 1)).ToArray()),
                scales.Select(s => s * inScale).ToArray(), new long[channels], 0)
            : -1;
        int y = b.AddTensor("y", ElementType.Int16, [input[0], Out(input[1], filterH), Out(input[2], filterW), channels], quantization: (outScale, 0));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        b.AddOperator(Builtin.DepthwiseConv2D, [x, w, c], [y], Options.DepthwiseConv2D(padding, stride, stride, multiplier, activation, dilation, dilation));
        return b;
    }
}
