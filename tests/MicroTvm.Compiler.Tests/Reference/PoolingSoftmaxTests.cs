using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

public class PoolingSoftmaxTests
{
    private static Graph Pool(OpKind kind, ElementType type, int[] inShape, int[] outShape, Padding padding, int filter, int stride,
        FusedActivation activation = FusedActivation.None)
    {
        var g = new GraphBuilder();
        var q = type == ElementType.Float32 ? null : Q(1f);
        var input = g.Input(type, inShape, q);
        var output = g.Tensor(type, outShape, q);
        g.Op(kind, new Pool2DAttributes(padding, stride, stride, filter, filter, activation), [input], output);
        return g.Build(output);
    }

    [Fact]
    public void AveragePool_int8_rounds_half_away_from_zero()
    {
        // 2x2 input [[1, -1], [2, -2]], 2x2 window... use a 2-row, 1-column window via a 2x2 filter on a 2x1 input.
        var g = Pool(OpKind.AveragePool2D, ElementType.Int8, [1, 2, 1, 2], [1, 1, 1, 2], Padding.Valid, 2, 1);
        // The 2x2 window is clipped to the 2x1 input: channel 0 averages 1 and 2 (1.5 → 2), channel 1 -1 and -2 (-1.5 → -2).
        Assert.Equal(new double[] { 2, -2 }, RunSingle(g, new[] { 1, -1, 2, -2 }));
    }

    [Fact]
    public void AveragePool_int8_same_padding_averages_only_real_elements()
    {
        // 3x3 input 1..9, 2x2 window, stride 2, SAME: output 2x2, total padding 1 → all of it after.
        var g = Pool(OpKind.AveragePool2D, ElementType.Int8, [1, 3, 3, 1], [1, 2, 2, 1], Padding.Same, 2, 2);
        // windows: {1,2,4,5} = 3; {3,6} = 4.5 → 5; {7,8} = 7.5 → 8; {9} = 9
        Assert.Equal(new double[] { 3, 5, 8, 9 }, RunSingle(g, new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    }

    [Fact]
    public void AveragePool_float_divides_by_the_clipped_window()
    {
        var g = Pool(OpKind.AveragePool2D, ElementType.Float32, [1, 3, 3, 1], [1, 2, 2, 1], Padding.Same, 2, 2);
        Assert.Equal(new double[] { 3, 4.5, 7.5, 9 }, RunSingle(g, new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    }

    [Fact]
    public void MaxPool_int8_with_relu_clamps_at_the_quantized_zero()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 2, 2, 1], Q(0.5f, 4));
        var output = g.Tensor(ElementType.Int8, [1, 1, 1, 1], Q(0.5f, 4));
        g.Op(OpKind.MaxPool2D, new Pool2DAttributes(Padding.Valid, 2, 2, 2, 2, FusedActivation.Relu), [input], output);
        var graph = g.Build(output);
        Assert.Equal(new double[] { 4 }, RunSingle(graph, new[] { -10, 3, 1, -100 }));     // max 3 < zero point 4
        Assert.Equal(new double[] { 9 }, RunSingle(graph, new[] { -10, 3, 9, -100 }));
    }

    private static Graph Softmax(int[] shape, float inScale, int inZp, ElementType outType = ElementType.Int8, float beta = 1f)
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, shape, Q(inScale, inZp));
        var output = outType == ElementType.Int8 ? g.Tensor(ElementType.Int8, shape, Q(1f / 256, -128)) : g.Tensor(ElementType.Int16, shape, Q(1f / 65536, -32768));
        g.Op(OpKind.Softmax, new SoftmaxAttributes(beta), [input], output);
        return g.Build(output);
    }

    [Fact]
    public void Softmax_int8_of_equal_inputs_is_one_over_n()
    {
        // 1/4 on scale 1/256 with zero point -128: 64 - 128 = -64; two rows, each normalised on its own.
        Assert.Equal(new double[] { -64, -64, -64, -64, -64, -64, -64, -64 }, RunSingle(Softmax([2, 4], 0.1f, 0), new[] { 5, 5, 5, 5, -7, -7, -7, -7 }));
    }

    [Fact]
    public void Softmax_int8_saturates_a_dominant_input_and_zeroes_far_ones()
    {
        // exp(-25.5) underflows: below diff_min the output is the minimum; the winner (1.0) saturates to 127.
        Assert.Equal(new double[] { 127, -128 }, RunSingle(Softmax([1, 2], 0.1f, 0), new[] { 127, -128 }));
    }

    [Fact]
    public void Softmax_int8_is_within_one_step_of_the_real_softmax()
    {
        var random = new Random(5);
        const float scale = 0.0625f;
        for (int trial = 0; trial < 20; trial++)
        {
            var x = Enumerable.Range(0, 10).Select(_ => random.Next(-128, 128)).ToArray();
            var y = RunSingle(Softmax([1, 10], scale, 3), x);
            var exps = x.Select(v => Math.Exp((v - x.Max()) * scale)).ToArray();
            for (int i = 0; i < 10; i++)
            {
                double real = exps[i] / exps.Sum();
                Assert.InRange(y[i], Math.Min(127, real * 256 - 128 - 1), real * 256 - 128 + 1);
            }
        }
    }

    [Fact]
    public void Softmax_float_sums_to_one()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [1, 3]);
        var output = g.Tensor(ElementType.Float32, [1, 3]);
        g.Op(OpKind.Softmax, new SoftmaxAttributes(2f), [input], output);
        var y = RunSingle(g.Build(output), new double[] { 1, 2, 3 });
        var e = new[] { Math.Exp(-4), Math.Exp(-2), 1.0 };
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(y[i] - e[i] / e.Sum()) < 1e-6);
    }

    [Fact]
    public void Softmax_int16_is_within_a_few_Q15_steps_of_the_real_softmax()
    {
        var random = new Random(9);
        const float scale = 0.001f;
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int16, [3, 6], Q(scale, 0));
        var output = g.Tensor(ElementType.Int16, [3, 6], Q(1f / 32768, 0));
        g.Op(OpKind.Softmax, new SoftmaxAttributes(1f), [input], output);
        var graph = g.Build(output);
        for (int trial = 0; trial < 10; trial++)
        {
            var x = Enumerable.Range(0, 18).Select(_ => random.Next(-6000, 6000)).ToArray();
            var y = RunSingle(graph, x);
            for (int r = 0; r < 3; r++)
            {
                var row = x.Skip(6 * r).Take(6).ToArray();
                var exps = row.Select(v => Math.Exp((v - row.Max()) * scale)).ToArray();
                for (int c = 0; c < 6; c++)
                    Assert.True(Math.Abs(y[6 * r + c] - 32768 * exps[c] / exps.Sum()) <= 8, $"{y[6 * r + c]} vs {32768 * exps[c] / exps.Sum()}");
            }
        }
    }

    [Fact]
    public void Softmax_int8_to_int16_output()
    {
        // Equal inputs: 1/4 on scale 1/65536 with zero point -32768 → 16384 - 32768 = -16384.
        Assert.Equal(new double[] { -16384, -16384, -16384, -16384 }, RunSingle(Softmax([1, 4], 0.1f, 0, ElementType.Int16), new[] { 9, 9, 9, 9 }));
    }
}
