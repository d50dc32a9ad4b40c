using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

public class ElementwiseQuantizeTests
{
    private static Graph Binary(OpKind kind, ElementType type, int[] shapeA, int[] shapeB, int[] outShape,
        (float S, int Z) qa, (float S, int Z) qb, (float S, int Z) qo, FusedActivation activation = FusedActivation.None)
    {
        var g = new GraphBuilder();
        bool isFloat = type == ElementType.Float32;
        var a = g.Input(type, shapeA, isFloat ? null : Q(qa.S, qa.Z));
        var b = g.Input(type, shapeB, isFloat ? null : Q(qb.S, qb.Z));
        var o = g.Tensor(type, outShape, isFloat ? null : Q(qo.S, qo.Z));
        g.Op(kind, new ElementwiseAttributes(activation), [a, b], o);
        return g.Build(o);
    }

    [Fact]
    public void Add_int8_same_scale_is_exact_with_broadcasting()
    {
        // real = 0.5(a - 1) + 0.5(b + 3); on output scale 0.5 with zero point 2: q = 2 + (a - 1) + (b + 3).
        var g = Binary(OpKind.Add, ElementType.Int8, [2, 3], [3], [2, 3], (0.5f, 1), (0.5f, -3), (0.5f, 2));
        var y = RunSingle(g, new[] { 1, 2, 3, -4, -5, -6 }, new[] { 10, 0, -10 });
        Assert.Equal(new double[] { 15, 6, -3, 10, -1, -12 }, y);
    }

    [Fact]
    public void Add_int8_rounds_half_away_from_zero_and_applies_relu()
    {
        // Output scale 1: q = round((a + b) / 2); ties go away from zero; relu clamps at the zero point 0.
        var plain = Binary(OpKind.Add, ElementType.Int8, [4], [4], [4], (0.5f, 0), (0.5f, 0), (1f, 0));
        Assert.Equal(new double[] { 2, -2, 1, 127 }, RunSingle(plain, new[] { 1, -1, 1, 127 }, new[] { 2, -2, 0, 127 }));
        var relu = Binary(OpKind.Add, ElementType.Int8, [4], [4], [4], (0.5f, 0), (0.5f, 0), (1f, 0), FusedActivation.Relu);
        Assert.Equal(new double[] { 2, 0, 1, 127 }, RunSingle(relu, new[] { 1, -1, 1, 127 }, new[] { 2, -2, 0, 127 }));
    }

    [Fact]
    public void Add_int8_with_different_input_scales()
    {
        // real = 0.25a + 0.5b, output scale 0.25: q = a + 2b, exactly (the multipliers are powers of two).
        var g = Binary(OpKind.Add, ElementType.Int8, [3], [3], [3], (0.25f, 0), (0.5f, 0), (0.25f, 0));
        Assert.Equal(new double[] { 7, -7, 127 }, RunSingle(g, new[] { 1, -1, 100 }, new[] { 3, -3, 100 }));
    }

    [Fact]
    public void Add_float_with_relu6()
    {
        var g = Binary(OpKind.Add, ElementType.Float32, [3], [1], [3], default, default, default, FusedActivation.Relu6);
        Assert.Equal(new double[] { 0, 3.5, 6 }, RunSingle(g, new double[] { -3, 1, 9 }, new double[] { 2.5 }));
    }

