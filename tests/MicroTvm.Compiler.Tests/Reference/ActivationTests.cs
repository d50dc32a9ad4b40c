using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Reference;

public class ActivationTests
{
    private static Graph Unary(OpKind kind, OpAttributes attributes, ElementType type, (float S, int Z) qi, (float S, int Z) qo, int length)
    {
        var g = new GraphBuilder();
        bool isFloat = type == ElementType.Float32;
        var input = g.Input(type, [length], isFloat ? null : Q(qi.S, qi.Z));
        var output = g.Tensor(type, [length], isFloat ? null : Q(qo.S, qo.Z));
        g.Op(kind, attributes, [input], output);
        return g.Build(output);
    }

    private static Graph UnaryFloat(OpKind kind, OpAttributes attributes, int length) => Unary(kind, attributes, ElementType.Float32, default, default, length);

    private static readonly int[] AllInt8 = Enumerable.Range(-128, 256).ToArray();

    [Fact]
    public void Relu_int8_rescales_and_clamps_at_the_output_zero_point()
    {
        // Input scale 0.5 zp 2 → output scale 0.25 zp -10: q = -10 + 2(x - 2), at least -10.
        var g = Unary(OpKind.Relu, NoAttributes.Instance, ElementType.Int8, (0.5f, 2), (0.25f, -10), 4);
        Assert.Equal(new double[] { -4, -10, 127, -10 }, RunSingle(g, new[] { 5, 0, 127, 2 }));
    }

    [Fact]
    public void Relu6_int8_clamps_stored_values_to_quantized_zero_and_six()
    {
        // scale 0.5, zp -3: zero = -3, six = 12 - 3 = 9.
        var g = Unary(OpKind.Relu6, NoAttributes.Instance, ElementType.Int8, (0.5f, -3), (0.5f, -3), 4);
        Assert.Equal(new double[] { -3, 0, 9, 9 }, RunSingle(g, new[] { -128, 0, 9, 100 }));
    }

    [Fact]
    public void Relu_and_Relu6_float()
    {
        Assert.Equal(new double[] { 0, 0.5, 7 }, RunSingle(UnaryFloat(OpKind.Relu, NoAttributes.Instance, 3), new[] { -1.0, 0.5, 7 }));
        Assert.Equal(new double[] { 0, 0.5, 6 }, RunSingle(UnaryFloat(OpKind.Relu6, NoAttributes.Instance, 3), new[] { -1.0, 0.5, 7 }));
    }

    [Fact]
    public void LeakyRelu_int8_uses_the_alpha_multiplier_below_the_zero_point()
    {
        // Same scales, alpha 0.25: -8 → -2; -6 → -1.5 → -2; -2 → -0.5 → -1 (ties away from zero after an exact high multiply).
        var g = Unary(OpKind.LeakyRelu, new LeakyReluAttributes(0.25f), ElementType.Int8, (0.5f, 0), (0.5f, 0), 4);
        Assert.Equal(new double[] { -2, -2, -1, 7 }, RunSingle(g, new[] { -8, -6, -2, 7 }));
        Assert.Equal(new double[] { -0.5, 3 }, RunSingle(UnaryFloat(OpKind.LeakyRelu, new LeakyReluAttributes(0.25f), 2), new[] { -2.0, 3 }));
    }

    [Fact]
    public void HardSwish_float_and_int8_follow_x_relu6_x_plus_3_over_6()
    {
        var f = RunSingle(UnaryFloat(OpKind.HardSwish, NoAttributes.Instance, 4), new[] { -4.0, -1, 1, 4 });
        Assert.Equal(new[] { 0, -1.0 / 3, 2.0 / 3, 4 }, f, (a, b) => Math.Abs(a - b) < 1e-6);

        const float inScale = 0.05f, outScale = 0.03f;
        var g = Unary(OpKind.HardSwish, NoAttributes.Instance, ElementType.Int8, (inScale, 5), (outScale, -20), 256);
        var y = RunSingle(g, AllInt8);
        for (int i = 0; i < 256; i++)
        {
            double x = (AllInt8[i] - 5) * inScale;
            double real = x * Math.Min(6, Math.Max(0, x + 3)) / 6;
            double expected = Math.Clamp(real / outScale - 20, -128, 127);
            Assert.True(Math.Abs(y[i] - expected) <= 1, $"x={AllInt8[i]}: {y[i]} vs {expected}");
        }
    }

