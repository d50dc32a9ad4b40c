using System.Globalization;
using MicroTvm.Compiler.Tests.Frontend;
using Xunit.Abstractions;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// A short fuzz run in every test run (a few seconds). eng/fuzz.sh runs the same fuzzer for many more
/// iterations: MICROTVM_FUZZ_ITERATIONS, MICROTVM_FUZZ_SEED and MICROTVM_FUZZ_OUT (where to save failing inputs).
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class FrontendFuzzTests
{
    private readonly ITestOutputHelper _output;

    public FrontendFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void MutatedModelsGiveOnlyMtvmErrors()
    {
        int iterations = Environment("MICROTVM_FUZZ_ITERATIONS", 3000);
        int seed = Environment("MICROTVM_FUZZ_SEED", 20261121);
        string? saveTo = System.Environment.GetEnvironmentVariable("MICROTVM_FUZZ_OUT");
        var models = Directory.GetDirectories(TestModels.Root).Order().Select(d => File.ReadAllBytes(Path.Combine(d, "model.tflite"))).ToList();
        models.Add(SmallBuilderModel());

        var fuzzer = new ModelFuzzer(models, ModelFuzzer.ImportAndAnalyse);
        var report = fuzzer.Run(iterations, seed, TimeSpan.FromSeconds(10), budget: Budget(), onFinding: f =>
        {
            if (saveTo is null) return;
            Directory.CreateDirectory(saveTo);
            File.WriteAllBytes(Path.Combine(saveTo, $"finding-{seed}-{f.Iteration}.tflite"), f.Input);
        });

        _output.WriteLine($"seed {seed}: {report.Iterations} iterations, {report.Accepted} imported, {report.Rejected} rejected, slowest case {report.Slowest.TotalMilliseconds:0} ms");
        foreach (var (code, count) in report.Codes) _output.WriteLine($"  {code}: {count}");
        foreach (var f in report.Findings) _output.WriteLine($"FINDING at iteration {f.Iteration} ({f.Mutation}): {f.Problem}");
        Assert.Empty(report.Findings.Select(f => $"{f.Iteration} ({f.Mutation}): {f.Problem}"));
        if (Budget() is null) Assert.Equal(iterations, report.Iterations);
        Assert.True(report.Rejected > 0 && report.Accepted > 0, "the mutations should produce both valid and invalid models");
    }

    /// <summary>A small model touching many operators' option tables, so mutations reach their decoding too.</summary>
    internal static byte[] SmallBuilderModel()
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", Ir.ElementType.Float32, new[] { 1, 4, 4, 2 });
        int w = b.AddTensor("w", Ir.ElementType.Float32, new[] { 3, 3, 3, 2 }, TfliteModelBuilder.Floats(new float[54]));
        int c = b.AddTensor("c", Ir.ElementType.Float32, new[] { 1, 4, 4, 3 });
        b.AddOperator(TfliteModelBuilder.Builtin.Conv2D, new[] { x, w, -1 }, new[] { c }, TfliteModelBuilder.Options.Conv2D(0, 1, 1, 1));
        int p = b.AddTensor("p", Ir.ElementType.Int32, new[] { 4, 2 }, TfliteModelBuilder.Int32s(0, 0, 1, 1, 1, 1, 0, 0));
        int padded = b.AddTensor("padded", Ir.ElementType.Float32, new[] { 1, 6, 6, 3 });
        b.AddOperator(TfliteModelBuilder.Builtin.Pad, new[] { c, p }, new[] { padded });
        int pooled = b.AddTensor("pooled", Ir.ElementType.Float32, new[] { 1, 3, 3, 3 });
        b.AddOperator(TfliteModelBuilder.Builtin.MaxPool2D, new[] { padded }, new[] { pooled }, TfliteModelBuilder.Options.Pool2D(1, 2, 2, 2, 2));
        int axes = b.AddTensor("axes", Ir.ElementType.Int32, new[] { 2 }, TfliteModelBuilder.Int32s(1, 2));
        int mean = b.AddTensor("mean", Ir.ElementType.Float32, new[] { 1, 3 });
        b.AddOperator(TfliteModelBuilder.Builtin.Mean, new[] { pooled, axes }, new[] { mean }, TfliteModelBuilder.Options.Reducer(false));
        int perm = b.AddTensor("perm", Ir.ElementType.Int32, new[] { 2 }, TfliteModelBuilder.Int32s(1, 0));
        int t = b.AddTensor("t", Ir.ElementType.Float32, new[] { 3, 1 });
        b.AddOperator(TfliteModelBuilder.Builtin.Transpose, new[] { mean, perm }, new[] { t });
        int y = b.AddTensor("y", Ir.ElementType.Float32, new[] { 3, 1 });
        b.AddOperator(TfliteModelBuilder.Builtin.Softmax, new[] { t }, new[] { y }, TfliteModelBuilder.Options.Softmax(1));
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        return b.Build();
    }

    /// <summary>eng/fuzz.sh --seconds: each fuzzer's share of the time (null: run the whole iteration count).</summary>
    internal static TimeSpan? Budget() =>
        int.TryParse(System.Environment.GetEnvironmentVariable("MICROTVM_FUZZ_SECONDS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds)
            ? TimeSpan.FromSeconds(seconds) : null;

    private static int Environment(string name, int fallback) =>
        int.TryParse(System.Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
