using System.Text;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Fuzz;

/// <summary>
/// The compile stage of the fuzzers: a model that imports must compile or be rejected with an MTVM code (never another
/// exception); what compiles must be run by the reference evaluator; its C must compile with the host gcc under
/// <see cref="Gcc.HostFlags"/> (-Wall -Wextra -Wconversion -Wsign-conversion -Wpedantic -Werror) and run under
/// AddressSanitizer and UndefinedBehaviorSanitizer with outputs equal to the evaluator's. Many models share one gcc invocation and one process (gcc start-up dominates otherwise); when a batch
/// fails, its models are run one by one to name the culprit.
/// </summary>
public sealed class CompileStageFuzzer
{
    /// <summary>Graphs above this many elements in any tensor are only imported and compiled, not run (speed).</summary>
    private const long MaxElementsToRun = 200_000;

    /// <summary>Nor are models whose C is larger than this (gcc -O0 with sanitizers takes minutes on megabytes of tables).</summary>
    private const int MaxSourceToBuild = 1_000_000;

    private readonly List<Pending> _batch = new();
    private readonly Random _random;

    public CompileStageFuzzer(int seed) => _random = new Random(seed);

    public sealed record Finding(string Source, string Problem, byte[] Model);

    private sealed record Pending(string Source, byte[] Model, Graph Graph, GeneratedModel Generated, byte[][] Inputs, byte[][] Expected);

    public List<Finding> Findings { get; } = new();

    public SortedDictionary<string, int> Outcomes { get; } = new(StringComparer.Ordinal);

    public int BatchSize { get; init; } = 24;

    /// <summary>Takes one model that <see cref="TfliteImporter"/> accepted.</summary>
    public void Add(string source, byte[] model, Graph graph)
    {
        GeneratedModel generated;
        try
        {
            generated = ModelCompiler.Compile(graph, new CompileOptions("host", $"m{_batch.Count}"));
        }
        catch (CompilerException e) when (e.Code.StartsWith("MTVM", StringComparison.Ordinal) && e.Code != ErrorCodes.InternalError && e.File is not null)
        {
            Count($"rejected by the compiler {e.Code}");
            return;
        }
        catch (Exception e)
        {
            Findings.Add(new Finding(source, $"compiler: {e.GetType().Name}: {e.Message}\n{e.StackTrace}", model));
            return;
        }

        if (graph.Tensors.Any(t => t.ElementCount > MaxElementsToRun) || generated.Files[generated.SourceFile].Length > MaxSourceToBuild)
        {
            Count("compiled (too large to run)");
            return;
        }

        var inputs = graph.Inputs.Select(RandomInput).ToArray();
        byte[][] expected;
        try
        {
            var values = ReferenceEvaluator.Run(graph, inputs);
            expected = graph.Outputs.Select(t => values[t]).ToArray();
        }
        catch (Exception e)
        {
            Findings.Add(new Finding(source, $"compiled, but the reference evaluator failed: {e.GetType().Name}: {e.Message}", model));
            return;
        }

        _batch.Add(new Pending(source, model, graph, generated, inputs, expected));
        if (_batch.Count >= BatchSize) Flush();
    }

