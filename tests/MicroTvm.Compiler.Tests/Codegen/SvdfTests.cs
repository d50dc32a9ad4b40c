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

    /// <summary>The DSP SVDF (Cortex-M7 code through the portable intrinsics): int8 state with memories 4 to 32 (the
    /// word-wise shift), ranks 1 to 3, 1 to 24 inputs (padded input words), 1 to 24 filters (blocks of 4, 2 and 1),
    /// batches 1 and 2; each case three runs in a row, outputs and final state equal to the evaluator's; an int16 state
    /// and memories not a multiple of 4 take the portable kernel on the same target.</summary>
    [Fact]
    public void DspSvdfOverThreeRunsMatchesTheEvaluator()
    {
        var r = new RandomGraphs(1214);
        var cases = Enumerable.Range(0, 16).Select(i => r.Svdf(ElementType.Int8, ElementType.Int8, new[] { 4, 8, 12, 16, 32 }[i % 5]))
            .Concat(Enumerable.Range(0, 2).Select(_ => r.Svdf(ElementType.Int8, ElementType.Int8, 6)))
            .Concat(Enumerable.Range(0, 2).Select(_ => r.Svdf(ElementType.Int8, ElementType.Int16, 8)))
            .ToList();
        DifferentialTests.CheckAll(cases, "seed 1214, cortex-m7", target: "cortex-m7");
        var dsp = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m7", $"case{i}"))).Select(m => m.Files[m.SourceFile].Contains("_weights_time16", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, cases.Count).Select(i => i < 16).ToList(), dsp);
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
