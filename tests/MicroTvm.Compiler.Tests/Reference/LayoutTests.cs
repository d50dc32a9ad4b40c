using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

public class LayoutTests
{
    [Fact]
    public void Concatenation_copies_stored_values_along_the_axis()
    {
        var g = new GraphBuilder();
        var a = g.Input(ElementType.Int8, [2, 1, 2], Q(0.5f, 1));
        var b = g.Input(ElementType.Int8, [2, 2, 2], Q(0.5f, 1));
        var o = g.Tensor(ElementType.Int8, [2, 3, 2], Q(0.5f, 1));
        g.Op(OpKind.Concatenation, new ConcatenationAttributes(1, FusedActivation.None), [a, b], o);
        Assert.Equal(new double[] { 1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17 },
            RunSingle(g.Build(o), new[] { 1, 2, 3, 4 }, new[] { 10, 11, 12, 13, 14, 15, 16, 17 }));
    }

    [Fact]
    public void Concatenation_float_on_the_last_axis()
    {
        var g = new GraphBuilder();
        var a = g.Input(ElementType.Float32, [2, 1]);
        var b = g.Input(ElementType.Float32, [2, 2]);
        var o = g.Tensor(ElementType.Float32, [2, 3]);
        g.Op(OpKind.Concatenation, new ConcatenationAttributes(1, FusedActivation.None), [a, b], o);
        Assert.Equal(new double[] { 1, 3, 4, 2, 5, 6 }, RunSingle(g.Build(o), new double[] { 1, 2 }, new double[] { 3, 4, 5, 6 }));
    }

