using System.Text.Json;
using MicroTvm.Compiler.Tests.Frontend;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Cli;

/// <summary><c>microtvm compile --diagnostics-file</c>: the machine-readable error channel the MSBuild task reads.</summary>
public class CliDiagnosticsFileTests
{
    [Fact]
    public void CompileWritesEachErrorAsOneJsonLineAndKeepsTheTextOutput()
    {
        const string name = "x\nspoofed.c : error MTVM0000: forged";
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", TfliteModelBuilder.TensorTypes.Float32, new[] { 4 });
        int y = b.AddTensor(name, TfliteModelBuilder.TensorTypes.Float16, new[] { 4 });
        b.AddOperator(TfliteModelBuilder.Builtin.Relu, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        string root = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        string model = Path.Combine(root, "net.tflite"), diagnostics = Path.Combine(root, "errors.jsonl");
        File.WriteAllBytes(model, b.Build());
        try
        {
            var (exit, _, error) = Run("compile", model, "--target", "cortex-m7", "-o", Path.Combine(root, "out"), "--diagnostics-file", diagnostics);

            Assert.Equal(1, exit);
            // The text line stays as it is; the JSON holds the same message whole.
            Assert.StartsWith($"{model}: error MTVM1005: ", error);
            Assert.Contains("spoofed.c : error MTVM0000: forged' has element type float16", error);
            string[] lines = File.ReadAllText(diagnostics).TrimEnd('\n').Split('\n');
            using var json = JsonDocument.Parse(Assert.Single(lines));
            Assert.Equal("MTVM1005", json.RootElement.GetProperty("code").GetString());
            Assert.Equal(model, json.RootElement.GetProperty("file").GetString());
            Assert.Equal(error.TrimEnd('\n')[$"{model}: error MTVM1005: ".Length..], json.RootElement.GetProperty("message").GetString());
            Assert.False(Directory.Exists(Path.Combine(root, "out")));

            File.Delete(diagnostics);
            var (good, _, _) = Run("compile", TestModels.ModelPath("hello_world_int8"), "-o", Path.Combine(root, "out"), "--diagnostics-file", diagnostics);
            Assert.Equal(0, good);
            Assert.False(File.Exists(diagnostics));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void EveryFailingOperatorIsOneErrorLineAndOneJsonLine()
    {
        string root = Path.Combine(Path.GetTempPath(), $"microtvm-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        string model = Path.Combine(root, "net.tflite"), diagnostics = Path.Combine(root, "errors.jsonl");
        File.WriteAllBytes(model, BadModelTests.TwoCustomOperators());
        try
        {
            var (exit, _, error) = Run("compile", model, "-o", Path.Combine(root, "out"), "--diagnostics-file", diagnostics);
            Assert.Equal(1, exit);
            string[] text = error.TrimEnd('\n').Split('\n');
            Assert.Equal(2, text.Length);
            Assert.Contains("operator 1 (custom operator 'VendorA')", text[0]);
            Assert.Contains("operator 3 (custom operator 'VendorB')", text[1]);
            var codes = File.ReadAllText(diagnostics).TrimEnd('\n').Split('\n')
                .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("code").GetString()).ToList();
            Assert.Equal(new[] { "MTVM1004", "MTVM1004" }, codes);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
