using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;
using Xunit.Abstractions;
using static MicroTvm.Testing.ModelCheckSource;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>
/// One firmware that runs models from tests/models on their stored inputs (input{k}.bin) and compares each output
/// with TensorFlow Lite Micro's (output{k}.bin): byte for byte, float32 results of float arithmetic within 1e-5
/// absolute + relative (TFLM's own float outputs differ between x86-64 and Cortex-M in the last bits). It prints
/// one line per check with the instructions the inference took (QEMU -icount shift=0: 1 ns = 1 instruction).
/// </summary>
public sealed class ModelCheckFirmware(string modelsRoot)
{
    private const int InputsPerModel = 3;

    private readonly Dictionary<string, string> files = new();
    private readonly Dictionary<string, string> modelItems = new();
    private readonly StringBuilder declarations = new("#include <stdio.h>\n#include <string.h>\n#include \"microtvm/platform.h\"\n");
    private readonly StringBuilder body = new();
    private readonly List<string> workspaceSizes = [];
    private readonly List<string> outputSizes = [];
    private int checks;

    /// <summary>Evaluated models whose float outputs are compared bit for bit.</summary>
    private readonly HashSet<string> exactModels = new(StringComparer.Ordinal);

    /// <summary>The model as a <c>&lt;MicroModel&gt;</c> item (models/&lt;model&gt;.tflite), compiled by the build. With
    /// <paramref name="ioInWorkspace"/> the item is models-io/&lt;model&gt;_io.tflite with <c>IoInWorkspace="true"</c>
    /// (C prefix &lt;model&gt;_io): the firmware writes the inputs into the shared workspace through the accessors.</summary>
    public void AddMicroModel(string model, bool ioInWorkspace = false)
    {
        string name = ioInWorkspace ? model + "_io" : model;
        modelItems[ioInWorkspace ? $"models-io/{name}.tflite" : $"models/{name}.tflite"] = Path.Combine(modelsRoot, model, "model.tflite");
        AddChecks(model, name, $"{name}.h", ioInWorkspace);
    }

