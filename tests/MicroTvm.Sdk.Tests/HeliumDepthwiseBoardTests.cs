using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The Helium depthwise kernel with output pixels in the lanes (HeliumPlaneDepthwiseKernel) on the Cortex-M55 board,
/// where its assembly (VLDRB.S32 and VMLA.S32 by scalar), gathers, predicated stores and scatters run instead of
/// their host emulation: one-operator DEPTHWISE_CONV_2D models with depth multipliers 1, 2, 4 and 8 (one input channel goes to the matrix product), strides 1 and 2
/// on either axis (phases of the plane), SAME and VALID, lane strips with 1 to 3 lanes left, blocks of 1 to 5
/// outputs, channel counts that fill no vector, per-channel scales, ReLU, RELU6 and no clamp; expected outputs from
/// the reference evaluator on seeded random inputs.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class HeliumDepthwiseBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void PlaneDepthwiseGivesTheEvaluatorsOutputsOnTheBoard()
    {
        var random = new Random(1161);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium-dw-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        void Model(string name, int[] input, int filterH, int filterW, int multiplier, int strideH, int strideW, int padding, int activation, float outputScale = 1)
        {
            var graph = firmware.AddEvaluatedModel(name, RandomLayers.Depthwise(random, input, filterH, filterW, multiplier, strideH, strideW, padding, activation, outputScale).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            string source = compiled.Files[compiled.SourceFile];
            Assert.Contains(" phases][", source, StringComparison.Ordinal); // the plane kernel, not the window kernel
            // Coarse output scales: every channel shifts right and no clamp inside int8, so pairs of whole vectors take
            // mtvm_dw_requantize_pair's assembly (VQRDMLAH with the sign of the sum as accumulator, VQMOVNB.S16).
            if (outputScale > 1)
                Assert.Matches(@"mtvm_dw_requantize_pair\([^;]*, 0, 1, -?\d+, -128, 127, 4\);", source);
        }

        Model("kws_like", [1, 25, 7, 20], 3, 3, 1, 1, 1, Options.Same, 1);  // lanes over rows, a strip of 1 lane, blocks of 5 + 2 (5 columns: the window kernel)
        Model("wide", [1, 3, 14, 6], 3, 3, 1, 1, 1, Options.Valid, 0);     // lanes over columns, 12 = 3 strips, a block of 1
        Model("mult2_s2", [1, 9, 11, 3], 3, 2, 2, 2, 2, Options.Same, 3);   // two phases, blocks of 4 + 1 (RELU6)
        Model("mult4_sh2", [2, 8, 7, 5], 2, 4, 4, 2, 1, Options.Valid, 0);  // stride 2 across the lanes only, two images
        Model("two_ch_x8", [1, 10, 9, 2], 4, 3, 8, 1, 2, Options.Same, 1);  // two input channels times 8, stride 2 on the blocks
        Model("kws_right", [1, 25, 7, 24], 3, 3, 1, 1, 1, Options.Same, 0, outputScale: 20); // every shift right: the pairs' assembly
        Model("wide_right", [2, 6, 13, 9], 3, 3, 1, 1, 1, Options.Same, 0, outputScale: 30);  // the same, lanes over columns, two images

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium-dw-mps3-an547");
        firmware.RunAndAssertAllMatch(project, log);
    }

    /// <summary>The window depthwise kernel (HeliumWindowDepthwiseKernel) on the board, where VMLADAV.S8, the weight
    /// vector moved up one lane by VSHLC, the sums moved into vectors by VMOV Dm, Rt, Rt2, the gathers scattered into
    /// the plane's rows and the contiguous ones run instead of their host emulation: KWS's shape (two outputs per load,
    /// loops over periods of 8 rows), VALID (rows back to back), a window of exactly 16 bytes (one output per load),
    /// one filter row over 12 columns, two images; per-channel scales, ReLU and none, coarse scales for the pairs'
    /// assembly; expected outputs from the reference evaluator on seeded random inputs.</summary>
    [Fact]
    public void WindowDepthwiseGivesTheEvaluatorsOutputsOnTheBoard()
    {
        var random = new Random(1361);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium-window-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        void Model(string name, int[] input, int filterH, int filterW, int padding, int activation, float outputScale = 1)
        {
            var graph = firmware.AddEvaluatedModel(name, RandomLayers.Depthwise(random, input, filterH, filterW, 1, 1, 1, padding, activation, outputScale).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            Assert.Contains("mtvm_dw_dot16(x0, w0)", compiled.Files[compiled.SourceFile], StringComparison.Ordinal);
        }

        Model("kws", [1, 25, 5, 20], 3, 3, Options.Same, 1);                         // scattered copies, two outputs per load, loops
        Model("kws_right", [1, 25, 5, 24], 3, 3, Options.Same, 0, outputScale: 20);  // every shift right: the pairs' assembly
        Model("valid", [2, 6, 6, 7], 3, 3, Options.Valid, 0);                        // contiguous copies, 16 outputs, two images
        Model("span16", [1, 5, 4, 9], 3, 4, Options.Same, 1);                        // one output per load, a last group overlapping
        Model("row", [1, 9, 12, 5], 1, 3, Options.Same, 0, outputScale: 20);         // one filter row, periods of 24 outputs

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium-window-mps3-an547");
        firmware.RunAndAssertAllMatch(project, log);
    }
}
