using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;
using GraphBuilder = MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Operators;

/// <summary>The element-wise math operators (EXP, LOG, SQRT, RSQRT, SQUARE, SIN, COS, FLOOR, CEIL, ROUND, ELU) where
/// tests/operators' TFLM cases do not reach: TFLM's rounding rules worked by hand, the types TFLM refuses, and the
/// generated C against the evaluator bit for bit on the values float functions get wrong most easily.</summary>
public class MathTests
{
    private static readonly OpKind[] FloatKinds =
        { OpKind.Exp, OpKind.Log, OpKind.Sqrt, OpKind.Rsqrt, OpKind.Square, OpKind.Sin, OpKind.Cos, OpKind.Floor, OpKind.Ceil, OpKind.Round, OpKind.Elu };

    private static Graph Unary(OpKind kind, ElementType type, int length, (float S, int Z)? qi = null, (float S, int Z)? qo = null)
    {
        var g = new GraphBuilder();
        var input = g.Input(type, [length], qi is { } i ? Q(i.S, i.Z) : null);
        var output = g.Tensor(type, [length], qo is { } o ? Q(o.S, o.Z) : null);
        g.Op(kind, NoAttributes.Instance, [input], output);
        return g.Build(output);
    }

    private static Graph Cast(ElementType from, ElementType to, int length)
    {
        var g = new GraphBuilder();
        var input = g.Input(from, [length]);
        var output = g.Tensor(to, [length]);
        g.Op(OpKind.Cast, NoAttributes.Instance, [input], output);
        return g.Build(output);
    }

    private static Graph L2(ElementType type, int rows, int depth, (float S, int Z)? q)
    {
        var g = new GraphBuilder();
        var input = g.Input(type, [rows, depth], q is { } i ? Q(i.S, i.Z) : null);
        var output = g.Tensor(type, [rows, depth], q is null ? null : Q(1f / 128, 0));
        g.Op(OpKind.L2Normalization, NoAttributes.Instance, [input], output);
        return g.Build(output);
    }

    [Fact]
    public void Cast_from_float32_truncates_and_wraps_as_TFLM_on_x86_64()
    {
        Assert.Equal(new double[] { 44, -44, 0, 0, -1, 0 }, RunSingle(Cast(ElementType.Float32, ElementType.Int8, 6), new[] { 300.7, -300.7, 3e9, double.NaN, -1.9, -0.9 }));
    }

    private static readonly double[] Specials =
    {
        0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e-45, -1e-45, 1e-38, 3e38, -3e38, double.PositiveInfinity, double.NegativeInfinity,
        double.NaN, 8388607.5, -8388608.0, 1e10, -1e10, 105414350.0, 3.14159274, 1.57079637, -89.0, -110.0, 90.0, 0.34, -0.35, -1e-7,
    };

    [Fact]
    public void Round_takes_ties_to_even_and_keeps_TFLites_signed_zeros()
    {
        var g = Unary(OpKind.Round, ElementType.Float32, 8);
        var values = ReferenceEvaluator.Run(g, new[] { Bytes(ElementType.Float32, new[] { 0.5, 1.5, 2.5, -2.5, -3.5, -0.3, 2.4999998, -0.0 }) })[g.Outputs[0]];
        Assert.Equal(new double[] { 0, 2, 2, -2, -4, 0, 2, 0 }, Values(ElementType.Float32, values));
        Assert.Equal(0, values[23] & 0x80);    // round(-0.3) = floor + 1 = +0, as TFLite computes it
        Assert.Equal(0x80, values[31] & 0x80); // round(-0.0) = floor(-0.0) = -0
    }

