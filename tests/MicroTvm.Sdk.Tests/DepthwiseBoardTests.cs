using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The DSP depthwise kernel on the boards, where its assembly accumulation (one asm statement per block of pixels)
/// runs instead of the C the host tests emulate: one-operator DEPTHWISE_CONV_2D models with 4, 8, 12, 16 and 64
/// channels, strides 1 and 2 (odd-start pixels and even-only ones), SAME and VALID padding, filters 1x1 to 5x5, depth
/// multipliers 1 to 3, rows of 1 to 13 pixels (blocks that fit the registers and ones that fall back to C), two images;
/// expected outputs from the reference evaluator on seeded random inputs.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class DepthwiseBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an500")]
    [InlineData("mps2-an386")]
    public void DepthwiseGivesTheEvaluatorsOutputsOnTheBoard(string board)
    {
        var random = new Random(1515);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"depthwise-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        string target = board == "mps2-an500" ? "cortex-m7" : "cortex-m4";
        int assembly = 0;
        void Model(string name, int[] input, int filterH, int filterW, int multiplier, int stride, int padding, int activation)
        {
            var graph = firmware.AddEvaluatedModel(name, RandomLayers.Depthwise(random, input, filterH, filterW, multiplier, stride, stride, padding, activation).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions(target, name));
            string source = compiled.Files[compiled.SourceFile];
            Assert.Contains("ring[i] =", source, StringComparison.Ordinal);
            if (source.Contains("#if MTVM_DSP_ASM", StringComparison.Ordinal)) assembly++;
        }

        Model("kws", [1, 25, 5, 64], 3, 3, 1, 1, Options.Same, 1);        // KWS's layer: one block of 5 pixels, odd starts
        Model("s2_8", [1, 9, 9, 8], 3, 3, 1, 2, Options.Same, 0);        // stride 2: even starts only
        Model("v_16", [1, 7, 6, 16], 3, 3, 1, 1, Options.Valid, 3);      // VALID, 4 pixels
        Model("s2_12", [2, 6, 11, 12], 3, 3, 1, 2, Options.Valid, 0);    // 12 channels, two images, 5 pixels
        Model("m2", [1, 5, 7, 4], 3, 3, 2, 1, Options.Same, 0);          // depth multiplier 2, 7 pixels (blocks of 8: C)
        Model("m3_5x5", [1, 6, 4, 4], 5, 5, 3, 1, Options.Same, 1);      // 5x5, multiplier 3
        Model("f2x2", [1, 5, 5, 8], 2, 2, 1, 1, Options.Same, 0);        // even filter width
        Model("wide", [1, 4, 13, 8], 3, 3, 1, 1, Options.Same, 0);       // blocks of 8 pixels and a rest
        Model("one", [1, 3, 1, 4], 1, 1, 1, 1, Options.Valid, 0);        // one pixel per row, 1x1
        Model("s2_4x4", [1, 8, 8, 16], 4, 4, 1, 2, Options.Same, 0);     // 4x4, stride 2

        Assert.True(assembly >= 6, $"only {assembly} models used the assembly accumulation");
        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>", $"depthwise-{board}");
        firmware.RunAndAssertAllMatch(project, log);
    }
}