    /// <summary>
    /// A one-output model written by a test (&lt;modelsRoot&gt;/&lt;name&gt;/model.tflite) as a <c>&lt;MicroModel&gt;</c> item, with
    /// inputs from <paramref name="inputFor"/> (every input back to back in input{k}.bin) and the reference evaluator's
    /// output as the expected one. Returns the imported graph, for the caller's checks of the generated code.
    /// <paramref name="bitExact"/>: float outputs compared bit for bit too (the evaluator's own float arithmetic).
    /// </summary>
    public Graph AddEvaluatedModel(string name, byte[] tflite, Func<Tensor, byte[]> inputFor, bool bitExact = false)
    {
        var folder = Path.Combine(modelsRoot, name);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "model.tflite"), tflite);
        var graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
        for (int k = 0; k < InputsPerModel; k++)
        {
            var inputs = graph.Inputs.Select(inputFor).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"input{k}.bin"), inputs.SelectMany(b => b).ToArray());
            File.WriteAllBytes(Path.Combine(folder, $"output{k}.bin"), ReferenceEvaluator.Run(graph, inputs)[graph.Outputs[0]]);
        }

        if (bitExact) exactModels.Add(name);
        AddMicroModel(name);
        return graph;
    }

    /// <summary>
    /// A case of tests/operators as a <c>&lt;MicroModel&gt;</c> item (models/&lt;case&gt;.tflite): its one input0.bin holds
    /// every input back to back, its output0.bin every output; all outputs are compared.
    /// </summary>
    public void AddOperatorCase(string casesRoot, string caseName)
    {
        string model = Path.Combine(casesRoot, caseName, "model.tflite");
        modelItems[$"models/{caseName}.tflite"] = model;
        var graph = TfliteImporter.Load(model);
        declarations.AppendLine($"#include \"{caseName}.h\"");
        workspaceSizes.Add($"{caseName.ToUpperInvariant()}_WORKSPACE_SIZE");
        outputSizes.Add(string.Join(" + ", graph.Outputs.Select((_, j) => $"{caseName.ToUpperInvariant()}_OUTPUT{j}_SIZE")));
        var input = File.ReadAllBytes(Path.Combine(casesRoot, caseName, "input0.bin"));
        var expected = File.ReadAllBytes(Path.Combine(casesRoot, caseName, "output0.bin"));
        declarations.AppendLine(ByteArray($"{caseName}_in", input));
        declarations.AppendLine(ByteArray($"{caseName}_expected", expected));
        bool tolerant = ComparesWithTolerance(graph);
        body.AppendLine("    {");
        body.AppendLine("        uint64_t ns; int bad;");
        body.Append(Inference(caseName, graph.Inputs.Count, graph.Outputs.Count, ioInWorkspace: false,
            i => $"{caseName}_in + {graph.Inputs.Take(i).Sum(t => t.ByteSize)}", j => $"output + {graph.Outputs.Take(j).Sum(t => t.ByteSize)}",
            Abort, "microtvm_timer_start();", "ns = microtvm_timer_ticks_to_ns(microtvm_timer_stop());"));
        body.AppendLine(tolerant
            ? $"        bad = !floats_close((const float*)output, (const float*){caseName}_expected, sizeof {caseName}_expected / 4);"
            : $"        bad = memcmp(output, {caseName}_expected, sizeof {caseName}_expected) != 0;");
        body.AppendLine($"        printf(\"model {caseName} input 0: %s, %lu instructions\\n\", bad ? \"MISMATCH\" : \"ok\", (unsigned long)ns);");
        body.AppendLine("        failures += bad;");
        body.AppendLine("    }");
        checks++;
    }

    /// <summary>The model compiled here with <paramref name="options"/>, its C sources under src/&lt;folder&gt;/.</summary>
    public void AddGenerated(string model, CompileOptions options, string folder)
    {
        var generated = ModelCompiler.Compile(TfliteImporter.Load(Path.Combine(modelsRoot, model, "model.tflite")), options);
        foreach (var (file, content) in generated.Files.Where(f => !f.Key.EndsWith(".json", StringComparison.Ordinal)))
            files[$"src/{folder}/{file}"] = content;
        AddChecks(model, generated.Name, $"{folder}/{generated.HeaderFile}");
    }

    /// <summary>A project with the firmware's sources and model items; <paramref name="properties"/> is more csproj body.</summary>
    public TestProject CreateProject(SdkPackageFixture sdk, string properties, string? folderName = null)
    {
        files["src/main.c"] = MainSource();
        string items = modelItems.Count == 0 ? "" : """
              <ItemGroup>
                <MicroModel Include="models/*.tflite" />
                <MicroModel Include="models-io/*.tflite" IoInWorkspace="true" />
              </ItemGroup>
            """;
        var project = sdk.CreateProject("models", properties + items, files, folderName);
        foreach (var (copy, source) in modelItems)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(project.PathOf(copy))!);
            File.Copy(source, project.PathOf(copy));
        }
        return project;
    }

    /// <summary>Builds and runs the firmware in QEMU; every check must have run and matched. Returns each check's
    /// instructions.</summary>
    public IReadOnlyList<long> RunAndAssertAllMatch(TestProject project, ITestOutputHelper log)
    {
        var run = project.Build("-t:Run", "-p:OptimizationLevel=2", "-p:CStandard=c99", "-p:CWarningFlags=\"-Wall -Wextra -Werror\"");
        log.WriteLine(string.Join("\n", run.Output.Split('\n').Where(l => l.Contains("| model ") || l.Contains("mismatches") || l.Contains("text "))));
        Assert.True(run.Succeeded, run.ToString());
        var results = Regex.Matches(run.Output, @"\| model (\S+) input (\d): (ok|MISMATCH), (\d+) instructions");
        Assert.Equal(checks, results.Count);
        Assert.All(results, r => Assert.True(r.Groups[3].Value == "ok", r.Value));
        Assert.Contains("| 0 mismatches", run.Output);
        return results.Select(r => long.Parse(r.Groups[4].Value, CultureInfo.InvariantCulture)).ToList();
    }

    /// <summary>Runs the model compiled under C prefix <paramref name="name"/> on each stored input of <paramref name="model"/>:
    /// input{k}.bin holds every input back to back (graph order), output{k}.bin every output. The state is reset before
    /// each run (each stored output is one inference from TFLM's initial state; the shared workspace is dirty anyway).</summary>
    private void AddChecks(string model, string name, string header, bool ioInWorkspace = false)
    {
        var graph = TfliteImporter.Load(Path.Combine(modelsRoot, model, "model.tflite"));
        string upper = name.ToUpperInvariant();
        declarations.AppendLine($"#include \"{header}\"");
        workspaceSizes.Add($"{upper}_WORKSPACE_SIZE");
        outputSizes.Add(string.Join(" + ", graph.Outputs.Select((_, j) => $"{upper}_OUTPUT{j}_SIZE")));
        bool tolerant = ComparesWithTolerance(graph) && !exactModels.Contains(model);
        for (int k = 0; k < InputsPerModel; k++)
        {
            declarations.AppendLine(ByteArray($"{name}_in{k}", File.ReadAllBytes(Path.Combine(modelsRoot, model, $"input{k}.bin"))));
            declarations.AppendLine(ByteArray($"{name}_expected{k}", File.ReadAllBytes(Path.Combine(modelsRoot, model, $"output{k}.bin"))));
            body.AppendLine("    {");
            body.AppendLine("        uint64_t ns; int bad;");
            // Inputs and outputs at their offsets in the stored vectors (back to back: every model here has parts
            // whose sizes keep the next part aligned for its type).
            var inputOffsets = Offsets(Sizes(upper, "INPUT", graph.Inputs.Count));
            var outputOffsets = Offsets(Sizes(upper, "OUTPUT", graph.Outputs.Count));
            body.Append(Inference(name, graph.Inputs.Count, graph.Outputs.Count, ioInWorkspace, i => $"{name}_in{k} + {inputOffsets[i]}",
                j => $"output + {outputOffsets[j]}", Abort, "microtvm_timer_start();", "ns = microtvm_timer_ticks_to_ns(microtvm_timer_stop());"));
            body.AppendLine(tolerant
                ? $"        bad = !floats_close((const float*)(const void*)output, (const float*)(const void*){name}_expected{k}, sizeof {name}_expected{k} / 4);"
                : $"        bad = memcmp(output, {name}_expected{k}, sizeof {name}_expected{k}) != 0;");
            body.AppendLine($"        printf(\"model {name} input {k}: %s, %lu instructions\\n\", bad ? \"MISMATCH\" : \"ok\", (unsigned long)ns);");
            body.AppendLine("        failures += bad;");
            body.AppendLine("    }");
            checks++;
        }
    }

    /// <summary>A failed call stops the firmware with the function's name.</summary>
    private static string Abort(string call, string function) => $"if ({call} != 0) microtvm_abort(\"{function} failed\");";

    private string MainSource()
    {
        var main = new StringBuilder().Append(declarations);
        main.AppendLine(MaxExpression("MAX_WORKSPACE", workspaceSizes));
        main.AppendLine(MaxExpression("MAX_OUTPUT", outputSizes));
        main.AppendLine("static uint8_t workspace[MAX_WORKSPACE] __attribute__((aligned(16)));");
        main.AppendLine("static uint8_t output[MAX_OUTPUT] __attribute__((aligned(16)));");
        main.AppendLine("""
            static int __attribute__((unused)) floats_close(const float* a, const float* b, unsigned n) {
                unsigned i;
                for (i = 0; i < n; ++i) {
                    const float d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];
                    const float m = b[i] < 0 ? -b[i] : b[i];
                    if (!(d <= 1e-5f * (1.0f + m))) return 0;
                }
                return 1;
            }
            int main(void) {
                int failures = 0;
            """);
        main.Append(body);
        main.AppendLine("    printf(\"%d mismatches\\n\", failures);\n    return failures;\n}");
        return main.ToString();
    }

    /// <summary>The largest of <paramref name="sizes"/> as a C constant: the size of a union of arrays of each size
    /// (one shared buffer for all models; linear in the number of models, where nested conditionals double).</summary>
    private static string MaxExpression(string macro, IReadOnlyList<string> sizes)
    {
        var union = new StringBuilder($"union {macro.ToLowerInvariant()}_union {{ uint8_t at_least_one[1];");
        for (int i = 0; i < sizes.Count; i++) union.Append($" uint8_t m{i}[{sizes[i]}];");
        return union.Append(" };\n").Append($"#define {macro} sizeof(union {macro.ToLowerInvariant()}_union)").ToString();
    }
}
