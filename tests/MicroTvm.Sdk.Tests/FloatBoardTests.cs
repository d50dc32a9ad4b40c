using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The float kernels on the boards' FPUs, where the real instructions run (VDIV, VCVTA on the Cortex-M7 and M55,
/// VCVT.S16.F32 #1 on the Cortex-M4) instead of their portable emulation: QUANTIZE models with the quantizations of
/// QuantizeProbes and inputs at and beside every step of the reference (<see cref="QuantizeProbes"/>: ties, the int16
/// and int32 saturations, the zero point's wrap-around, NaN, infinities, subnormals), and float FULLY_CONNECTED layers
/// whose rows are unrolled in registers (no fused multiply-add may change a bit). Expected outputs: the reference evaluator.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class FloatBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an386")]
    [InlineData("mps2-an500")]
    [InlineData("mps3-an547")]
    public void FloatKernelsGiveTheEvaluatorsOutputsOnTheBoard(string board)
    {
        var random = new Random(1152);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"float-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        string target = board switch { "mps2-an386" => "cortex-m4", "mps2-an500" => "cortex-m7", _ => "cortex-m55" };
        string marker = target == "cortex-m4" ? "mtvm_cvt_twice_s16" : "mtvm_cvta_s32";
        int fpu = 0;
        for (int i = 0; i < QuantizeProbes.Quantizations.Length; i++)
        {
            var (scale, zeroPoint, type) = QuantizeProbes.Quantizations[i];
            const int count = 1024;
            var b = new TfliteModelBuilder();
            int x = b.AddTensor("x", ElementType.Float32, [count]);
            int y = b.AddTensor("y", type, [count], quantization: (scale, zeroPoint));
            b.Inputs.Add(x);
            b.Outputs.Add(y);
            b.AddOperator(Builtin.Quantize, [x], [y]);
            var graph = firmware.AddEvaluatedModel($"quantize{i}", b.Build(),
                _ => QuantizeProbes.For(scale, zeroPoint, QuantizedRange.Of(type), count, random).SelectMany(BitConverter.GetBytes).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions(target, $"quantize{i}"));
            if (compiled.Files[compiled.SourceFile].Contains(marker, StringComparison.Ordinal)) fpu++;
        }

        // int16 outputs and the scale 1e30 (its wrap point is -inf) stay on the portable kernel on the Cortex-M4.
        Assert.Equal(target == "cortex-m4" ? 7 : 10, fpu);

        // FULLY_CONNECTED: 1 -> 16 -> 16 (ReLU) -> 20 inputs looped -> 3 (no activation), two batches.
        foreach (var (depth, units, activation) in new[] { (1, 16, 1), (16, 16, 1), (16, 5, 0), (20, 3, 3) })
        {
            var b = new TfliteModelBuilder();
            int x = b.AddTensor("x", ElementType.Float32, [2, depth]);
            int w = b.AddTensor("w", ElementType.Float32, [units, depth], Floats(Enumerable.Range(0, units * depth).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()));
            int bias = b.AddTensor("b", ElementType.Float32, [units], Floats(Enumerable.Range(0, units).Select(u => u % 3 == 0 ? 0f : (float)(random.NextDouble() - 0.5)).ToArray()));
            int y = b.AddTensor("y", ElementType.Float32, [2, units]);
            b.Inputs.Add(x);
            b.Outputs.Add(y);
            b.AddOperator(Builtin.FullyConnected, [x, w, bias], [y], Options.FullyConnected(activation));
            firmware.AddEvaluatedModel($"fc_{depth}x{units}", b.Build(),
                t => Floats(Enumerable.Range(0, (int)t.ElementCount).Select(_ => (float)((random.NextDouble() * 2 - 1) * 4)).ToArray()), bitExact: true);
        }

        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>", $"float-{board}");
        firmware.RunAndAssertAllMatch(project, log);
    }
}
