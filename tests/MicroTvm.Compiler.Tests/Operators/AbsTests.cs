using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;
using GraphBuilder = MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Operators;

/// <summary>ABS end to end: import, the reference evaluator against TFLite Micro's arithmetic worked by hand, and the
/// generated C (host gcc) against the evaluator.</summary>
public class AbsTests
{
    private static Graph Abs(ElementType type, (float S, int Z)? qi, (float S, int Z)? qo, int length)
    {
        var g = new GraphBuilder();
        var input = g.Input(type, [length], qi is { } i ? Q(i.S, i.Z) : null);
        var output = g.Tensor(type, [length], qo is { } o ? Q(o.S, o.Z) : null);
        g.Op(OpKind.Abs, NoAttributes.Instance, [input], output);
        return g.Build(output);
    }

    [Fact]
    public void Imports_builtin_101_as_ABS()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 4 }, quantization: (0.5f, 2));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 4 }, quantization: (0.25f, -10));
        b.AddOperator(101, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var node = Assert.Single(TfliteImporter.Load(b.Build(), "abs.tflite").Nodes);
        Assert.Equal(OpKind.Abs, node.Kind);
        Assert.Equal("ABS", node.Kind.Name);
    }

    [Fact]
    public void Int8_with_another_output_scale_rescales_the_magnitude()
    {
        // Scale 0.5 zp 2 -> scale 0.25 zp -10: ratio 2.0 (multiplier 2^30, shift 2), y = 2|x - 2| - 10, clamped.
        var g = Abs(ElementType.Int8, (0.5f, 2), (0.25f, -10), 5);
        Assert.Equal(new double[] { 6, -10, 106, 127, 127 }, RunSingle(g, new[] { -6, 2, 60, 127, -128 }));
    }

    [Fact]
    public void Int8_with_the_same_scale_moves_only_the_zero_point()
    {
        // Same scale 0.5, zp 2 -> -3: y = |x - 2| - 3, clamped (|-128 - 2| - 3 = 127).
        var g = Abs(ElementType.Int8, (0.5f, 2), (0.5f, -3), 4);
        Assert.Equal(new double[] { 5, -3, 127, 122 }, RunSingle(g, new[] { -6, 2, -128, 127 }));
    }

    [Fact]
    public void Int16_rounds_as_the_fixed_point_multiply_does()
    {
        // Scale 0.001 -> 0.002: ratio 0.5 (multiplier 2^30, shift 0): y = floor(|x| / 2 + 1/2).
        var g = Abs(ElementType.Int16, (0.001f, 0), (0.002f, 0), 5);
        Assert.Equal(new double[] { 3, 16384, 4, 0, 2 }, RunSingle(g, new[] { -5, -32768, 7, 0, 3 }));
    }

    [Fact]
    public void Float32_clears_the_sign_bit()
    {
        var g = Abs(ElementType.Float32, null, null, 4);
        var values = ReferenceEvaluator.Run(g, new[] { Bytes(ElementType.Float32, new[] { -1.5, 2.25, -0.0, -3e38 }) })[g.Outputs[0]];
        Assert.Equal(new double[] { 1.5, 2.25, 0, 3e38f }, Values(ElementType.Float32, values));
        Assert.Equal(0, values[11] & 0x80); // +0.0, not -0.0
    }

    [Fact]
    public void Int16_with_a_zero_point_is_rejected_as_TFLite_Micro_rejects_it()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int16, new[] { 4 }, quantization: (0.5f, 3));
        int y = b.AddTensor("y", ElementType.Int16, new[] { 4 }, quantization: (0.5f, 0));
        b.AddOperator(101, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var e = Assert.Throws<Diagnostics.CompilerException>(() => TfliteImporter.Load(b.Build(), "abs.tflite"));
        Assert.Equal(Diagnostics.ErrorCodes.InvalidQuantization, e.Code);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void Generated_C_matches_the_reference_evaluator()
    {
        var r = new RandomGraphs(101);
        var cases = new List<RandomGraphs.Case>();
        foreach (var type in new[] { ElementType.Int8, ElementType.Int16, ElementType.Float32 })
            cases.AddRange(Enumerable.Range(0, 4).Select(_ => r.Unary(OpKind.Abs, type)));
        cases.Add(r.UnaryExhaustive(OpKind.Abs, ElementType.Int8));
        cases.Add(r.UnaryExhaustive(OpKind.Abs, ElementType.Int16));
        // Same scale (no rescaling), every int8 value, an output zero point that makes both ends clamp.
        cases.Add(new RandomGraphs.Case("ABS int8 same scale", Abs(ElementType.Int8, (0.1f, -20), (0.1f, 40), 256),
            new[] { Bytes(ElementType.Int8, Enumerable.Range(-128, 256)) }));
        cases.Add(new RandomGraphs.Case("ABS float32 signed zeros and extremes", Abs(ElementType.Float32, null, null, 6),
            new[] { Bytes(ElementType.Float32, new[] { -0.0, 0.0, -1.5, 1e-30, -3e38, -1e-45 }) }));
        DifferentialTests.CheckAll(cases, "ABS");
    }
}
