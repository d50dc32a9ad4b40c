using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

public class MoreConvolutionTests
{
    [Theory]
    [InlineData(ElementType.Float32)]
    [InlineData(ElementType.Int8)]
    public void TransposeConv_stride_2_spreads_each_input_over_a_window(ElementType type)
    {
        // 2x2 input, 2x2 filter [[1, 2], [3, 4]], stride 2, VALID → 4x4 output made of four scaled filter copies.
        var g = new GraphBuilder();
        bool isFloat = type == ElementType.Float32;
        var input = g.Input(type, [1, 2, 2, 1], isFloat ? null : Q(1f));
        var filter = g.Constant(isFloat ? ElementType.Float32 : ElementType.Int8, [1, 2, 2, 1], new[] { 1, 2, 3, 4 }, isFloat ? null : PerChannel([1f]));
        var output = g.Tensor(type, [1, 4, 4, 1], isFloat ? null : Q(1f));
        g.Op(OpKind.TransposeConv, new TransposeConvAttributes(Padding.Valid, 2, 2, [1, 4, 4, 1], FusedActivation.None), [input, filter, null], output);
        var expected = new double[]
        {
            1, 2, 2, 4,
            3, 4, 6, 8,
            3, 6, 4, 8,
            9, 12, 12, 16,
        };
        Assert.Equal(expected, RunSingle(g.Build(output), new[] { 1, 2, 3, 4 }));
    }

    [Fact]
    public void TransposeConv_same_padding_overlapping_windows_sum()
    {
        // 1-D along x: input [1, 2], filter [1, 1, 1], stride 1, SAME output width 2: padding from the output size
        // (total (2-1)+3-2 = 2 → 1 before). out[x] = Σ in[i]·f[x - i + 1] = [1+2, 1+2] = [3, 3].
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [1, 1, 2, 1]);
        var filter = g.Constant(ElementType.Float32, [1, 1, 3, 1], new double[] { 1, 1, 1 });
        var bias = g.Constant(ElementType.Float32, [1], new double[] { 0.5 });
        var output = g.Tensor(ElementType.Float32, [1, 1, 2, 1]);
        g.Op(OpKind.TransposeConv, new TransposeConvAttributes(Padding.Same, 1, 1, [1, 1, 2, 1], FusedActivation.None), [input, filter, bias], output);
        Assert.Equal(new double[] { 3.5, 3.5 }, RunSingle(g.Build(output), new double[] { 1, 2 }));
    }

    [Fact]
    public void Conv2D_16x8_with_int64_bias_rounds_once()
    {
        // int16 input (scale 1), int8 weights (scale 0.5), output scale 1: out = round(0.5·Σ + bias·0.5), with the
        // 16x8 single rounding shift (ties upward): 0.5·(3·1 + 5·1) + 0.5·3 = 5.5 → 6; with x = [-3, -5]: -4 - 1.5 + ... 
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int16, [1, 1, 1, 2], Q(1f));
        var filter = g.Constant(ElementType.Int8, [1, 1, 1, 2], new[] { 1, 1 }, PerChannel([0.5f]));
        var bias = g.Constant(ElementType.Int64, [1], new[] { 3 }, PerChannel([0.5f]));
        var output = g.Tensor(ElementType.Int16, [1, 1, 1, 1], Q(1f));
        g.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Valid, 1, 1, 1, 1, FusedActivation.None), [input, filter, bias], output);
        var graph = g.Build(output);
        Assert.Equal(new double[] { 6 }, RunSingle(graph, new[] { 3, 5 }));          // 5.5 → 6
        Assert.Equal(new double[] { -3 }, RunSingle(graph, new[] { -4, -5 }));       // 0.5·(-9 + 3) = -3
        Assert.Equal(new double[] { -2 }, RunSingle(graph, new[] { -4, -4 }));       // -2.5 → -2 (the single rounding adds a half)
        Assert.Equal(new double[] { 16385 }, RunSingle(graph, new[] { 32767, 0 }));  // 16383.5 + 1.5 = 16385
    }

    [Fact]
    public void FullyConnected_16x8_matches_real_arithmetic()
    {
        var random = new Random(21);
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int16, [1, 4], Q(0.25f));
        var w = Enumerable.Range(0, 8).Select(_ => 2 * random.Next(-60, 60)).ToArray();
        var weights = g.Constant(ElementType.Int8, [2, 4], w, PerChannel([0.5f, 0.125f]));
        var bias = g.Constant(ElementType.Int64, [2], new[] { 1000, -4000 }, PerChannel([0.125f, 0.03125f]));
        var output = g.Tensor(ElementType.Int16, [1, 2], Q(0.5f));
        g.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.None, false), [input, weights, bias], output);
        var x = new[] { 1000, -2000, 30000, -32768 };
        var y = RunSingle(g.Build(output), x);
        float[] ws = [0.5f, 0.125f];
        double[] bs = [0.125, 0.03125];
        for (int u = 0; u < 2; u++)
        {
            double real = (u == 0 ? 1000 : -4000) * bs[u];
            for (int d = 0; d < 4; d++) real += x[d] * 0.25 * w[u * 4 + d] * ws[u];
            // Even weights keep the product exact; the single rounding rounds ties upward.
            Assert.Equal(Math.Clamp(Math.Floor(real / 0.5 + 0.5), -32768, 32767), y[u]);
        }
    }

    [Theory]
    [InlineData(null, 1)]                  // no bias: int32 accumulator, double rounding: 3·0.125 → 2 (1.5 rounded) → 0.5 → 1
    [InlineData(ElementType.Int32, 1)]
    [InlineData(ElementType.Int64, 0)]     // int64 bias: single rounding: 0.375 → 0
    public void Conv2D_16x8_accumulator_width_follows_the_bias_type(ElementType? biasType, int expected)
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int16, [1, 1, 1, 2], Q(1f));
        var filter = g.Constant(ElementType.Int8, [1, 1, 1, 2], new[] { 1, 1 }, PerChannel([0.125f]));
        var bias = biasType is null ? null : g.Constant(biasType.Value, [1], new[] { 0 }, PerChannel([0.125f]));
        var output = g.Tensor(ElementType.Int16, [1, 1, 1, 1], Q(1f));
        g.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Valid, 1, 1, 1, 1, FusedActivation.None), [input, filter, bias], output);
        Assert.Equal(new double[] { expected }, RunSingle(g.Build(output), new[] { 3, 0 }));
    }

    [Fact]
    public void DepthwiseConv2D_16x8_always_accumulates_in_int64()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int16, [1, 1, 1, 1], Q(1f));
        var filter = g.Constant(ElementType.Int8, [1, 1, 1, 1], new[] { 1 }, PerChannel([0.125f], 3));
        var output = g.Tensor(ElementType.Int16, [1, 1, 1, 1], Q(1f));
        g.Op(OpKind.DepthwiseConv2D, new DepthwiseConv2DAttributes(Padding.Valid, 1, 1, 1, 1, 1, FusedActivation.None), [input, filter, null], output);
        Assert.Equal(new double[] { 0 }, RunSingle(g.Build(output), new[] { 3 }));
    }
}
