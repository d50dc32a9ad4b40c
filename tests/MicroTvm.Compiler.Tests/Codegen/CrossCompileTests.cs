using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>Every shared model's generated C compiles warning-free (-Wall -Wextra -Werror, C99) with
/// arm-none-eabi-gcc for every Cortex-M target, and references no library symbol besides memcpy/memset (and the
/// compiler's own run-time helpers, __aeabi_*, e.g. 64-bit multiply or soft float on Cortex-M0+).</summary>
public class CrossCompileTests
{
    public static IEnumerable<object[]> Models() => TestModels.All();

    [Theory]
    [MemberData(nameof(Models))]
    public void CompilesForEveryCortexMTarget(string modelName)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        var dir = Gcc.TemporaryDirectory("arm-" + modelName);
        foreach (var target in Targets.All.Where(t => t.Name != "host"))
        {
            var model = ModelCompiler.Compile(graph, new CompileOptions(target.Name, modelName));
            model.WriteTo(dir);
            string obj = $"{modelName}-{target.Name}.o";
            var (code, text) = Gcc.Run("arm-none-eabi-gcc", $"{target.GccFlags} -std=c99 -Wall -Wextra -Werror -O2 -ffunction-sections -fdata-sections -c {model.SourceFile} -o {obj}", dir);
            Assert.True(code == 0, $"{target.Name}: arm-none-eabi-gcc failed:\n{text}");
            var (nmCode, symbols) = Gcc.Run("arm-none-eabi-nm", $"-u {obj}", dir);
            Assert.Equal(0, nmCode);
            var undefined = symbols.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(' ').Last())
                .Where(s => s is not ("memcpy" or "memset") && !s.StartsWith("__aeabi_", StringComparison.Ordinal)).ToList();
            Assert.True(undefined.Count == 0, $"{target.Name}: the object needs {string.Join(", ", undefined)}");
        }
    }
}
