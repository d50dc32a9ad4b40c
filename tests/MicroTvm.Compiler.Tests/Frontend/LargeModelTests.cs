using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>
/// Import work grows linearly with the model: no structure in a file can make it quadratic. Work is measured as
/// the bytes the import allocates (deterministic, whatever else the machine runs), not as time.
/// </summary>
public class LargeModelTests
{
    [Trait("Speed", "Slow")] // imports models of 1,000 and 4,000 operators: seconds, not a unit test
    [Fact]
    public void ImportWorkIsLinearInTheNumberOfOperators()
    {
        var small = ChainModel(1000);
        var large = ChainModel(4000);
        ImportAndCheck(small, 1000); // warm up the JIT, so its allocations are not counted
        long smallBytes = Allocated(() => ImportAndCheck(small, 1000));
        long largeBytes = Allocated(() => ImportAndCheck(large, 4000));
        // Linear growth gives a ratio near 4; quadratic, near 16.
        Assert.True(largeBytes < 6 * smallBytes, $"4x the operators allocated {largeBytes:N0} bytes vs {smallBytes:N0}");
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

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
