using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The target-specific ADD/SUB and pooling kernels on the boards themselves, where the real instructions run (SMLAWB/T, SMMLAR,
/// SSAT with a shift, BFI, SSUB8/SEL, SXTAB16 on the Cortex-M4; gathers, VQRDMLASH, predicated tails on the
/// Cortex-M55) instead of their portable emulation: one-operator .tflite models as <c>&lt;MicroModel&gt;</c> items,
/// seeded random inputs, expected outputs from the reference evaluator, shapes that reach every path (tails of 1..3
/// elements, a zero right shift, upper clamps, SUB, channel counts that fill no whole vector, clipped windows).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class ElementwiseBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an386")]
    [InlineData("mps3-an547")]
    public void AddAndPoolingKernelsGiveTheEvaluatorsOutputsOnTheBoard(string board)
    {
        var random = new Random(808);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"elementwise-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        var markers = new List<string>();
        string target = board == "mps3-an547" ? "cortex-m55" : "cortex-m4";
        void Model(string name, Func<TfliteModelBuilder> build)
        {
            var graph = firmware.AddEvaluatedModel(name, build().Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(i => (byte)(i % 5 == 0 ? 128 : i % 5 == 1 ? 127 : random.Next(256))).ToArray());

            // The build compiles the item for the board's CPU exactly so: the target kernel must be the one that runs.
            var compiled = ModelCompiler.Compile(graph, new CompileOptions(target, name));
            string source = compiled.Files[compiled.SourceFile];
            string marker = (target, graph.Nodes[0].Kind == OpKind.Add || graph.Nodes[0].Kind == OpKind.Sub) switch
            {
                ("cortex-m55", true) => "mtvm_add_sum4",
                ("cortex-m55", false) => "mtvm_pool_zero16",
                (_, true) => source.Contains(AffineMarker, StringComparison.Ordinal) ? AffineMarker : "_table1[",
                _ => "mtvm_sxtab16",
            };
            Assert.True(source.Contains(marker, StringComparison.Ordinal), $"{name} on {target} does not use the target kernel ({marker})");
            markers.Add(marker + (source.Contains("mtvm_sxtb16(wb)", StringComparison.Ordinal) ? " sxtb16" : ""));
            foreach (var store in new[] { "mtvm_usat16_8(mtvm_pack_hi16", "MTVM_SSAT8_ASR(w, mtvm_smlawb" })
                if (source.Contains(store, StringComparison.Ordinal)) markers.Add(store);
        }

        // ADD: a tail of 3, TFLite's typical scales with ReLU; RELU6 (upper clamp) with a tail of 1; a zero right shift
        // (tiny output scale); SUB with a tail of 2.
        Model("add_relu", () => Binary(Builtin.Add, Options.Add(activation: 1), 2 * 4 * 4 * 8 + 3, (0.05f, -3), (0.08f, 10), (0.1f, -128)));
        Model("add_relu6", () => Binary(Builtin.Add, Options.Add(activation: 3), 4 * 9 + 1, (0.04f, 5), (0.03f, -7), (0.06f, -20)));
        Model("add_shift0", () => Binary(Builtin.Add, Options.Add(), 21, (0.05f, 0), (0.05f, 1), (0.05f * 2 / (1 << 20) / 0.75f, 0)));
        // An input whose slope is small enough for SXTB16 lanes (the other's bytes masked into the lanes' high bytes);
        // the whole int8 range, so results pack two at a time (add_relu6: SSAT + BFI; add_relu, whose input scales are
        // half and 0.8 of the output's, has exact ties and takes the tables).
        Model("add_small_slope", () => Binary(Builtin.Add, Options.Add(), 4 * 5 + 2, (0.1037f, 3), (0.000217f, -9), (0.1291f, 7)));
        // Equal input scales and twice that at the output: odd sums are exact ties that TFLite rounds away from zero,
        // which no affine form gives, so the tables run.
        Model("add_ties", () => Binary(Builtin.Add, Options.Add(), 4 * 6 + 3, (0.05f, 0), (0.05f, 0), (0.1f, 0)));
        Model("sub", () => Binary(Builtin.Sub, Options.Sub(), 30, (0.02f, 30), (0.06f, -40), (0.07f, 2)));
        // Pools: whole-input average (one run of taps), SAME windows clipped at the edges with 12 channels (Helium:
        // a predicated tail of 4), max with RELU6 and 20 channels (a tail of 4 of 16).
        Model("avg_global", () => Pool(Builtin.AveragePool2D, [1, 9, 5, 24], 9, 5, 1, Options.Valid, 0, [1, 1, 1, 24]));
        Model("avg_same", () => Pool(Builtin.AveragePool2D, [1, 6, 7, 12], 3, 3, 2, Options.Same, 1, [1, 3, 4, 12]));
        Model("max_relu6", () => Pool(Builtin.MaxPool2D, [2, 5, 5, 20], 2, 3, 2, Options.Same, 3, [2, 3, 3, 20]));

        // The DSP ADD: the affine form (SMLAWB/SMLAWT, masks and SXTB16; results packed by PKHTB/USAT16 or SSAT + BFI) and
        // the tables (add_ties).
        if (target == "cortex-m4") Assert.True(markers.Contains(AffineMarker) && markers.Contains(AffineMarker + " sxtb16") && markers.Contains("_table1[")
            && markers.Contains("mtvm_usat16_8(mtvm_pack_hi16") && markers.Contains("MTVM_SSAT8_ASR(w, mtvm_smlawb"), string.Join(", ", markers));
        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>", $"elementwise-{board}");
        firmware.RunAndAssertAllMatch(project, log);
    }

    /// <summary>The comment above the DSP ADD's affine loop (the helper headers define every intrinsic, so a name is no marker).</summary>
    private const string AffineMarker = "proven on all 65,536 input pairs";

    private static TfliteModelBuilder Binary(int op, Options options, int count, (float, long) qa, (float, long) qb, (float, long) qo)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, [count], quantization: qa);
        int y = b.AddTensor("y", ElementType.Int8, [count], quantization: qb);
        int z = b.AddTensor("z", ElementType.Int8, [count], quantization: qo);
        b.Inputs.AddRange([x, y]);
        b.Outputs.Add(z);
        b.AddOperator(op, [x, y], [z], options);
        return b;
    }

    private static TfliteModelBuilder Pool(int op, int[] input, int filterH, int filterW, int stride, int padding, int activation, int[] output)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, input, quantization: (0.05f, -5));
        int z = b.AddTensor("z", ElementType.Int8, output, quantization: (0.05f, -5));
        b.Inputs.Add(x);
        b.Outputs.Add(z);
        b.AddOperator(op, [x], [z], Options.Pool2D(padding, stride, stride, filterW, filterH, activation));
        return b;
    }
}
