using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>Seeded random one-operator models for the board tests of the target kernels.</summary>
internal static class RandomLayers
{
    /// <summary>A DEPTHWISE_CONV_2D with per-channel int8 weights, a random bias and an output scale that keeps values in range.</summary>
    public static TfliteModelBuilder Depthwise(Random r, int[] input, int filterH, int filterW, int multiplier, int strideH, int strideW, int padding, int activation)
    {
        int outputs = input[3] * multiplier, taps = filterH * filterW;
        int Out(int size, int f, int stride) => padding == Options.Same ? (size + stride - 1) / stride : (size - f) / stride + 1;
        var b = new TfliteModelBuilder();
        const float inScale = 0.05f;
        var scales = Enumerable.Range(0, outputs).Select(_ => (float)(0.004 * Math.Pow(5, r.NextDouble()))).ToArray();
        var weights = Enumerable.Range(0, outputs * taps).Select(_ => (sbyte)r.Next(-127, 128)).ToArray();
        var bias = Enumerable.Range(0, outputs).Select(_ => r.Next(-60 * taps, 60 * taps + 1)).ToArray();
        float outScale = inScale * scales[0] * 30 * MathF.Sqrt(taps) / 128;
        int x = b.AddTensor("x", ElementType.Int8, input, quantization: (inScale, r.Next(-128, 128)));
        int w = b.AddTensor("w", TensorTypes.Of(ElementType.Int8), [1, filterH, filterW, outputs], Int8s(weights), scales, new long[outputs], 3);
        int c = b.AddTensor("b", TensorTypes.Of(ElementType.Int32), [outputs], Int32s(bias), scales.Select(s => s * inScale).ToArray(), new long[outputs], 0);
        int y = b.AddTensor("y", ElementType.Int8, [input[0], Out(input[1], filterH, strideH), Out(input[2], filterW, strideW), outputs], quantization: (outScale, r.Next(-128, 128)));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        b.AddOperator(Builtin.DepthwiseConv2D, [x, w, c], [y], Options.DepthwiseConv2D(padding, strideW, strideH, multiplier, activation));
        return b;
    }
}
