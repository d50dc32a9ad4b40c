using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// Findings of the fuzzers that were test problems rather than compiler ones, kept as regressions (the compiler's own
/// findings are covered where the fix lives, e.g. ExtremeQuantizationTests). Models in Fuzz/Findings.
/// </summary>
[Trait("Speed", "Slow")] // gcc with sanitizers
public class FuzzFindingTests
{
    private static string Finding(string name) => Path.Combine(TestModels.Root, "..", "MicroTvm.Compiler.Tests", "Fuzz", "Findings", name);

    /// <summary>A float NaN is a NaN whatever its sign and payload bits (x86's default NaN is 0xFFC00000, Arm's
    /// 0x7FC00000); a NaN against a number is a difference, in the exact and the tolerant comparison alike.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoNaNsAreTheSameResultANaNAndANumberAreNot(bool tolerant)
    {
        var tensor = new Tensor(0, "y", ElementType.Float32, new[] { 2 });
        byte[] Floats(params uint[] bits) => bits.SelectMany(BitConverter.GetBytes).ToArray();
        Assert.Null(WholeModelTests.Difference(tensor, Floats(0xFFC00000, 0x3F800000), Floats(0x7FC00000, 0x3F800000), tolerant));
        Assert.NotNull(WholeModelTests.Difference(tensor, Floats(0xFFC00000, 0x3F800000), Floats(0x3F800000, 0x3F800000), tolerant));
        Assert.NotNull(WholeModelTests.Difference(tensor, Floats(0x3F800000, 0x3F800000), Floats(0x3F800000, 0x7FC00000), tolerant));
    }

    /// <summary>Mutant 4208 of the compile stage (seed 777123): a float CONV_2D … SOFTMAX chain whose last output is
    /// NaN for inputs of ±3e38; the evaluator and the generated C both said NaN, the comparison called them different.</summary>
    [Fact]
    public void ANaNOutputOfTheGeneratedCEqualsTheEvaluatorsNaN()
    {
        string path = Finding("softmax-nan-777123-0.tflite");
        var graph = TfliteImporter.Load(File.ReadAllBytes(path), path);
        var input = Enumerable.Range(0, (int)graph.Inputs[0].ElementCount).SelectMany(i => BitConverter.GetBytes(i % 2 == 0 ? 3e38f : -3e38f)).ToArray();
        var output = MicroTvm.Compiler.Reference.ReferenceEvaluator.Run(graph, new[] { input })[graph.Outputs[0]];
        Assert.True(float.IsNaN(BitConverter.ToSingle(output, 8)), "the evaluator's element 2 is NaN");
        DifferentialTests.CheckAll(new[] { new RandomGraphs.Case("fuzz finding 777123-0", graph, new[] { input }) }, "NaN output");
    }
}
