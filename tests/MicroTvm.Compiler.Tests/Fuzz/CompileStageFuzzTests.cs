using System.Diagnostics;
using System.Globalization;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Tflite;
using Xunit.Abstractions;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// A bounded fuzz run through the whole compiler (a time budget, 30 s by default, plus the last batch's build): mutated shared models and random
/// single-operator models that import must compile (or be rejected with an MTVM code), and their C must build and run
/// under the sanitizers with outputs equal to the reference evaluator's (<see cref="CompileStageFuzzer"/>).
/// eng/fuzz.sh runs it longer: MICROTVM_FUZZ_COMPILE_SECONDS or MICROTVM_FUZZ_SECONDS (the budget of every fuzzer),
/// MICROTVM_FUZZ_SEED, MICROTVM_FUZZ_OUT (where findings are saved).
/// </summary>
public class CompileStageFuzzTests
{
    private readonly ITestOutputHelper _output;

    public CompileStageFuzzTests(ITestOutputHelper output) => _output = output;

    [Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
    [Fact]
    public void ImportedModelsCompileBuildAndMatchTheEvaluator()
    {
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("MICROTVM_FUZZ_COMPILE_SECONDS") ?? Environment.GetEnvironmentVariable("MICROTVM_FUZZ_SECONDS"),
            NumberStyles.Float, CultureInfo.InvariantCulture, out double s) ? s : 30;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("MICROTVM_FUZZ_SEED"), out int n) ? n : 20261203;
        string? saveTo = Environment.GetEnvironmentVariable("MICROTVM_FUZZ_OUT");
        var models = Directory.GetDirectories(TestModels.Root).Order().Select(d => File.ReadAllBytes(Path.Combine(d, "model.tflite"))).ToList();
        models.Add(FrontendFuzzTests.SmallBuilderModel());
        var mutator = new ModelFuzzer(models, ModelFuzzer.ImportAndAnalyse);
        var random = new Random(seed);
        var fuzzer = new CompileStageFuzzer(seed);
        var watch = Stopwatch.StartNew();
        int generated = 0, imported = 0;
        // Mutants of the shared models are mostly rejected by the importer; one case in four is one, the rest are
        // random single-operator models (which import far more often and reach every kernel).
        while (watch.Elapsed.TotalSeconds < seconds && fuzzer.Findings.Count < 10)
        {
            generated++;
            string source;
            byte[] model;
            if (generated % 4 == 0)
            {
                (model, string mutation) = mutator.Mutate(random);
                source = $"mutant {generated} ({mutation})";
            }
            else
            {
                model = RandomOperatorFuzzTests.RandomModel(random, out string description);
                source = $"random model {generated} ({description})";
            }

            Ir.Graph graph;
            try
            {
                graph = TfliteImporter.Load(model, "fuzz.tflite");
            }
            catch (CompilerException)
            {
                continue; // the frontend fuzzers check the import errors themselves
            }

            imported++;
            fuzzer.Add(source, model, graph);
        }

        fuzzer.Flush();
        double elapsed = watch.Elapsed.TotalSeconds;
        int compiled = fuzzer.Outcomes.Where(o => o.Key.StartsWith("compiled", StringComparison.Ordinal)).Sum(o => o.Value);
        _output.WriteLine($"seed {seed}: {generated} models in {elapsed:0} s ({generated / elapsed:0.0} models/s), {imported} imported, " +
                          $"{compiled} compiled ({compiled / elapsed:0.0}/s)");
        foreach (var (outcome, count) in fuzzer.Outcomes) _output.WriteLine($"  {outcome}: {count}");
        for (int i = 0; i < fuzzer.Findings.Count; i++)
        {
            var f = fuzzer.Findings[i];
            _output.WriteLine($"FINDING {f.Source}: {f.Problem}");
            if (saveTo is null) continue;
            Directory.CreateDirectory(saveTo);
            File.WriteAllBytes(Path.Combine(saveTo, $"compile-finding-{seed}-{i}.tflite"), f.Model);
            File.WriteAllText(Path.Combine(saveTo, $"compile-finding-{seed}-{i}.txt"), $"{f.Source}\n{f.Problem}\n");
        }

        Assert.Empty(fuzzer.Findings.Select(f => $"{f.Source}: {f.Problem}"));
        Assert.True(fuzzer.Outcomes.GetValueOrDefault("compiled, ran under sanitizers, outputs equal") > 0, "some models should compile and run");
    }
}