    [Fact]
    public void Pad_int8_fills_with_the_output_zero_point_and_PadV2_with_its_value()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 2], Q(0.5f, -7));
        var output = g.Tensor(ElementType.Int8, [2, 5], Q(0.5f, -7));
        g.Op(OpKind.Pad, new PadAttributes([0, 1], [1, 2]), [input], output);
        Assert.Equal(new double[] { -7, 1, 2, -7, -7, -7, -7, -7, -7, -7 }, RunSingle(g.Build(output), new[] { 1, 2 }));

        var g2 = new GraphBuilder();
        var input2 = g2.Input(ElementType.Int16, [3], Q(1f));
        var value = g2.Constant(ElementType.Int16, [], new[] { 99 }, Q(1f));
        var output2 = g2.Tensor(ElementType.Int16, [5], Q(1f));
        g2.Op(OpKind.PadV2, new PadAttributes([2], [0]), [input2, value], output2);
        Assert.Equal(new double[] { 99, 99, 1, 2, 3 }, RunSingle(g2.Build(output2), new[] { 1, 2, 3 }));
    }

    [Fact]
    public void Transpose_permutes_dimensions()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [2, 3]);
        var output = g.Tensor(ElementType.Float32, [3, 2]);
        g.Op(OpKind.Transpose, new TransposeAttributes([1, 0]), [input], output);
        Assert.Equal(new double[] { 1, 4, 2, 5, 3, 6 }, RunSingle(g.Build(output), new double[] { 1, 2, 3, 4, 5, 6 }));

        var g3 = new GraphBuilder();
        var input3 = g3.Input(ElementType.Int8, [2, 2, 2], Q(1f));
        var output3 = g3.Tensor(ElementType.Int8, [2, 2, 2], Q(1f));
        g3.Op(OpKind.Transpose, new TransposeAttributes([2, 0, 1]), [input3], output3);
        // out[k][i][j] = in[i][j][k]
        Assert.Equal(new double[] { 0, 2, 4, 6, 1, 3, 5, 7 }, RunSingle(g3.Build(output3), new[] { 0, 1, 2, 3, 4, 5, 6, 7 }));
    }

    private static double[] Slice(int[] inShape, int[] outShape, StridedSliceAttributes attributes)
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int32, inShape);
        var output = g.Tensor(ElementType.Int32, outShape);
        g.Op(OpKind.StridedSlice, attributes, [input], output);
        int count = inShape.Aggregate(1, (a, b) => a * b);
        return RunSingle(g.Build(output), Enumerable.Range(0, count).ToArray());
    }

    [Fact]
    public void StridedSlice_begin_end_stride_and_negative_indices()
    {
        // [0..9][1:-2:3] → 1, 4, 7
        Assert.Equal(new double[] { 1, 4, 7 }, Slice([10], [3], new([1], [-2], [3], 0, 0, 0, 0, 0, false)));
        // reversed with masks: [::-2] → 9, 7, 5, 3, 1
        Assert.Equal(new double[] { 9, 7, 5, 3, 1 }, Slice([10], [5], new([0], [0], [-2], 1, 1, 0, 0, 0, false)));
        // out-of-range ends clamp: [-100:100] is everything
        Assert.Equal(new double[] { 0, 1, 2 }, Slice([3], [3], new([-100], [100], [1], 0, 0, 0, 0, 0, false)));
    }

    [Fact]
    public void StridedSlice_shrink_axis_ellipsis_and_new_axis()
    {
        // x is 2x3x4 (values 0..23). x[1, :, 2] via shrink on axes 0 and 2 → [14, 18, 22]
        Assert.Equal(new double[] { 14, 18, 22 }, Slice([2, 3, 4], [3], new([1, 0, 2], [2, 0, 3], [1, 1, 1], 0b010, 0b010, 0, 0, 0b101, false)));
        // x[..., 1] → shape 2x3: the ellipsis covers the first two dimensions.
        Assert.Equal(new double[] { 1, 5, 9, 13, 17, 21 }, Slice([2, 3, 4], [2, 3], new([0, 1], [0, 2], [1, 1], 0, 0, 0b01, 0, 0b10, false)));
        // x[np.newaxis, 0] → shape 1x3x4
        Assert.Equal(Enumerable.Range(0, 12).Select(v => (double)v), Slice([2, 3, 4], [1, 3, 4], new([0, 0], [0, 1], [1, 1], 0, 0, 0, 0b01, 0b10, false)));
    }

    /// <summary>
    /// TensorFlow Lite Micro (the oracle's version) has no truncating shortcut for equal quantization: the sum is
    /// rescaled and rounded like any other MEAN, so means round to nearest, ties away from zero.
    /// </summary>
    [Fact]
    public void Mean_int8_with_equal_quantization_rounds_like_any_other_mean()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [1, 2, 2, 1], Q(0.5f, 0));
        var output = g.Tensor(ElementType.Int8, [1, 1, 1, 1], Q(0.5f, 0));
        g.Op(OpKind.Mean, new MeanAttributes([1, 2], true), [input], output);
        Assert.Equal(new double[] { -2 }, RunSingle(g.Build(output), new[] { -1, -2, -3, 0 }));   // -6 / 4 = -1.5 → -2

        // Global pooling of a 7x7 image: channel sums over 49 pixels whose means lie well away from a half (near one,
        // the fixed-point rescaling rounds twice and may go either way); truncation would give 0, 0, 0, 0.
        g = new GraphBuilder();
        input = g.Input(ElementType.Int8, [1, 7, 7, 4], Q(0.02f, 3));
        output = g.Tensor(ElementType.Int8, [1, 1, 1, 4], Q(0.02f, 3));
        g.Op(OpKind.Mean, new MeanAttributes([1, 2], true), [input], output);
        var values = new int[49 * 4];
        int[] sums = { 30, -30, 20, 40 };
        for (int channel = 0; channel < 4; channel++)
            for (int pixel = 0, left = sums[channel]; left != 0; pixel++, left -= Math.Sign(left))
                values[pixel * 4 + channel] = Math.Sign(left);
        for (int i = 0; i < values.Length; i++) values[i] += 3;   // the zero point
        var expected = sums.Select(sum => Math.Round(sum / 49.0, MidpointRounding.AwayFromZero) + 3).ToArray();
        Assert.Equal(expected, RunSingle(g.Build(output), values));
    }

    [Fact]
    public void Mean_int8_with_different_quantization_rescales()
    {
        // input scale 0.5 zp 2, output scale 0.25 zp -1, mean over the last axis of 4:
        // real means: ((6-2)+(10-2)+(0-2)+(2-2)) * 0.5 / 4 = 1.25 → 5 - 1 = 4; second row: (-8-8-8-8)*0.5/4 = -4 → -17.
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [2, 4], Q(0.5f, 2));
        var output = g.Tensor(ElementType.Int8, [2], Q(0.25f, -1));
        g.Op(OpKind.Mean, new MeanAttributes([1], false), [input], output);
        Assert.Equal(new double[] { 4, -17 }, RunSingle(g.Build(output), new[] { 6, 10, 0, 2, -6, -6, -6, -6 }));
    }

    [Fact]
    public void Mean_float_over_two_axes()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [2, 2, 2]);
        var output = g.Tensor(ElementType.Float32, [2]);
        g.Op(OpKind.Mean, new MeanAttributes([0, 1], false), [input], output);
        Assert.Equal(new double[] { 3, 4 }, RunSingle(g.Build(output), new double[] { 0, 1, 2, 3, 4, 5, 6, 7 }));
    }

    [Fact]
    public void Operands_that_contradict_the_output_shape_are_an_MTVM_error_naming_the_operator()
    {
        var g = new GraphBuilder();
        var a = g.Input(ElementType.Int8, [1, 2], Q(1f));
        var b = g.Input(ElementType.Int8, [1, 2], Q(1f));
        var o = g.Tensor(ElementType.Int8, [1, 3], Q(1f));
        g.Op(OpKind.Concatenation, new ConcatenationAttributes(1, FusedActivation.None), [a, b], o);
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => RunSingle(g.Build(o), new[] { 1, 2 }, new[] { 3, 4 }));
        Assert.Equal("MTVM1008", e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("CONCATENATION", e.OperatorName);
    }

    [Fact]
    public void Wrong_input_size_is_MTVM2002()
    {
        var g = new GraphBuilder();
        var a = g.Input(ElementType.Int8, [4], Q(1f));
        var o = g.Tensor(ElementType.Int8, [4], Q(1f));
        g.Op(OpKind.Reshape, new ReshapeAttributes([4]), [a], o);
        var e = Assert.Throws<MicroTvm.Compiler.Diagnostics.CompilerException>(() => RunSingle(g.Build(o), new[] { 1, 2 }));
        Assert.Equal("MTVM2002", e.Code);
    }
}
