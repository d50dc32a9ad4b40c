using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// Every model in tests/models as a <c>&lt;MicroModel&gt;</c> item of one firmware (several models must not clash),
/// and again generated with the portable C kernels only (<see cref="CompileOptions.PortableKernels"/>),
/// built with the packed SDK and run in QEMU (mps2-an500) with <c>dotnet build -t:Run</c>: on each stored input
/// the outputs must equal TensorFlow Lite Micro's byte for byte (float32 results of float arithmetic within
/// 1e-5 absolute + relative: TFLM's own float outputs differ between x86-64 and Cortex-M in the last bits).
/// The firmware prints the instructions each inference took (QEMU -icount shift=0: 1 ns = 1 instruction).
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class ModelFirmwareTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void EveryModelGivesTfliteMicrosOutputsOnTheEmulatedCortexM7()
    {
        string modelsRoot = Path.Combine(sdk.RepositoryRoot, "tests", "models");
        var models = Directory.GetDirectories(modelsRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var files = new Dictionary<string, string>();
        var copies = new Dictionary<string, string>();
        var main = new StringBuilder();
        main.AppendLine("#include <stdio.h>\n#include <string.h>\n#include \"microtvm/platform.h\"");
        var body = new StringBuilder();
        var workspaceSizes = new List<string>();
        int checks = 0;
        foreach (var (modelName, portable) in models.SelectMany(m => new[] { (m!, false), (m!, true) }))
        {
            var graph = TfliteImporter.Load(Path.Combine(modelsRoot, modelName, "model.tflite"));
            string name = modelName;
            if (!portable)
            {
                // The build compiles models/<name>.tflite (a MicroModel item; its Name defaults to the file name).
                copies[$"models/{name}.tflite"] = Path.Combine(modelsRoot, name, "model.tflite");
                main.AppendLine($"#include \"{name}.h\"");
            }
            else
            {
                // The same model with the portable C kernels only (what Cortex-M0+/M3 run), generated here.
                name = modelName + "_portable";
                var model = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", name, PortableKernels: true));
                foreach (var (file, content) in model.Files.Where(f => !f.Key.EndsWith(".json", StringComparison.Ordinal)))
                    files[$"src/portable/{file}"] = content;
                main.AppendLine($"#include \"portable/{model.HeaderFile}\"");
            }

            string m = name.ToUpperInvariant();
            workspaceSizes.Add($"{m}_WORKSPACE_SIZE");
            bool tolerant = graph.Outputs.Any(o => o.Type == ElementType.Float32 && graph.Producers()[o].Kind != OpKind.Dequantize);
            for (int k = 0; k < 3; k++)
            {
                var inputs = graph.Inputs.Select((_, i) => File.ReadAllBytes(Path.Combine(modelsRoot, modelName, graph.Inputs.Count == 1 ? $"input{k}.bin" : $"input{k}_{i}.bin"))).ToList();
                var expected = File.ReadAllBytes(Path.Combine(modelsRoot, modelName, $"output{k}.bin"));
                for (int i = 0; i < inputs.Count; i++) main.AppendLine(ByteArray($"{name}_in{k}_{i}", inputs[i]));
                main.AppendLine(ByteArray($"{name}_expected{k}", expected));
                body.AppendLine("    {");
                body.AppendLine($"        {name}_inputs in; {name}_outputs out; uint64_t ns; int bad;");
                for (int i = 0; i < inputs.Count; i++) body.AppendLine($"        in.input{i} = (const {name}_input{i}_t*){name}_in{k}_{i};");
                body.AppendLine($"        out.output0 = ({name}_output0_t*)output;");
                body.AppendLine("        microtvm_timer_start();");
                body.AppendLine($"        if ({name}_run(&in, &out, workspace) != 0) microtvm_abort(\"{name}_run failed\");");
                body.AppendLine("        ns = microtvm_timer_ticks_to_ns(microtvm_timer_stop());");
                body.AppendLine(tolerant
                    ? $"        bad = !floats_close((const float*)output, (const float*){name}_expected{k}, sizeof {name}_expected{k} / 4);"
                    : $"        bad = memcmp(output, {name}_expected{k}, sizeof {name}_expected{k}) != 0;");
                body.AppendLine($"        printf(\"model {name} input {k}: %s, %lu instructions\\n\", bad ? \"MISMATCH\" : \"ok\", (unsigned long)ns);");
                body.AppendLine("        failures += bad;");
                body.AppendLine("    }");
                checks++;
            }
        }

        main.AppendLine(MaxExpression(workspaceSizes));
        main.AppendLine("static uint8_t workspace[MAX_WORKSPACE] __attribute__((aligned(16)));");
        main.AppendLine("static uint8_t output[4096] __attribute__((aligned(16)));");
        main.AppendLine("""
            static int floats_close(const float* a, const float* b, unsigned n) {
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
        files["src/main.c"] = main.ToString();

        var project = sdk.CreateProject("models", """
              <ItemGroup>
                <MicroModel Include="models/*.tflite" />
              </ItemGroup>
            """, files);
        foreach (var (copy, source) in copies)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(project.PathOf(copy))!);
            File.Copy(source, project.PathOf(copy));
        }
        var run = project.Build("-t:Run", "-p:OptimizationLevel=2", "-p:CStandard=c99", "-p:CWarningFlags=\"-Wall -Wextra -Werror\"");
        log.WriteLine(string.Join("\n", run.Output.Split('\n').Where(l => l.Contains("| model ") || l.Contains("mismatches") || l.Contains("text "))));
        Assert.True(run.Succeeded, run.ToString());
        var results = Regex.Matches(run.Output, @"\| model (\S+) input (\d): (ok|MISMATCH), (\d+) instructions");
        Assert.Equal(checks, results.Count);
        Assert.All(results, r => Assert.True(r.Groups[3].Value == "ok", r.Value));
        Assert.Contains("| 0 mismatches", run.Output);
    }

    /// <summary>The largest workspace as a C constant expression, one shared buffer for all models.</summary>
    private static string MaxExpression(IReadOnlyList<string> sizes)
    {
        string expression = "1";
        foreach (var size in sizes) expression = $"({size} > {expression} ? {size} : {expression})";
        return "#define MAX_WORKSPACE " + expression;
    }

    private static string ByteArray(string name, byte[] bytes)
    {
        var sb = new StringBuilder($"static const uint8_t {name}[{Math.Max(1, bytes.Length)}] __attribute__((aligned(16))) = {{");
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i % 32 == 0) sb.Append("\n    ");
            sb.Append(bytes[i].ToString(CultureInfo.InvariantCulture)).Append(i + 1 < bytes.Length ? "," : "");
        }

        return sb.Append("\n};").ToString();
    }
}