    [Fact]
    public void Floor_and_ceil_are_exact_at_the_edges_of_the_float_integers()
    {
        var inputs = new[] { -0.5, 0.5, -1.0, 8388607.5, -8388607.5, 16777217.0, -0.0 };
        Assert.Equal(new double[] { -1, 0, -1, 8388607, -8388608, 16777216, 0 }, RunSingle(Unary(OpKind.Floor, ElementType.Float32, 7), inputs));
        Assert.Equal(new double[] { 0, 1, -1, 8388608, -8388607, 16777216, 0 }, RunSingle(Unary(OpKind.Ceil, ElementType.Float32, 7), inputs));
    }

    [Fact]
    public void Rsqrt_int8_gives_the_largest_value_at_the_zero_point()
    {
        // TFLM: "any value close to 0 represents the max output value"; v = 4 (x = 1 at scale 0.25 -> 1/sqrt(1) = 1 -> 1/0.0625 = 16).
        var g = Unary(OpKind.Rsqrt, ElementType.Int8, 3, (0.25f, -3), (0.0625f, 0));
        Assert.Equal(new double[] { 127, 16, 8 }, RunSingle(g, new[] { -3, 1, 13 }));
    }

    [Theory]
    [InlineData(47)]   // EXP
    [InlineData(73)]   // LOG
    [InlineData(108)]  // COS
    [InlineData(104)]  // CEIL
    public void Int8_is_refused_where_TFLite_Micro_refuses_it(int builtin)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 4 }, quantization: (0.5f, 3));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 4 }, quantization: (0.5f, 3));
        b.AddOperator(builtin, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Assert.Throws<Diagnostics.CompilerException>(() => TfliteImporter.Load(b.Build(), "math.tflite"));
        Assert.Equal(Diagnostics.ErrorCodes.UnsupportedElementType, e.Code);
        Assert.Contains("supports float32", e.Message);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void Generated_C_matches_the_reference_evaluator_bit_for_bit()
    {
        var r = new RandomGraphs(111);
        var cases = new List<RandomGraphs.Case>();
        foreach (var kind in FloatKinds)
        {
            cases.AddRange(Enumerable.Range(0, 2).Select(_ => r.Unary(kind, ElementType.Float32)));
            cases.Add(new RandomGraphs.Case($"{kind.Name} float32 special values", Unary(kind, ElementType.Float32, Specials.Length),
                new[] { Bytes(ElementType.Float32, Specials) }));
        }

        foreach (var kind in new[] { OpKind.Rsqrt, OpKind.Elu })
        {
            cases.AddRange(Enumerable.Range(0, 2).Select(_ => r.Unary(kind, ElementType.Int8)));
            cases.Add(r.UnaryExhaustive(kind, ElementType.Int8));
        }

        // CAST from float32 beyond every integer range and NaN (defined as x86-64 converts: INT32_MIN, then narrowed).
        foreach (var to in new[] { ElementType.Int8, ElementType.Int16, ElementType.Int32 })
            cases.Add(new RandomGraphs.Case($"CAST float32 to {to.DisplayName()} out of range", Cast(ElementType.Float32, to, 8),
                new[] { Bytes(ElementType.Float32, new[] { 3e9, -3e9, double.NaN, 2147483520.0, -2147483648.0, 300.7, -300.7, -0.9 }) }));
        // L2_NORMALIZATION int8 with rows of zero and one (TFLM's inverse square root takes both as 1) and a long row.
        cases.Add(new RandomGraphs.Case("L2_NORMALIZATION int8 degenerate rows", L2(ElementType.Int8, 3, 40, (0.1f, 5)),
            new[] { Bytes(ElementType.Int8, Enumerable.Repeat(5, 40).Concat(Enumerable.Repeat(5, 39)).Append(6).Concat(Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? -128 : 127))) }));
        cases.Add(new RandomGraphs.Case("L2_NORMALIZATION float32 tiny and huge rows", L2(ElementType.Float32, 2, 3, null),
            new[] { Bytes(ElementType.Float32, new[] { 1e-30, -2e-30, 0.0, 1e19, -3e19, 2e19 }) }));
        DifferentialTests.CheckAll(cases, "math");
    }
}