    [Fact]
    public void Logistic_int8_is_within_one_step_of_the_sigmoid_and_exact_at_zero()
    {
        var g = Unary(OpKind.Logistic, NoAttributes.Instance, ElementType.Int8, (0.1f, 3), (1f / 256, -128), 256);
        var y = RunSingle(g, AllInt8);
        for (int i = 0; i < 256; i++)
        {
            double expected = Math.Clamp(256 / (1 + Math.Exp(-(AllInt8[i] - 3) * 0.1)) - 128, -128, 127);
            Assert.True(Math.Abs(y[i] - expected) <= 1, $"x={AllInt8[i]}: {y[i]} vs {expected}");
        }

        Assert.Equal(0, y[128 + 3]);   // sigmoid(0) = 1/2 = 128/256
    }

    [Fact]
    public void Tanh_int8_is_within_one_step_of_tanh_and_odd()
    {
        var g = Unary(OpKind.Tanh, NoAttributes.Instance, ElementType.Int8, (0.04f, 0), (1f / 128, 0), 256);
        var y = RunSingle(g, AllInt8);
        for (int i = 0; i < 256; i++)
        {
            double expected = Math.Clamp(128 * Math.Tanh(AllInt8[i] * 0.04), -128, 127);
            Assert.True(Math.Abs(y[i] - expected) <= 1, $"x={AllInt8[i]}: {y[i]} vs {expected}");
        }

        Assert.Equal(0, y[128]);
        for (int x = 1; x < 127; x++)
            if (Math.Abs(y[128 + x]) < 127) Assert.Equal(-y[128 + x], y[128 - x]);   // saturation is asymmetric: -128 vs 127
    }

    [Theory]
    [InlineData(1f / 4096)]   // power-of-two input scale
    [InlineData(0.0003f)]     // general scale: multiplier and shift
    public void Logistic_and_Tanh_int16_are_within_a_few_Q15_steps(float inScale)
    {
        var x = Enumerable.Range(-64, 129).Select(i => i * 500).Select(v => Math.Clamp(v, -32768, 32767)).ToArray();
        var logistic = RunSingle(Unary(OpKind.Logistic, NoAttributes.Instance, ElementType.Int16, (inScale, 0), (1f / 32768, 0), x.Length), x);
        var tanh = RunSingle(Unary(OpKind.Tanh, NoAttributes.Instance, ElementType.Int16, (inScale, 0), (1f / 32768, 0), x.Length), x);
        for (int i = 0; i < x.Length; i++)
        {
            double real = x[i] * (double)inScale;
            Assert.True(Math.Abs(logistic[i] - Math.Min(32767, 32768 / (1 + Math.Exp(-real)))) <= 4, $"logistic x={x[i]}: {logistic[i]}");
            Assert.True(Math.Abs(tanh[i] - Math.Clamp(32768 * Math.Tanh(real), -32768, 32767)) <= 8, $"tanh x={x[i]}: {tanh[i]}");
        }

        Assert.Equal(16384, logistic[64]);
        Assert.Equal(0, tanh[64]);
    }

    [Fact]
    public void Sigmoid_table_is_close_to_sigmoid_of_i_over_24_in_unsigned_Q16()
    {
        var table = SigmoidInt16Quantization.SigmoidTable;
        Assert.Equal(256, table.Length);
        for (int i = 0; i < 256; i++)
            Assert.InRange(table[i] - 65536 / (1 + Math.Exp(-i / 24.0)), -1.5, 1.5);   // the published table deviates by up to ~1.05
    }

    [Fact]
    public void Logistic_and_Tanh_float()
    {
        var x = new[] { -20.0, -9.5, -1, 0, 2, 17 };
        var logistic = RunSingle(UnaryFloat(OpKind.Logistic, NoAttributes.Instance, x.Length), x);
        var tanh = RunSingle(UnaryFloat(OpKind.Tanh, NoAttributes.Instance, x.Length), x);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(logistic[i] - 1 / (1 + Math.Exp(-x[i]))) < 1e-6, $"logistic {x[i]}");
            Assert.True(Math.Abs(tanh[i] - Math.Tanh(x[i])) < 1e-6, $"tanh {x[i]}");
        }
    }
}