    [Fact]
    public void Quantize_float_to_int8_rounds_half_away_and_saturates()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Float32, [6]);
        var output = g.Tensor(ElementType.Int8, [6], Q(0.5f, -1));
        g.Op(OpKind.Quantize, NoAttributes.Instance, [input], output);
        // x / 0.5: 0.5 → 1, -0.5 → -1, 2, 2000, -2000, 0.2 → 0; plus zero point -1.
        Assert.Equal(new double[] { 0, -2, 1, 127, -128, -1 }, RunSingle(g.Build(output), new double[] { 0.25, -0.25, 1, 1000, -1000, 0.1 }));
    }

    [Fact]
    public void Quantize_int8_to_int8_requantizes()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [4], Q(0.5f, 2));
        var output = g.Tensor(ElementType.Int8, [4], Q(1f, -3));
        g.Op(OpKind.Quantize, NoAttributes.Instance, [input], output);
        // (x - 2) / 2 with shift 0, so only the doubling high multiply rounds, and its ties are asymmetric:
        // 5 → 1.5 → 2 → -1; -1 → -1.5 → -1 (a negative tie goes toward zero) → -4; 127 → 62.5 → 63 → 60; 2 → -3
        Assert.Equal(new double[] { -1, -4, 60, -3 }, RunSingle(g.Build(output), new[] { 5, -1, 127, 2 }));
    }

    [Fact]
    public void Dequantize_int8_to_float()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [3], Q(0.5f, -1));
        var output = g.Tensor(ElementType.Float32, [3]);
        g.Op(OpKind.Dequantize, NoAttributes.Instance, [input], output);
        Assert.Equal(new double[] { 0, 2, -63.5 }, RunSingle(g.Build(output), new[] { -1, 3, -128 }));
    }

    [Fact]
    public void Reshape_keeps_the_bytes()
    {
        var g = new GraphBuilder();
        var input = g.Input(ElementType.Int8, [2, 3], Q(1f));
        var output = g.Tensor(ElementType.Int8, [3, 2], Q(1f));
        g.Op(OpKind.Reshape, new ReshapeAttributes([3, 2]), [input], output);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, RunSingle(g.Build(output), new[] { 1, 2, 3, 4, 5, 6 }));
    }

    [Fact]
    public void Sub_int8_same_scale_is_exact()
    {
        // real = 0.5(a - 1) - 0.5(b + 2) on scale 0.5 zp 0: q = a - b - 3
        var g = Binary(OpKind.Sub, ElementType.Int8, [3], [3], [3], (0.5f, 1), (0.5f, -2), (0.5f, 0));
        Assert.Equal(new double[] { -3, 7, -128 }, RunSingle(g, new[] { 5, 0, -100 }, new[] { 5, -10, 100 }));
    }

    [Fact]
    public void Sub_float_broadcasts_the_second_operand()
    {
        var g = Binary(OpKind.Sub, ElementType.Float32, [2, 2], [2, 1], [2, 2], default, default, default);
        Assert.Equal(new double[] { 0, 1, -7, -6 }, RunSingle(g, new double[] { 1, 2, 3, 4 }, new double[] { 1, 10 }));
    }

    [Fact]
    public void Mul_int8_rescales_the_product()
    {
        // scales 0.5·0.5/0.25 = 1: q = (a - 1)(b + 1) + 3, clamped; with Relu the floor is the zero point 3.
        var g = Binary(OpKind.Mul, ElementType.Int8, [4], [4], [4], (0.5f, 1), (0.5f, -1), (0.25f, 3));
        Assert.Equal(new double[] { 11, -3, 127, 3 }, RunSingle(g, new[] { 3, 4, 100, 1 }, new[] { 3, -3, 100, 50 }));
        var relu = Binary(OpKind.Mul, ElementType.Int8, [4], [4], [4], (0.5f, 1), (0.5f, -1), (0.25f, 3), FusedActivation.Relu);
        Assert.Equal(new double[] { 11, 3, 127, 3 }, RunSingle(relu, new[] { 3, 4, 100, 1 }, new[] { 3, -3, 100, 50 }));
    }

    [Fact]
    public void Mul_int16_and_float()
    {
        // int16: 0.25·0.5/0.125 = 1 → q = a·b (zero points 0)
        var g = Binary(OpKind.Mul, ElementType.Int16, [3], [1], [3], (0.25f, 0), (0.5f, 0), (0.125f, 0));
        Assert.Equal(new double[] { 300, -600, 32767 }, RunSingle(g, new[] { 100, -200, 30000 }, new[] { 3 }));
        var f = Binary(OpKind.Mul, ElementType.Float32, [2], [2], [2], default, default, default);
        Assert.Equal(new double[] { -2, 7.5 }, RunSingle(f, new double[] { 1, 2.5 }, new double[] { -2, 3 }));
    }

    [Fact]
    public void Add_int16_uses_left_shift_15()
    {
        // Equal scales 1/64, zero points 0: q = a + b, saturating at the int16 range.
        var g = Binary(OpKind.Add, ElementType.Int16, [3], [3], [3], (1f / 64, 0), (1f / 64, 0), (1f / 64, 0));
        Assert.Equal(new double[] { 3000, -32768, 32767 }, RunSingle(g, new[] { 1000, -30000, 30000 }, new[] { 2000, -30000, 30000 }));
    }

    [Fact]
    public void Maximum_and_Minimum_broadcast_on_stored_values()
    {
        var max = Binary(OpKind.Maximum, ElementType.Int8, [2, 2], [2], [2, 2], (1f, 0), (1f, 0), (1f, 0));
        Assert.Equal(new double[] { 5, 2, 5, 4 }, RunSingle(max, new[] { 1, 2, 3, 4 }, new[] { 5, 0 }));
        var min = Binary(OpKind.Minimum, ElementType.Float32, [3], [1], [3], default, default, default);
        Assert.Equal(new double[] { -1, 0.5, 0.5 }, RunSingle(min, new double[] { -1, 0.5, 9 }, new double[] { 0.5 }));
    }
}
