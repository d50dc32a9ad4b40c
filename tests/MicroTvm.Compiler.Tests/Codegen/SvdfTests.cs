using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// SVDF and QUANTIZE between integer types, generated C against the reference evaluator (which TFLM's own outputs
/// check on keyword_scrambled_8bit, see ModelOracleTests): random operators, and a model whose state carries from
/// one run to the next. Host gcc with ASan and UBSan.
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class SvdfTests
{
    [Fact]
    public void RandomSvdfOperatorsOverThreeRunsMatchTheEvaluator()
    {
        var r = new RandomGraphs(1212);
        var cases = Enumerable.Range(0, 8).Select(_ => r.Svdf(ElementType.Int8, ElementType.Int8))
            .Concat(Enumerable.Range(0, 6).Select(_ => r.Svdf(ElementType.Int8, ElementType.Int16)))
            .Concat(Enumerable.Range(0, 6).Select(_ => r.Svdf(ElementType.Float32, ElementType.Float32)))
            .ToList();
        DifferentialTests.CheckAll(cases, "seed 1212");
    }

    [Fact]
    public void QuantizeBetweenIntegerTypesMatchesTheEvaluator()
    {
        var r = new RandomGraphs(1213);
        var pairs = new[]
        {
            (ElementType.Int16, ElementType.Int32), (ElementType.Int32, ElementType.Int16), (ElementType.Int32, ElementType.Int8),
            (ElementType.Int8, ElementType.Int32), (ElementType.Int8, ElementType.UInt8), (ElementType.UInt8, ElementType.Int8),
            (ElementType.Int16, ElementType.Int16),
        };
        var cases = pairs.SelectMany(p => Enumerable.Range(0, 3).Select(_ => r.Quantize(p.Item1, p.Item2))).ToList();
        Assert.All(cases, c => Assert.True(QuantizeConversions.Supported(c.Graph.Inputs[0].Type, c.Graph.Outputs[0].Type)));
        DifferentialTests.CheckAll(cases, "seed 1213");
    }

    /// <summary>keyword_scrambled_8bit three times in a row without a reset: the state (5,120 bytes of SVDF memory)
    /// evolves, and the generated C's state after the third run equals the evaluator's, byte for byte.</summary>
    [Fact]
    public void KeywordModelStateCarriesOverRunsAsInTheEvaluator()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("keyword_scrambled_8bit"));
        var input = TestModels.Inputs("keyword_scrambled_8bit", graph, 0).ToArray();
        DifferentialTests.CheckAll(new[] { new RandomGraphs.Case("keyword_scrambled_8bit, input 0 three times", graph, input, Runs: 3) }, "keyword");

        // The evaluator's state does change from run to run, and a reset brings the first run back.
        var state = new ModelState(graph);
        var first = ReferenceEvaluator.Run(graph, input, state);
        var afterFirst = state.Values.ToDictionary(kv => kv.Key, kv => (byte[])kv.Value.Clone());
        ReferenceEvaluator.Run(graph, input, state);
        Assert.Contains(state.Values, kv => !kv.Value.AsSpan().SequenceEqual(afterFirst[kv.Key]));
        state.Reset();
        var again = ReferenceEvaluator.Run(graph, input, state);
        Assert.All(graph.Tensors.Where(t => !t.IsConstant), t => Assert.Equal(first[t], again[t]));
    }
}
