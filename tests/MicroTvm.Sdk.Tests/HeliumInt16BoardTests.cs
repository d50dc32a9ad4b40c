using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The Helium 16x8 kernels (HeliumGemm16Kernel: VMLADAVA.S16 / VMLALDAVA.S16 over int16 columns and widened int8
/// weights, dilated CONV_2D included; HeliumDepthwise16Kernel: 4 channels per vector, gathered by input channel with a
/// depth multiplier, dilated) on the Cortex-M55 board, where the intrinsics run instead of their host emulation:
/// one-operator CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED models with int16 activations, int64, int32 and no bias (64-bit sums kept in 32
/// bits, 64-bit sums for a long row, wrapping int32 sums), per-channel scales, strides, SAME and VALID, two and three
/// images, channel counts and depths that fill no vector; expected outputs from the reference evaluator on seeded random
/// inputs, and TFLM's own for tests/operators/depthwise_conv_2d_i16.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class HeliumInt16BoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Fact]
    public void Gemm16GivesTheEvaluatorsOutputsOnTheBoard()
    {
        var random = new Random(1221);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium16-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        void Model(string name, int[] input, int outputs, int filterH, int filterW, int stride, int padding, int activation, ElementType? bias, string call, int dilation = 1)
        {
            var graph = firmware.AddEvaluatedModel(name, RandomLayers.Layer16(random, input, outputs, filterH, filterW, stride, padding, activation, bias, dilation).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount * 2).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            Assert.Contains(call, compiled.Files[compiled.SourceFile], StringComparison.Ordinal);
        }

        Model("fc_wide", [1, 256], 64, 0, 0, 1, 0, 0, ElementType.Int64, "mtvm_c16_st_s16(o");         // int64 bias, sums and requantization in 32 bits
        Model("fc_narrow", [3, 75], 13, 0, 0, 1, 0, 1, ElementType.Int32, "mtvm_c16_st_s16(o");        // int32 bias, ReLU, three batches
        Model("fc_long", [2, 1100], 7, 0, 0, 1, 0, 0, ElementType.Int64, "mtvm_c16_dot1_64(x");       // sums that may leave int32, 64-bit requantization per channel
        Model("conv_wide", [1, 16, 16, 16], 16, 3, 3, 1, Options.Same, 0, ElementType.Int64, "mtvm_c16_st_s16(o");
        Model("conv_narrow", [2, 7, 9, 13], 11, 2, 3, 2, Options.Valid, 3, ElementType.Int32, "mtvm_c16_st_s16(o");
        Model("conv_nobias", [1, 6, 5, 5], 6, 3, 3, 2, Options.Same, 1, null, "mtvm_c16_st_s16(o");
        Model("pointwise", [1, 5, 7, 20], 9, 1, 1, 1, Options.Valid, 0, ElementType.Int64, "mtvm_c16_st_s16(o");

        void Depthwise(string name, int[] input, int filterH, int filterW, int stride, int padding, int activation, bool bias, int multiplier = 1, int dilation = 1)
        {
            var graph = firmware.AddEvaluatedModel(name, RandomLayers.Depthwise16(random, input, filterH, filterW, stride, padding, activation, bias, multiplier, dilation).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount * 2).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            Assert.Contains(multiplier == 1 ? "mtvm_c16_mla4(acc" : "mtvm_c16_mla4g(acc, x, off", compiled.Files[compiled.SourceFile], StringComparison.Ordinal);
        }

        Depthwise("dw_3x3", [1, 16, 16, 16], 3, 3, 1, Options.Same, 0, true);
        Depthwise("dw_odd", [2, 9, 7, 13], 3, 2, 2, Options.Valid, 3, true); // a predicated last group of 1 channel, RELU6
        Depthwise("dw_nobias", [1, 5, 6, 6], 4, 4, 2, Options.Same, 1, false);
        Depthwise("dw_m2", [1, 9, 8, 5], 3, 3, 1, Options.Same, 0, true, multiplier: 2);              // 10 channels: a predicated group of 2
        Depthwise("dw_m3_dil2", [2, 9, 7, 3], 3, 2, 2, Options.Valid, 3, true, multiplier: 3, dilation: 2);
        Depthwise("dw_m4", [1, 6, 6, 7], 3, 3, 2, Options.Same, 1, false, multiplier: 4);
        Depthwise("dw_dil2", [1, 10, 9, 6], 3, 3, 1, Options.Same, 0, true, dilation: 2);
        firmware.AddOperatorCase(Path.Combine(sdk.RepositoryRoot, "tests", "operators"), "depthwise_conv_2d_i16"); // TFLM's outputs, multiplier 2
        Model("conv_dil2", [1, 11, 10, 6], 7, 3, 3, 1, Options.Same, 0, ElementType.Int64, "mtvm_c16_st_s16(o", dilation: 2);
        Model("conv_dil3", [2, 12, 9, 5], 5, 2, 3, 2, Options.Valid, 1, ElementType.Int32, "mtvm_c16_st_s16(o", dilation: 3);

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium16-mps3-an547");
        var instructions = firmware.RunAndAssertAllMatch(project, log);
        log.WriteLine(string.Join(", ", instructions));
    }
}
