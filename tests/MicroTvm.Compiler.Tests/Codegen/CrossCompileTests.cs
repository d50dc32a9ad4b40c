using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>Every shared model's generated C compiles warning-free (-Wall -Wextra, <see cref="Gcc.StrictWarnings"/>, -Werror, C99) with
/// arm-none-eabi-gcc for every Cortex-M target, and references no library symbol besides memcpy/memset (and the
/// compiler's own run-time helpers, __aeabi_*, e.g. 64-bit multiply or soft float on Cortex-M0+). No function keeps
/// more than <see cref="MaxFrameBytes"/> on the stack (gcc's -fstack-usage): kernel scratch is in the workspace.</summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class CrossCompileTests
{
    public static IEnumerable<object[]> Models() => TestModels.All();

    /// <summary>Registers and a few words of locals; micro_speech's DSP FULLY_CONNECTED had 8,056 B when its column
    /// was a stack array.</summary>
    private const int MaxFrameBytes = 256;

    /// <summary>Helium kernels spill 16-byte vector registers (MVE has eight): kws_dscnn's plane depthwise keeps five
    /// accumulators, two offset vectors and the tap, 296 B on the M55 with gcc 12.</summary>
    private const int MaxHeliumFrameBytes = 384;

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
            var (code, text) = Gcc.Run("arm-none-eabi-gcc", $"{target.GccFlags} -std=c99 -Wall -Wextra {Gcc.StrictWarnings} -Werror -O2 -ffunction-sections -fdata-sections -fstack-usage -c {model.SourceFile} -o {obj}", dir);
            Assert.True(code == 0, $"{target.Name}: arm-none-eabi-gcc failed:\n{text}");
            // OptimizationLevel=0 is a user's choice too (debugging): the inline asm must still find its registers.
            var (unoptimizedCode, unoptimizedText) = Gcc.Run("arm-none-eabi-gcc", $"{target.GccFlags} -std=c99 -Wall -Wextra {Gcc.StrictWarnings} -Werror -O0 -c {model.SourceFile} -o {modelName}-{target.Name}-O0.o", dir);
            Assert.True(unoptimizedCode == 0, $"{target.Name} at -O0: arm-none-eabi-gcc failed:\n{unoptimizedText}");
            // <file>:<line>:<column>:<function>\t<bytes>\t<static|dynamic|bounded>
            foreach (var line in File.ReadAllLines(Path.Combine(dir, Path.ChangeExtension(obj, ".su"))))
            {
                var fields = line.Split('\t');
                int limit = target.HasMve ? MaxHeliumFrameBytes : MaxFrameBytes;
                Assert.True(int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) <= limit && fields[2] == "static",
                    $"{target.Name}: {line}: more than {limit} B of stack");
            }

            var (nmCode, symbols) = Gcc.Run("arm-none-eabi-nm", $"-u {obj}", dir);
            Assert.Equal(0, nmCode);
            var undefined = symbols.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(' ').Last())
                .Where(s => s is not ("memcpy" or "memmove" or "memset") && !s.StartsWith("__aeabi_", StringComparison.Ordinal)).ToList();
            Assert.True(undefined.Count == 0, $"{target.Name}: the object needs {string.Join(", ", undefined)}");
        }
    }
}
