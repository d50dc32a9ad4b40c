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
/// The DSP convolution matrix product on the boards, where the real instructions run instead of the portable C the host
/// tests emulate: the widened layout's assembly written per layer with the requantization inside (DspGemmRows; else
/// mtvm_gemm16_rows) and, with MicroTvmWeightLayout=size, the compact layout's mtvm_gemm8_rows (pairs of channels in
/// int16 words w0 + 256 * w1). One-operator CONV_2D models whose columns have 1 to 9 steps of 4 values, odd channel
/// and pixel counts, packed 3-channel receptive fields, strides and both paddings; for the widened layout also 45 and
/// 260 steps (the loop of 16 after the remainder; a column of more than 4,095 bytes), uniform right shifts with ReLU
/// and with the sign correction, and RELU6 / RELU_N1_TO_1 clamps inside the int8 range; for the compact layout also
/// layers with room beside them in the workspace (their output concatenated, then added to itself), whose int8 rows are
/// widened into the scratch a block of pairs at a time (one block or several, an odd pixel count, a uniform shift,
/// pointwise, stride 2); expected outputs from the reference evaluator on seeded random inputs.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class GemmBoardTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an500", "speed")]
    [InlineData("mps2-an386", "speed")]
    [InlineData("mps2-an500", "size")]
    [InlineData("mps2-an386", "size")]
    public void ConvolutionMatrixProductGivesTheEvaluatorsOutputsOnTheBoard(string board, string layout)
    {
        var random = new Random(909);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"gemm-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        string target = board == "mps2-an500" ? "cortex-m7" : "cortex-m4";
        var rows = new List<string>();
        var unpaired = new List<string>();
        var perChannelShifts = new List<string>();
        var blocks = new List<string>();
        var severalBlocks = new List<string>();
        void Model(string name, int[] input, int filterH, int filterW, int outputs, int stride, int padding, int activation, bool uniform = false, float coarse = 1, int room = 0)
        {
            var graph = firmware.AddEvaluatedModel(name, Conv(random, input, filterH, filterW, outputs, stride, padding, activation, uniform, coarse, room).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions(target, name,
                WeightLayout: layout == "size" ? MicroTvm.Compiler.Tuning.WeightLayout.Size : MicroTvm.Compiler.Tuning.WeightLayout.Speed));
            string source = compiled.Files[compiled.SourceFile];
            // The per-layer assembly where the fast requantization is exact (compact: where the pairs fit), else
            // mtvm_gemm16_rows (widened), mtvm_gemm8_rows or the unpacked int8 rows (compact).
            // Compact filters widened a block of pairs at a time in the workspace's room (WidenedBlocks): the widened steps.
            if (source.Contains("mtvm_gemm8_widen(op", StringComparison.Ordinal)) blocks.Add(name);
            if (System.Text.RegularExpressions.Regex.Match(source, @"const int n = (\d+) - c0 < (\d+) \? .* /\* pairs in this block \*/") is { Success: true } m && int.Parse(m.Groups[1].Value) > int.Parse(m.Groups[2].Value))
                severalBlocks.Add(name);
            if (source.Contains($"w = mtvm_gemm{(layout == "size" ? 8 : 16)}_pair(col, w, ", StringComparison.Ordinal) || blocks.Contains(name)) rows.Add(name);
            else if (layout == "size") unpaired.Add(name);
            else Assert.Contains("mtvm_gemm16_rows(", source, StringComparison.Ordinal);
            if (source.Contains("a[2] = mtvm_gemm8_high(a[2], a[0], w[", StringComparison.Ordinal) || source.Contains("a[0] = (int32_t)((uint32_t)a[0] << w[", StringComparison.Ordinal))
                perChannelShifts.Add(name);
            // Compact: the per-layer assembly wherever the widened layout takes it and the pairs fit.
            var widened = ModelCompiler.Compile(graph, new CompileOptions(target, name, WeightLayout: MicroTvm.Compiler.Tuning.WeightLayout.Speed));
            if (layout == "size" && widened.Files[widened.SourceFile].Contains("w = mtvm_gemm16_pair(col, w, ", StringComparison.Ordinal) && !rows.Contains(name))
                Assert.Contains("mtvm_dot_2x2(", source, StringComparison.Ordinal); // only where the pairs do not fit: unpacked int8 rows
        }

        // Steps of 4 values per column (n4, its remainder mod 8 in brackets) and channels per call.
        Model("pw_s1", [1, 3, 5, 4], 1, 1, 5, 1, Options.Valid, 0);       // n4 1, 3 pairs (odd: a zero row)
        Model("pw_s2", [1, 4, 3, 8], 1, 1, 18, 1, Options.Valid, 1);      // n4 2, chunks 16 + 2
        Model("row_s3", [1, 5, 6, 4], 1, 3, 7, 1, Options.Same, 0);       // n4 3
        Model("col_s5", [1, 7, 4, 4], 5, 1, 9, 2, Options.Same, 3);       // n4 5, stride 2
        Model("s6_pad", [2, 5, 5, 6], 2, 2, 33, 2, Options.Same, 0);      // n4 6, chunks 16 + 16 + 1, two images
        Model("rgb_s7", [1, 6, 7, 3], 3, 3, 16, 1, Options.Same, 1);      // packed 27 -> 28 values, n4 7
        Model("pw_s8", [1, 6, 6, 32], 1, 1, 11, 2, Options.Valid, 0);     // n4 8 (remainder 0), strided 1x1
        Model("s9", [1, 5, 4, 4], 3, 3, 4, 1, Options.Valid, 0);          // rows of 12, n4 9 (remainder 1)
        Model("two_ch", [1, 4, 5, 2], 3, 3, 3, 1, Options.Same, 0);       // packed 18 -> 20 values, n4 5, odd pixels
        {
            Model("loop45", [1, 4, 5, 20], 3, 3, 6, 1, Options.Same, 1);      // n4 45: 13 unrolled, then the loop of 16
            Model("long", [1, 2, 3, 1040], 1, 1, 5, 1, Options.Valid, 0);    // n4 260: a column of 4,160 bytes (MOVW)
            Model("uniform", [1, 5, 5, 8], 3, 3, 6, 1, Options.Same, 1, uniform: true);      // one right shift for all: USAT with ASR
            Model("uni_none", [1, 4, 4, 16], 1, 1, 7, 1, Options.Valid, 0, uniform: true);   // SSAT with ASR and the sign correction
            Model("relu6", [1, 5, 4, 8], 3, 3, 10, 2, Options.Same, 3, coarse: 200);         // RELU6 clamps inside the int8 range
            Model("n1to1", [1, 4, 4, 8], 1, 1, 9, 1, Options.Valid, 2, coarse: 200);         // RELU_N1_TO_1
            // With room beside the layer (its output concatenated `room` times, then added to itself).
            Model("room", [1, 6, 6, 16], 3, 3, 8, 1, Options.Same, 1, room: 20);            // 36 pixels, one block of 4 pairs
            Model("room_odd", [1, 5, 5, 24], 3, 3, 20, 1, Options.Same, 0, room: 14);       // 25 pixels (the last twice), blocks of 5 pairs
            Model("room_uni", [1, 4, 8, 8], 3, 3, 6, 1, Options.Same, 1, uniform: true, room: 30); // one shift: LSL by an immediate
            Model("room_pw", [1, 4, 5, 32], 1, 1, 16, 1, Options.Valid, 0, room: 20);       // pointwise: both pixels widened at once
            Model("room_s2", [1, 9, 9, 8], 3, 3, 10, 2, Options.Same, 3, coarse: 200, room: 20); // stride 2, RELU6
            Assert.True(rows.Count >= (layout == "size" ? 9 : 10), $"only {rows.Count} models took the per-layer assembly: {string.Join(", ", rows)}");
            Assert.Subset(rows.ToHashSet(), new HashSet<string> { "loop45", "uniform", "uni_none", "relu6", "n1to1" });
            log.WriteLine($"{layout}: per-layer assembly {string.Join(", ", rows)}; other paths {string.Join(", ", unpaired)}; shifts per channel {string.Join(", ", perChannelShifts)}");
            log.WriteLine($"widened blocks: {string.Join(", ", blocks)}; several blocks: {string.Join(", ", severalBlocks)}");
            Assert.Equal(layout == "size" ? ["room", "room_odd", "room_uni", "room_pw", "room_s2"] : [], blocks);
            Assert.Equal(layout == "size" ? ["room_odd"] : [], severalBlocks);
            if (layout == "size") Assert.NotEmpty(perChannelShifts);
            else Assert.Contains("long", rows);
        }

        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board><MicroTvmWeightLayout>{layout}</MicroTvmWeightLayout></PropertyGroup>", $"gemm-{board}-{layout}");
        firmware.RunAndAssertAllMatch(project, log);
    }

    /// <summary>The Helium matrix product on the Cortex-M55 (mps3-an547): where the channels fill blocks of 4, the
    /// asm statement over all blocks (MTVM_VB2_RUN: weights, bias and requantization from one stream; two columns
    /// narrowed into one vector and stored by one scatter), with columns read in place (pointwise, and filter rows of
    /// whole 16-byte steps inside the image) or gathered (edges, small rows), tails of 1 to 15 bytes, columns of
    /// more than 8 steps (pointers moved between groups and rows), a last odd pixel (MTVM_VB1_RUN), every clamp
    /// (int8's range saturates instead), uniform shifts; channel counts not a multiple of 4 keep the per-block loop.
    /// Word-aligned columns two steps per VLDM by moving pointers (gathered, 3x3 rows in place), and inputs at odd
    /// addresses (a 3-byte or 1-byte input before them) whose columns are read by step; mixed shifts whose sign
    /// correction needs the mask (not the shift vector), and with RELU the rounding shift alone.</summary>
    [Fact]
    public void HeliumMatrixProductGivesTheEvaluatorsOutputsOnTheBoard()
    {
        var random = new Random(1200);
        string root = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"helium-gemm-models-{Guid.NewGuid():N}");
        var firmware = new ModelCheckFirmware(root);
        var streamed = new List<string>();
        var sources = new List<string>(); // the block loops' RUN statements
        void Model(string name, int[] input, int filterH, int filterW, int outputs, int stride, int padding, int activation, bool uniform = false, float coarse = 1,
            int oddDivisor = 0, int weightMax = 127, int misalign = 0)
        {
            var graph = firmware.AddEvaluatedModel(name, Conv(random, input, filterH, filterW, outputs, stride, padding, activation, uniform, coarse, oddDivisor: oddDivisor, weightMax: weightMax, misalign: misalign).Build(),
                t => Enumerable.Range(0, (int)t.ElementCount).Select(_ => (byte)random.Next(256)).ToArray());
            var compiled = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", name));
            string source = compiled.Files[compiled.SourceFile];
            if (!source.Contains("_stream, ", StringComparison.Ordinal)) return; // the RUN statement's stream argument
            streamed.Add(name);
            sources.AddRange(source.Split('\n').Where(l => l.TrimStart().StartsWith("MTVM_VB", StringComparison.Ordinal) && l.Contains("_stream, ", StringComparison.Ordinal)));
        }

        Model("pw64", [1, 5, 5, 64], 1, 1, 16, 1, Options.Valid, 1);        // in place, 4 steps by VLDM, odd pixel count
        Model("pw20", [1, 3, 6, 20], 1, 1, 8, 1, Options.Valid, 0);         // in place, a tail of 4 bytes
        Model("pw_s2", [1, 6, 5, 40], 1, 1, 12, 2, Options.Same, 1);        // strided 1x1: gathered, tail 8
        Model("rows16", [1, 6, 7, 16], 3, 3, 8, 1, Options.Same, 1);        // rows of 48 bytes in place, edges gathered
        Model("rows48", [1, 5, 4, 48], 3, 3, 4, 2, Options.Same, 0);        // rows of 9 steps: two groups per row
        Model("rgb", [1, 7, 6, 3], 3, 3, 16, 1, Options.Same, 3, coarse: 200); // gathered 27 bytes, RELU6 inside int8
        Model("long", [1, 2, 3, 1000], 1, 1, 4, 1, Options.Valid, 2, coarse: 200); // 63 steps (8 groups), RELU_N1_TO_1
        Model("col5", [2, 7, 4, 4], 5, 1, 12, 2, Options.Same, 0, uniform: true); // two images, uniform shift
        Model("odd_oc", [1, 4, 4, 16], 1, 1, 7, 1, Options.Valid, 1);       // 7 channels: the per-block loop
        Model("pw_mixed", [1, 3, 5, 32], 1, 1, 16, 1, Options.Valid, 0, coarse: 0.5f); // left, no and right shifts
        Model("pw_left", [1, 4, 3, 32], 1, 1, 8, 1, Options.Valid, 0, coarse: 0.05f);  // left shifts only
        // Odd channels' scales 12 times below the even ones' and weights in -3..3: channels that do not shift right beside
        // channels shifting right by 3 whose outputs stay mostly in range, so that the sign correction must add the mask's
        // -1, not the negated shift (which changes a quarter of the negative sums' results); no activation (the correction kept).
        Model("pw_wide", [1, 3, 5, 32], 1, 1, 16, 1, Options.Valid, 0, oddDivisor: 12, weightMax: 3);
        // RELU with mixed shifts: the rounding right shift alone (RSHR), the record without its mask; an odd pixel count.
        Model("rows_relu", [1, 5, 5, 32], 3, 3, 8, 1, Options.Same, 1, oddDivisor: 12, weightMax: 3);
        // The input at an odd address (a second input of 3 bytes before it): the columns read by step in the image.
        Model("pw_odd", [1, 3, 5, 64], 1, 1, 8, 1, Options.Valid, 1, misalign: 3);
        Model("rows_odd", [1, 5, 6, 32], 3, 3, 8, 1, Options.Same, 0, misalign: 1);
        Assert.Equal(["pw64", "pw20", "pw_s2", "rows16", "rows48", "rgb", "long", "col5", "pw_mixed", "pw_left", "pw_wide", "rows_relu", "pw_odd", "rows_odd"], streamed);
        // Every requantization form of the block loop (the record's vectors named per form) runs on the board.
        foreach (var form in new[] { "_LEFT(", "_RIGHT(", "_RIGHT_MIXED(", "_RSHR(", "MTVM_VB_REC2 ", "MTVM_VB_REC3 ", "MTVM_VB_REC5 ", "_STORE_SAT)", "_STORE)", "MTVM_VB2_PAF(", "MTVM_VB1_PDF(",
                     "MTVM_VB2_QF ", "MTVM_VB1_QF ", "MTVM_VB2_Q ", "MTVM_VB2_QN ", "MTVM_VB2_O ", "MTVM_VB2_T(0)" })
            Assert.True(sources.Any(s => s.Contains(form, StringComparison.Ordinal)), $"no model runs {form}");

        var project = firmware.CreateProject(sdk, "<PropertyGroup><Board>mps3-an547</Board></PropertyGroup>", "helium-gemm-an547");
        firmware.RunAndAssertAllMatch(project, log);
    }

    /// <summary>A CONV_2D with per-channel int8 weights, a random bias and an output scale that keeps values in range.
    /// <paramref name="oddDivisor"/>: the odd channels' filter scale that many times below the even ones' (one scale); weights in -<paramref name="weightMax"/>..<paramref name="weightMax"/>; <paramref name="misalign"/>: a first
    /// input of that many bytes before x (added to itself into a second output), so that x lies at an odd address.</summary>
    private static TfliteModelBuilder Conv(Random r, int[] input, int filterH, int filterW, int outputs, int stride, int padding, int activation, bool uniform = false, float coarse = 1,
        int room = 0, int oddDivisor = 0, int weightMax = 127, int misalign = 0)
    {
        int channels = input[3], taps = filterH * filterW * channels;
        int Out(int size, int f) => padding == Options.Same ? (size + stride - 1) / stride : (size - f) / stride + 1;
        var b = new TfliteModelBuilder();
        const float inScale = 0.05f;
        var scales = Enumerable.Range(0, outputs).Select(_ => (float)(0.004 * Math.Pow(5, r.NextDouble()))).ToArray();
        if (uniform || oddDivisor > 0) Array.Fill(scales, scales[0]);
        for (int i = 1; i < outputs && oddDivisor > 0; i += 2) scales[i] /= oddDivisor;
        var weights = Enumerable.Range(0, outputs * taps).Select(_ => (sbyte)r.Next(-weightMax, weightMax + 1)).ToArray();
        var bias = Enumerable.Range(0, outputs).Select(_ => r.Next(-60 * taps, 60 * taps + 1)).ToArray();
        float outScale = coarse * inScale * scales[0] * 30 * MathF.Sqrt(taps) / 128;
        int a = misalign > 0 ? b.AddTensor("a", ElementType.Int8, [1, 1, 1, misalign], quantization: (inScale, 0)) : -1;
        if (a >= 0) b.Inputs.Add(a);
        int x = b.AddTensor("x", ElementType.Int8, input, quantization: (inScale, r.Next(-128, 128)));
        int w = b.AddTensor("w", TensorTypes.Of(ElementType.Int8), [outputs, filterH, filterW, channels], Int8s(weights), scales, new long[outputs], 0);
        int c = b.AddTensor("b", TensorTypes.Of(ElementType.Int32), [outputs], Int32s(bias), scales.Select(s => s * inScale).ToArray(), new long[outputs], 0);
        int zero = r.Next(-128, 128);
        int y = b.AddTensor("y", ElementType.Int8, [input[0], Out(input[1], filterH), Out(input[2], filterW), outputs], quantization: (outScale, zero));
        b.Inputs.Add(x);
        b.AddOperator(Builtin.Conv2D, [x, w, c], [y], Options.Conv2D(padding, stride, stride, activation));
        if (room == 0)
        {
            b.Outputs.Add(y);
            if (a < 0) return b;
            int twice = b.AddTensor("a2", ElementType.Int8, [1, 1, 1, misalign], quantization: (2 * inScale, 0));
            b.AddOperator(Builtin.Add, [a, a], [twice], Options.Add());
            b.Outputs.Add(twice);
            return b;
        }

        // Room beside the layer in the workspace (the compact layout widens blocks of filter rows there): y concatenated
        // `room` times, live one step later, then added to itself (twice y's scale: every value of y, unsaturated).
        int[] wide = [input[0], Out(input[1], filterH), Out(input[2], filterW), outputs * room];
        int z = b.AddTensor("z", ElementType.Int8, wide, quantization: (outScale, zero));
        b.AddOperator(Builtin.Concatenation, Enumerable.Repeat(y, room).ToArray(), [z], Options.Concatenation(3));
        int sum = b.AddTensor("sum", ElementType.Int8, wide, quantization: (2 * outScale, zero));
        b.AddOperator(Builtin.Add, [z, z], [sum], Options.Add());
        b.Outputs.Add(sum);
        return b;
    }
}