    /// <summary>Builds and runs the models waiting in the batch.</summary>
    public void Flush()
    {
        if (_batch.Count == 0) return;
        var batch = _batch.ToList();
        _batch.Clear();
        var dir = Gcc.TemporaryDirectory("fuzz-compile");
        try
        {
            var failed = RunBatch(batch, dir, out string output);
            if (failed is null)
            {
                Count("compiled, ran under sanitizers, outputs equal", batch.Count);
                return;
            }

            if (batch.Count == 1)
            {
                Findings.Add(new Finding(batch[0].Source, $"{failed}\n{output}", batch[0].Model));
                return;
            }

            // Rebuild each model alone to find which ones fail (all of them recompiled under their own name m0).
            foreach (var p in batch)
            {
                var alone = p with { Generated = ModelCompiler.Compile(p.Graph, new CompileOptions("host", "m0")) };
                _batch.Add(alone);
                Flush();
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private void Count(string outcome, int n = 1) => Outcomes[outcome] = Outcomes.GetValueOrDefault(outcome) + n;

    /// <summary>null when every model of the batch built, ran and matched; otherwise what went wrong.</summary>
    private static string? RunBatch(List<Pending> batch, string dir, out string output)
    {
        var main = new StringBuilder("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n");
        var calls = new StringBuilder();
        var sources = new List<string>();
        for (int i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            string name = p.Generated.Name, upper = name.ToUpperInvariant();
            p.Generated.WriteTo(dir);
            sources.Add(p.Generated.SourceFile);
            main.AppendLine($"#include \"{p.Generated.HeaderFile}\"");
            for (int k = 0; k < p.Inputs.Length; k++) File.WriteAllBytes(Path.Combine(dir, $"{name}_in{k}.bin"), p.Inputs[k]);
            calls.AppendLine("    {");
            calls.AppendLine($"        {name}_inputs in; {name}_outputs out; void* ws = malloc({upper}_WORKSPACE_SIZE ? {upper}_WORKSPACE_SIZE : 1);");
            for (int k = 0; k < p.Inputs.Length; k++)
                calls.AppendLine($"        in.input{k} = ({name}_input{k}_t*)load(\"{name}_in{k}.bin\", {upper}_INPUT{k}_SIZE);");
            for (int k = 0; k < p.Graph.Outputs.Count; k++)
                calls.AppendLine($"        out.output{k} = ({name}_output{k}_t*)malloc({upper}_OUTPUT{k}_SIZE);");
            // The evaluator starts from the initial state (TFLM's Reset()); malloc'd memory holds garbage.
            calls.AppendLine($"        if ({name}_reset(ws) != 0) return 4;");
            calls.AppendLine($"        if ({name}_run(&in, &out, ws) != 0) return 4;");
            for (int k = 0; k < p.Graph.Outputs.Count; k++)
                calls.AppendLine($"        save(\"{name}_out{k}.bin\", out.output{k}, {upper}_OUTPUT{k}_SIZE);");
            calls.AppendLine("    }");
        }

        main.Append(ModelHarness.LoadAndSaveFunctions);
        main.AppendLine("int main(void) {").Append(calls).AppendLine("    return 0;\n}");
        File.WriteAllText(Path.Combine(dir, "main.c"), main.ToString());
        int code;
        string text;
        try
        {
            (code, text) = Gcc.Run("gcc", $"{Gcc.HostFlags.Replace("-O1", "-O0")} {string.Join(" ", sources.Append("main.c"))} -o cases", dir);
        }
        catch (TimeoutException e)
        {
            // gcc itself slow (a loaded machine, large constant tables): not the generated code's fault. Counted, and
            // one by one the models are retried, so a model gcc really chokes on still ends up as a finding.
            output = e.Message;
            return batch.Count == 1 ? "gcc did not finish within 5 minutes" : "gcc timed out on the batch";
        }

        output = text;
        if (code != 0) return "gcc failed on the generated C";
        (code, text) = Gcc.Run(Path.Combine(dir, "cases"), "", dir, timeoutMs: 120_000);
        output = text;
        if (code != 0) return $"the generated program failed with exit code {code}";
        for (int i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            for (int k = 0; k < p.Graph.Outputs.Count; k++)
            {
                var tensor = p.Graph.Outputs[k];
                var actual = File.ReadAllBytes(Path.Combine(dir, $"{p.Generated.Name}_out{k}.bin"));
                // Exactly, floats too: the generated C computes them as the evaluator does (DifferentialTests does the same).
                string? difference = WholeModelTests.Difference(tensor, p.Expected[k], actual, tolerant: false);
                if (difference is not null) return $"{p.Generated.Name} output {k} differs from the evaluator: {difference}";
            }
        }

        return null;
    }

    private byte[] RandomInput(Tensor t)
    {
        var bytes = new byte[t.ByteSize];
        if (t.Type != ElementType.Float32)
        {
            _random.NextBytes(bytes);
            return bytes;
        }

        for (int i = 0; i < t.ElementCount; i++)
            BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), (float)((_random.NextDouble() * 2 - 1) * 8));
        return bytes;
    }
}
