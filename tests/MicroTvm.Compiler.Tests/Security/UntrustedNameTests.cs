using System.Text;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Security;

/// <summary>
/// Tensor and model names are data from the model file. They reach C comments, the model's JSON, error messages and
/// <c>microtvm inspect</c>'s terminal output; none of these may change meaning because of a name.
/// </summary>
public class UntrustedNameTests
{
    /// <summary>Names that break each destination: comment openers and closers (alone, overlapping, at the ends),
    /// newlines and carriage returns, terminal escape sequences (set title, clear screen), a bidirectional override,
    /// quotes, backslashes, a trigraph and non-ASCII text.</summary>
    private static readonly string[] HostileNames =
    {
        "in/*put", "*/weights/*", "/*/", "bias\n#error forged\r\nx", "out\u001b]0;pwned\u0007\u001b[2J\u001b[H",
        "é\u202equote\"back\\slash??/", "*", "/",
    };

    private static (byte[] Model, int Input, int Output) HostileModel(string[] names)
    {
        // FULLY_CONNECTED (float) with a constant weight and bias (their names reach constant comments), then ADD of a
        // second input: every tensor carries one of the names.
        var b = new TfliteModelBuilder { Description = "desc \u001b[31mred\u001b[0m\u0007" };
        int x = b.AddTensor(names[0], ElementType.Float32, new[] { 1, 4 });
        int w = b.AddTensor(names[1], ElementType.Float32, new[] { 2, 4 }, TfliteModelBuilder.Floats(1, -2, 3, 0.5f, -1, 0.25f, 2, -3));
        int bias = b.AddTensor(names[2], ElementType.Float32, new[] { 2 }, TfliteModelBuilder.Floats(0.5f, -0.5f));
        int fc = b.AddTensor(names[3], ElementType.Float32, new[] { 1, 2 });
        int other = b.AddTensor(names[4], ElementType.Float32, new[] { 1, 2 });
        int y = b.AddTensor(names[5] + names[6] + names[7], ElementType.Float32, new[] { 1, 2 });
        b.AddOperator(TfliteModelBuilder.Builtin.FullyConnected, new[] { x, w, bias }, new[] { fc }, TfliteModelBuilder.Options.FullyConnected());
        b.AddOperator(TfliteModelBuilder.Builtin.Add, new[] { fc, other }, new[] { y }, TfliteModelBuilder.Options.Add());
        b.Inputs.Add(x);
        b.Inputs.Add(other);
        b.Outputs.Add(y);
        return (b.Build(), x, y);
    }

    [Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
    [Fact]
    public void HostileNamesCompileUnderWerrorRunAndRoundTripThroughJson()
    {
        // Every rotation puts each name on every tensor role (graph input, weight, bias, intermediate, output).
        for (int rotation = 0; rotation < HostileNames.Length; rotation++)
        {
            var names = HostileNames.Skip(rotation).Concat(HostileNames.Take(rotation)).ToArray();
            var graph = TfliteImporter.Load(HostileModel(names).Model, "hostile.tflite");
            var model = ModelCompiler.Compile(graph, new CompileOptions("host", "hostile"));
            var dir = Gcc.TemporaryDirectory("hostile-names");
            model.WriteTo(dir);
            File.WriteAllText(Path.Combine(dir, "main.c"), ModelHarness.MainSource(model, graph));
            // -Wall has -Wcomment ("/*" within comment); -Werror makes it fatal.
            Gcc.Build("gcc", Gcc.HostFlags, new[] { model.SourceFile, "main.c" }, "model", dir);

            var inputs = new[] { TfliteModelBuilder.Floats(1, 2, 3, 4), TfliteModelBuilder.Floats(-1, 10) };
            File.WriteAllBytes(Path.Combine(dir, "in.bin"), inputs.SelectMany(b => b).ToArray()); // back to back
            var (code, text) = Gcc.Run(Path.Combine(dir, "model"), "- in.bin out.bin", dir);
            Assert.True(code == 0, text);
            var expected = ReferenceEvaluator.Run(graph, inputs)[graph.Outputs[0]];
            Assert.Null(WholeModelTests.Difference(graph.Outputs[0], expected, File.ReadAllBytes(Path.Combine(dir, "out.bin")), tolerant: true));

            // The JSON is ASCII with every name escaped, and reads back to the exact names.
            string json = model.Files["hostile.json"];
            Assert.All(json, c => Assert.True(c == '\n' || c is >= ' ' and <= '~', $"raw character U+{(int)c:X4} in the JSON"));
            var metadata = ModelMetadata.FromJson(json);
            Assert.Equal(graph.Inputs.Select(t => t.Name), metadata.Inputs.Select(i => i.Name));
            Assert.Equal(graph.Outputs[0].Name, metadata.Outputs[0].Name);
        }
    }

    [Fact]
    public void InspectShowsControlCharactersAsEscapes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"microtvm-hostile-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, HostileModel(HostileNames).Model);
        try
        {
            var (exit, output, error) = Run("inspect", path);
            Assert.Equal("", error);
            Assert.Equal(0, exit);
            AssertNoControlCharacters(output);
            Assert.Contains(@"t4 'out\x1b]0;pwned\x07\x1b[2J\x1b[H'", output);
            Assert.Contains(@"output t5 'é\u{202e}quote""back\slash??/*/'", output);
            Assert.Contains(@"description ""desc \x1b[31mred\x1b[0m\x07""", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ErrorMessagesWithNamesStayOneLineWithoutControlCharacters()
    {
        // A negative scale is rejected with the tensor's name in the message.
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x\nmodel.tflite: error MTVM0000: forged\u001b[2J", ElementType.Int8, new[] { 4 }, quantization: (-1f, 0));
        int y = b.AddTensor("y", ElementType.Int8, new[] { 4 }, quantization: (1f, 0));
        b.AddOperator(TfliteModelBuilder.Builtin.Relu, new[] { x }, new[] { y });
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        string path = Path.Combine(Path.GetTempPath(), $"microtvm-hostile-{Guid.NewGuid():N}.tflite");
        File.WriteAllBytes(path, b.Build());
        try
        {
            // inspect reports what it can read of a rejected model on stdout, compile only the error.
            foreach (var args in new[] { new[] { "inspect", path }, new[] { "compile", path, "-o", Path.Combine(Path.GetTempPath(), $"microtvm-hostile-{Guid.NewGuid():N}") } })
            {
                var (exit, output, error) = Run(args);
                Assert.Equal(1, exit);
                AssertNoControlCharacters(output);
                Assert.StartsWith($"{path}: error MTVM1009: ", error);
                Assert.Single(error.TrimEnd('\n').Split('\n'));
                AssertNoControlCharacters(error);
                Assert.Contains(@"x\x0amodel.tflite: error MTVM0000: forged\x1b[2J", error);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertNoControlCharacters(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            Assert.False(rune.Value != '\n' && (Rune.IsControl(rune) || Rune.GetUnicodeCategory(rune) == System.Globalization.UnicodeCategory.Format),
                $"U+{rune.Value:X4} reached the terminal");
    }
}
