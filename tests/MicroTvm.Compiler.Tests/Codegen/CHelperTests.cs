using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>The C helpers of Codegen/CHelpers: each header compiles on its own (its includes say all it needs) for the
/// host, the Cortex-M4 (DSP) and the Cortex-M55 (DSP + Helium), strict C99 with every warning an error; the generated
/// source of every shared model includes each C library header once.</summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class CHelperTests
{
    public static IEnumerable<object[]> Helpers() => SupportLibrary.Helpers.Value.Keys.Order(StringComparer.Ordinal).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Helpers))]
    public void EachHelperCompilesAlone(string name)
    {
        var dir = Gcc.TemporaryDirectory("chelper-" + name);
        foreach (var helper in SupportLibrary.Helpers.Value.Values) File.WriteAllText(Path.Combine(dir, helper.Name + ".h"), helper.Source);
        // Included twice: the guard must hold.
        File.WriteAllText(Path.Combine(dir, "alone.c"), $"#include \"{name}.h\"\n#include \"{name}.h\"\n");
        const string strict = "-std=c99 -Wall -Wextra " + Gcc.StrictWarnings + " -Werror -O2 -c alone.c";
        foreach (var (compiler, flags) in new[]
        {
            ("gcc", strict + " -o host.o"),
            ("arm-none-eabi-gcc", $"{Targets.Find("cortex-m4").GccFlags} {strict} -o m4.o"),
            ("arm-none-eabi-gcc", $"{Targets.Find("cortex-m55").GccFlags} {strict} -o m55.o"),
        })
        {
            var (code, output) = Gcc.Run(compiler, flags, dir);
            Assert.True(code == 0, $"{name}.h with {compiler} {flags}:\n{output}");
        }
    }

    [Fact]
    public void EveryHelperIsGuardedAndPrefixed()
    {
        foreach (var helper in SupportLibrary.Helpers.Value.Values)
        {
            foreach (Match m in Regex.Matches(helper.Body, @"^\s*(?:static|MTVM_VFN)[^(=;]*?\b(\w+)\s*\(", RegexOptions.Multiline))
                Assert.StartsWith("mtvm_", m.Groups[1].Value);
            foreach (var dependency in helper.Dependencies) Assert.True(SupportLibrary.Helpers.Value.ContainsKey(dependency), $"{helper.Name}.h includes unknown {dependency}.h");
        }
    }

    public static IEnumerable<object[]> Models() => TestModels.All();

    [Theory]
    [MemberData(nameof(Models))]
    public void GeneratedSourcesIncludeEachHeaderOnce(string modelName)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        foreach (var target in new[] { "host", "cortex-m4", "cortex-m7", "cortex-m55" })
        {
            var model = ModelCompiler.Compile(graph, new CompileOptions(target, modelName));
            var source = model.Files[model.SourceFile];
            var includes = Regex.Matches(source, @"^#include\s+(\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
            Assert.True(includes.Count == includes.Distinct().Count(), $"{target}: duplicate includes {string.Join(", ", includes)}");
        }
    }
}
