using System.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Frontend;

/// <summary>Import time grows linearly with the model: no structure in a file can make it quadratic.</summary>
public class LargeModelTests
{
    [Fact]
    public void LongChainsAndManyGraphInputsImportQuickly()
    {
        const int count = 20000;
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
        var bytes = b.Build();
        var watch = Stopwatch.StartNew();
        var graph = TfliteImporter.Load(bytes, "large.tflite");
        _ = Analysis.GraphStats.Compute(graph);
        Assert.Equal(count, graph.Nodes.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Console.WriteLine($"import of {count} operators: {watch.ElapsedMilliseconds} ms");
    }
}
