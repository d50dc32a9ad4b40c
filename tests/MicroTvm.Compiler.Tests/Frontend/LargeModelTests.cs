using System.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>Import time grows linearly with the model: no structure in a file can make it quadratic.</summary>
public class LargeModelTests
{
    [Fact]
    public void ImportTimeIsLinearInTheNumberOfOperators()
    {
        var small = ChainModel(1000);
        var large = ChainModel(4000);
        ImportAndCheck(small, 1000); // warm up the JIT
        // Best of three, so a busy machine does not decide the outcome; quadratic growth would give a ratio near 16.
        double smallTime = Enumerable.Range(0, 3).Min(_ => Time(() => ImportAndCheck(small, 1000)));
        double largeTime = Enumerable.Range(0, 3).Min(_ => Time(() => ImportAndCheck(large, 4000)));
        Assert.True(largeTime < 8 * smallTime + 200, $"4x the operators took {largeTime:0} ms vs {smallTime:0} ms");
    }

    /// <summary>x -> RELU -> … -> RELU -> y, plus as many unused graph inputs as operators.</summary>
    private static byte[] ChainModel(int count)
    {
        var b = new TfliteModelBuilder();
        int previous = b.AddTensor("x", ElementType.Int8, new[] { 1 }, quantization: (1f, 0));
        b.Inputs.Add(previous);
        for (int i = 0; i < count; i++)
        {
            int next = b.AddTensor($"t{i}", ElementType.Int8, new[] { 1 }, quantization: (1f, 0));
            b.AddOperator(Builtin.Relu, new[] { previous }, new[] { next });
            previous = next;
        }

        for (int i = 0; i < count; i++) b.Inputs.Add(b.AddTensor($"unused{i}", ElementType.Int8, new[] { 1 }, quantization: (1f, 0)));
        b.Outputs.Add(previous);
        return b.Build();
    }

    private static void ImportAndCheck(byte[] bytes, int count)
    {
        var graph = TfliteImporter.Load(bytes, "large.tflite");
        Assert.Equal(count, graph.Nodes.Count);
        // At operator 0: x, the unused inputs (live only at the start) and t0, one byte each.
        Assert.Equal(count + 2, Analysis.GraphStats.Compute(graph).ActivationLowerBound);
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }
}
