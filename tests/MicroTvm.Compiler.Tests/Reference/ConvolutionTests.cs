using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

/// <summary>
/// Convolution-like operators. Quantized expectations are computed in the real domain (exact in double) and rounded
/// half away from zero once. That equals TFLite's fixed-point result because every effective scale here is a power of
/// two and every filter value is even, so the doubling high multiply never rounds and only the final shift does.
/// </summary>
public class ConvolutionTests
{
    [Theory]
    [InlineData(FusedActivation.None, new[] { 3, 10, -2 })]
    [InlineData(FusedActivation.Relu, new[] { 3, 10, 3 })]
    public void FullyConnected_int8_hand_calculated(FusedActivation activation, int[] expected)
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 3], Q(0.5f, -1));                      // real [2, 0, 3]
        var weights = g.Constant(ElementType.Int8, [3, 3], new[] { 4, 8, -4, 2, -6, 10, -4, -4, -4 }, Q(0.25f));
        var bias = g.Constant(ElementType.Int32, [3], new[] { 8, -16, 0 }, Q(0.125f));      // real [1, -2, 0]
        var output = g.Tensor(ElementType.Int8, [1, 3], Q(1f, 3));
        g.Op(OpKind.FullyConnected, new FullyConnectedAttributes(activation, false), [input, weights, bias], output);
        // real outputs: 2 - 3 + 1 = 0; 1 + 7.5 - 2 = 6.5 (rounds away to 7); -8 - 12 = -20 * 0.25 = -5
        Assert.Equal(expected.Select(v => (double)v), RunSingle(g.Build(output), new[] { 3, -1, 5 }));
    }

    [Fact]
    public void FullyConnected_float_with_bias_and_relu()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [1, 2]);
        var weights = g.Constant(ElementType.Float32, [2, 2], new double[] { 1, 2, 3, -4 });
        var bias = g.Constant(ElementType.Float32, [2], new double[] { 0.5, 1 });
        var output = g.Tensor(ElementType.Float32, [1, 2]);
        g.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.Relu, false), [input, weights, bias], output);
        Assert.Equal(new double[] { 8.5, 0 }, RunSingle(g.Build(output), new double[] { 2, 3 }));
    }

    [Fact]
    public void FullyConnected_batches_rows_of_a_higher_rank_input()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [2, 1, 2]);
        var weights = g.Constant(ElementType.Float32, [1, 2], new double[] { 1, 10 });
        var output = g.Tensor(ElementType.Float32, [2, 1]);
        g.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.None, false), [input, weights, null], output);
        Assert.Equal(new double[] { 21, 43 }, RunSingle(g.Build(output), new double[] { 1, 2, 3, 4 }));
    }

    [Fact]
    public void Conv2D_valid_hand_calculated()
    {
        // 3x3 input, 2x2 filter of ones (scale 1), VALID: each output is the sum of a 2x2 window.
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 3, 3, 1], Q(1f));
        var filter = g.Constant(ElementType.Int8, [1, 2, 2, 1], new[] { 1, 1, 1, 1 }, PerChannel([1f]));
        var output = g.Tensor(ElementType.Int8, [1, 2, 2, 1], Q(1f));
        g.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Valid, 1, 1, 1, 1, FusedActivation.None), [input, filter, null], output);
        Assert.Equal(new double[] { 12, 16, 24, 28 }, RunSingle(g.Build(output), new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    }

    // (padding, stride, dilation, output size, padding before) — output sizes and paddings worked out by hand:
    // SAME 5/2 → 3 with total padding (3-1)*2+3-5 = 2 → 1 before; VALID 5, dilation 2 (effective 5) → 1, no padding;
    // SAME stride 1 dilation 2 → 5, total (5-1)+5-5 = 4 → 2 before; SAME stride 3 → 2, total (2-1)*3+3-5 = 1 → 0 before.
    [Theory]
    [InlineData(Padding.Same, 2, 1, 3, 1)]
    [InlineData(Padding.Valid, 1, 2, 1, 0)]
    [InlineData(Padding.Same, 1, 2, 5, 2)]
    [InlineData(Padding.Same, 3, 1, 2, 0)]
    public void Conv2D_int8_per_channel_matches_real_arithmetic(Padding padding, int stride, int dilation, int outSize, int padBefore)
    {
        var random = new Random(7 + stride * 10 + dilation);
        const int inSize = 5, inC = 2, outC = 3, k = 3;
        float inScale = 0.5f, outScale = 1f;
        float[] filterScales = [0.25f, 0.5f, 0.125f];
        int inZp = 1, outZp = -2;
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, inSize, inSize, inC], Q(inScale, inZp));
        var w = Enumerable.Range(0, outC * k * k * inC).Select(_ => 2 * random.Next(-4, 5)).ToArray();
        var b = Enumerable.Range(0, outC).Select(_ => 2 * random.Next(-50, 50)).ToArray();
        var filter = g.Constant(ElementType.Int8, [outC, k, k, inC], w, PerChannel(filterScales));
        var bias = g.Constant(ElementType.Int32, [outC], b, PerChannel(filterScales.Select(s => s * inScale).ToArray()));
        var output = g.Tensor(ElementType.Int8, [1, outSize, outSize, outC], Q(outScale, outZp));
        g.Op(OpKind.Conv2D, new Conv2DAttributes(padding, stride, stride, dilation, dilation, FusedActivation.None), [input, filter, bias], output);
        var x = Enumerable.Range(0, inSize * inSize * inC).Select(_ => random.Next(-128, 128)).ToArray();

        var actual = RunSingle(g.Build(output), x);

        var expected = new List<double>();
        for (int oy = 0; oy < outSize; oy++)
        for (int ox = 0; ox < outSize; ox++)
        for (int oc = 0; oc < outC; oc++)
        {
            double real = b[oc] * inScale * filterScales[oc];
            for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
            {
                int iy = oy * stride - padBefore + ky * dilation, ix = ox * stride - padBefore + kx * dilation;
                if (iy < 0 || iy >= inSize || ix < 0 || ix >= inSize) continue;
                for (int ic = 0; ic < inC; ic++)
                    real += (x[(iy * inSize + ix) * inC + ic] - inZp) * inScale * w[((oc * k + ky) * k + kx) * inC + ic] * filterScales[oc];
            }

            expected.Add(Math.Clamp(outZp + RoundHalfAway(real / outScale), -128, 127));
        }

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(FusedActivation.None)]
    [InlineData(FusedActivation.Relu6)]
    public void DepthwiseConv2D_int8_depth_multiplier_matches_real_arithmetic(FusedActivation activation)
    {
        var random = new Random(11);
        const int inSize = 4, inC = 2, multiplier = 2, outC = inC * multiplier, k = 3;
        float inScale = 0.25f, outScale = 0.0625f;
        float[] filterScales = [0.25f, 0.5f, 0.125f, 1f];
        int inZp = -3, outZp = 5;
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, inSize, inSize, inC], Q(inScale, inZp));
        var w = Enumerable.Range(0, k * k * outC).Select(_ => 2 * random.Next(-3, 4)).ToArray();
        var b = Enumerable.Range(0, outC).Select(_ => 2 * random.Next(-20, 20)).ToArray();
        var filter = g.Constant(ElementType.Int8, [1, k, k, outC], w, PerChannel(filterScales, 3));
        var bias = g.Constant(ElementType.Int32, [outC], b, PerChannel(filterScales.Select(s => s * inScale).ToArray()));
        var output = g.Tensor(ElementType.Int8, [1, inSize, inSize, outC], Q(outScale, outZp));
        g.Op(OpKind.DepthwiseConv2D, new DepthwiseConv2DAttributes(Padding.Same, 1, 1, 1, 1, multiplier, activation), [input, filter, bias], output);
        var x = Enumerable.Range(0, inSize * inSize * inC).Select(_ => random.Next(-20, 20)).ToArray();

        var actual = RunSingle(g.Build(output), x);

        // Relu6 on this output: [zp + round(0/s), zp + round(6/s)] = [5, 101].
        int low = activation == FusedActivation.Relu6 ? 5 : -128, high = activation == FusedActivation.Relu6 ? 101 : 127;
        var expected = new List<double>();
        for (int oy = 0; oy < inSize; oy++)
        for (int ox = 0; ox < inSize; ox++)
        for (int oc = 0; oc < outC; oc++)
        {
            int ic = oc / multiplier;
            double real = b[oc] * inScale * filterScales[oc];
            for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
            {
                int iy = oy - 1 + ky, ix = ox - 1 + kx;   // SAME, 3x3, stride 1: one row/column before
                if (iy < 0 || iy >= inSize || ix < 0 || ix >= inSize) continue;
                real += (x[(iy * inSize + ix) * inC + ic] - inZp) * inScale * w[(ky * k + kx) * outC + oc] * filterScales[oc];
            }

            expected.Add(Math.Clamp(outZp + RoundHalfAway(real / outScale), low, high));
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Conv2D_float_matches_double_arithmetic()
    {
        var random = new Random(3);
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [1, 4, 4, 2]);
        var w = Enumerable.Range(0, 2 * 3 * 3 * 2).Select(_ => random.NextDouble() - 0.5).ToArray();
        var filter = g.Constant(ElementType.Float32, [2, 3, 3, 2], w);
        var bias = g.Constant(ElementType.Float32, [2], new double[] { 0.25, -0.5 });
        var output = g.Tensor(ElementType.Float32, [1, 2, 2, 2]);
        g.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Same, 2, 2, 1, 1, FusedActivation.None), [input, filter, bias], output);
        var x = Enumerable.Range(0, 32).Select(_ => random.NextDouble() * 4 - 2).ToArray();
        var actual = RunSingle(g.Build(output), x);
        // SAME 4/2 → 2, total padding (2-1)*2+3-4 = 1 → 0 before.
        var wf = w.Select(v => (double)(float)v).ToArray();
        var xf = x.Select(v => (double)(float)v).ToArray();
        int index = 0;
        for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++)
        for (int oc = 0; oc < 2; oc++)
        {
            double real = oc == 0 ? 0.25 : -0.5;
            for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
            {
                int iy = oy * 2 + ky, ix = ox * 2 + kx;
                if (iy >= 4 || ix >= 4) continue;
                for (int ic = 0; ic < 2; ic++) real += xf[(iy * 4 + ix) * 2 + ic] * wf[((oc * 3 + ky) * 3 + kx) * 2 + ic];
            }

            Assert.True(Math.Abs(real - actual[index++]) <= 1e-5, $"{real} vs {actual[index - 1]}");
        }
    }

    [Fact]
    public void Unsupported_type_combination_is_MTVM2001_naming_the_operator()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 2], Q(1f));
        var weights = g.Constant(ElementType.Float32, [1, 2], new double[] { 1, 2 });
        var output = g.Tensor(ElementType.Int8, [1, 1], Q(1f));
        g.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.None, false), [input, weights, null], output);
        var e = Assert.Throws<CompilerException>(() => RunSingle(g.Build(output), new[] { 1, 2 }));
        Assert.Equal("MTVM2001", e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("FULLY_CONNECTED", e.OperatorName);
    }
}
