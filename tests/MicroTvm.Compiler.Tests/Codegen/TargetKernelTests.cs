using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The target-specific kernels (Cortex-M DSP: SMLAD/SXTB16 matrix product for CONV_2D and FULLY_CONNECTED, SMLABB/
/// SMLATT depthwise) run on the host through the portable emulation of the intrinsics the generated source carries
/// (no __ARM_FEATURE_DSP on the host): the same kernel logic, built with ASan/UBSan, compared bit for bit with the
/// reference evaluator on seeded random operators and with TensorFlow Lite Micro on every shared model (outputs and
/// every intermediate). The same sources run in QEMU on each board in MicroTvm.Sdk.Tests.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class TargetKernelTests
{
    /// <summary>Every model for the Cortex-M7 (DSP kernels) and the Cortex-M55 (Helium kernels).</summary>
    public static IEnumerable<object[]> Models() =>
        TestModels.All().SelectMany(m => new[] { new[] { m[0], "cortex-m7" }, new[] { m[0], "cortex-m55" } });

    [Theory]
    [MemberData(nameof(Models))]
    public void TargetKernelsMatchTfliteMicroOnHost(string modelName, string target)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        var model = ModelCompiler.Compile(graph, new CompileOptions(target, modelName));
        var folder = TestModels.Folder(modelName);
        ModelHarness.RunOnStoredInputs(modelName, graph, model, $"target-model-{target}-{modelName}", CompareIntegerIntermediates);

        void CompareIntegerIntermediates(string traceDir)
        {
            var stored = File.ReadAllLines(Path.Combine(folder, "intermediates0", "index.csv")).Skip(1)
                .Select(line => int.Parse(line.Split(',')[0], CultureInfo.InvariantCulture)).ToHashSet();
            foreach (var node in graph.Nodes)
                foreach (var tensor in node.Outputs.Where(t => stored.Contains(t.Id) && t.Type != ElementType.Float32))
                {
                    var expected = File.ReadAllBytes(Path.Combine(folder, "intermediates0", $"t{tensor.Id}.bin"));
                    string? difference = WholeModelTests.Difference(tensor, expected, File.ReadAllBytes(Path.Combine(traceDir, $"t{tensor.Id}.bin")), false);
                    Assert.True(difference is null, $"first differing operator: {node.Index} ({node.Kind.Name}) output t{tensor.Id}: {difference}");
                }
        }
    }

    [Theory]
    [InlineData("cortex-m7", "mtvm_smla")]
    [InlineData("cortex-m55", "mtvm_v_requantize")]
    public void TargetKernelsMatchTheReferenceEvaluatorOnRandomOperators(string target, string marker)
    {
        var random = new Random(66);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 14; i++) cases.Add(Convolution(random, depthwise: false));
        for (int i = 0; i < 14; i++) cases.Add(Convolution(random, depthwise: true));
        for (int i = 0; i < 10; i++) cases.Add(FullyConnected(random));
        for (int i = 0; i < 6; i++) cases.Add(Convolution(random, depthwise: true, oneChannel: true));
        var generic = new RandomGraphs(67);
        for (int i = 0; i < 6; i++) cases.Add(generic.Convolution(ElementType.Int8, depthwise: i % 2 == 0));
        Check(target, marker, cases, expectDsp: target == "cortex-m7" ? 36 : 40);
    }

    /// <summary>The DSP LSTM (SMLAD dot products of widened input and hidden rows with int16 weights, zero-padded where a
    /// size is not a multiple of 4; SMMULR requantization) against the evaluator, on the Cortex-M7's code through the
    /// portable intrinsics.</summary>
    [Fact]
    public void DspLstmMatchesTheReferenceEvaluator()
    {
        var generic = new RandomGraphs(69);
        var cases = Enumerable.Range(0, 12).Select(i => generic.Lstm(ElementType.Int8, timeMajor: i % 2 == 1)).ToList();
        Check("cortex-m7", "mtvm_smlad", cases, expectDsp: cases.Count);
    }

    /// <summary>The Helium kernels take any channel count (groups of 8 depthwise channels and blocks of 4 output
    /// channels with predicated tails, 16-byte steps with a predicated tail); power-of-two scales make the
    /// requantization land exactly on rounding ties (and shift left as well as right). Rows of more than 32 steps
    /// (512 bytes) take the matrix product's loop over groups of 8 steps, with and without a tail.</summary>
    [Fact]
    public void HeliumKernelsMatchTheReferenceEvaluatorOnAnyChannelCountAndRoundingTies()
    {
        var random = new Random(68);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 12; i++) cases.Add(Convolution(random, depthwise: i % 2 == 0, anyChannels: true, ties: i % 3 == 0));
        for (int i = 0; i < 4; i++) cases.Add(FullyConnected(random, ties: true));
        for (int i = 0; i < 4; i++) cases.Add(Convolution(random, depthwise: false, ties: true));
        foreach (int depth in new[] { 513, 640, 1000, 1031 }) cases.Add(FullyConnected(random, depthGiven: depth));
        Check("cortex-m55", "mtvm_v_requantize", cases, expectDsp: 24);
    }

    /// <summary>The Helium matrix product's asm statement over all blocks (MTVM_VB2_RUN / MTVM_VB1_RUN: weights, bias
    /// and requantization constants from one stream) where the channels fill blocks of 4: pointwise, 1x1 to 4x4 filters,
    /// strides 1 and 2, both paddings, input channel counts that are not multiples of 4 or 16 (tails), rows read in
    /// place or gathered, columns longer than 8 steps, FULLY_CONNECTED with 2 to 3 batches, one-channel depthwise
    /// with 4 or 8 outputs, power-of-two scales (ties, left shifts, shifts of 0 beside right shifts), every clamp.</summary>
    [Fact]
    public void HeliumStreamedMatrixProductMatchesTheReferenceEvaluator()
    {
        var random = new Random(1201);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 24; i++)
            cases.Add(Convolution(random, depthwise: false, anyChannels: true, ties: i % 3 == 0, outputScale: new[] { 1, 40, 1 }[i % 3], outputs: 4 * Next(random, 1, 6)));
        for (int i = 0; i < 4; i++) cases.Add(Convolution(random, depthwise: false, channels: new[] { 48, 64, 100, 130 }[i], outputs: 8));
        for (int i = 0; i < 6; i++) cases.Add(FullyConnectedBatches(random, ties: i % 2 == 0, depth: new[] { 16, 45, 129, 300, 1000, 7 }[i]));
        for (int i = 0; i < 4; i++) cases.Add(Convolution(random, depthwise: true, oneChannel: true, depthMultiplier: 4 * (1 + i % 2)));
        // Blocks in pairs over columns of 2, 4, 6 or 8 whole steps: read by VLDM, forward then backward (3 batches: an odd column).
        for (int i = 0; i < 4; i++) cases.Add(FullyConnectedBatches(random, ties: i % 2 == 1, depth: 32 * (i + 1), outputsMultiple: 8, batches: 2 + i % 2));
        var used = Check("cortex-m55", "_stream, ", cases);
        Assert.True(used.Count(u => u) >= 30, $"only {used.Count(u => u)} of {cases.Count} cases ran the block loop");
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m55", $"case{i}"))).Select(m => m.Files[m.SourceFile])
            .Select(s => string.Join("\n", s.Split('\n').Where(l => l.TrimStart().StartsWith("MTVM_VB", StringComparison.Ordinal) && l.Contains("_stream, ", StringComparison.Ordinal)))).ToList();
        foreach (var marker in new[] { "MTVM_VB2_RUN_N(", "MTVM_VB1_RUN", "_ADV(", "_BACK(", "_LEFT(", "_RIGHT(", "_RIGHT_MIXED(", "MTVM_VB_REC2 ", "MTVM_VB_REC5 ", "_STORE_SAT)", "_STORE)", "_U(", "MTVM_VB2_RUN(col[0], col[1]", "_PAF(", "MTVM_VB1_PDF(" })
            Assert.True(sources.Count(s => s.Contains(marker, StringComparison.Ordinal) && s.Contains("_stream, ", StringComparison.Ordinal)) >= 1, $"no case used {marker}");
        // Columns read by VLDM need a word-aligned input; the same cases again as if none were (malloc gives no address
        // that is 3 modulo 4): the loads by step, the second block of each pass in the stream's backward order.
        const string aligned = "& 3u) == 0u)";
        Assert.Contains(sources, s => s.Contains("_PDF(", StringComparison.Ordinal));
        Check("cortex-m55", "_stream, ", cases, patch: source => source.Replace(aligned, "& 3u) == 3u)", StringComparison.Ordinal));
    }

    private static RandomGraphs.Case FullyConnectedBatches(Random r, bool ties, int depth, int outputsMultiple = 4, int batches = 2)
    {
        RandomGraphs.Case c;
        do c = FullyConnected(r, ties, depthGiven: depth);
        while (c.Graph.Nodes[0].Output.Shape[0] < batches || c.Graph.Nodes[0].Output.Shape[1] % outputsMultiple != 0);
        return c;
    }

    /// <summary>The DSP FULLY_CONNECTED over input rows of more than 1,024 values, taken in chunks of 512 (partial sums
    /// in the scratch): rows that are whole chunks, a last partial chunk, a depth that is no multiple of 4 (the last
    /// chunk padded), one to three batches, widened and int8 (size layout) weights. Bit for bit against the evaluator,
    /// and the scratch stays below the widened row's 2 bytes per value.</summary>
    [Fact]
    public void DspFullyConnectedTakesLongRowsInChunks()
    {
        var random = new Random(2011);
        var depths = new[] { 1025, 1031, 1536, 2048, 4000, 1300 };
        var cases = depths.Concat(depths).Select(d => FullyConnected(random, depthGiven: d)).ToList();
        CompileOptions Options(int i, string name) =>
            new("cortex-m7", name, WeightLayout: i < depths.Length ? MicroTvm.Compiler.Tuning.WeightLayout.Speed : MicroTvm.Compiler.Tuning.WeightLayout.Size);
        var used = Check("cortex-m7", "the rows' partial sums", cases, Options);
        Assert.All(used, Assert.True);
        for (int i = 0; i < cases.Count; i++)
        {
            var model = ModelCompiler.Compile(cases[i].Graph, Options(i, $"case{i}"));
            int workspace = int.Parse(Regex.Match(model.Files[model.HeaderFile], @"_WORKSPACE_SIZE (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            int depth = cases[i].Graph.Nodes[0].Input(0).Shape[^1];
            Assert.True(workspace < 2 * depth, $"case {i} (depth {depth}): workspace {workspace} B");
        }
    }

    /// <summary>The Helium depthwise kernel with output pixels in the lanes (HeliumPlaneDepthwiseKernel): depth
    /// multipliers 1, 2 and 4 and one input channel times 2 to 9, strides 1 and 2 (phases of the plane), filters 1x1 to
    /// 4x4, SAME and VALID padding, channel counts that are not multiples of 4 or 16, rows up to 13 pixels (a
    /// predicated last strip, blocks of 4 or 5 outputs and a rest), every clamp and power-of-two scales (rounding
    /// ties, left shifts).</summary>
    [Fact]
    public void HeliumPlaneDepthwiseMatchesTheReferenceEvaluatorOnMultipliersStridesAndPaddings()
    {
        var random = new Random(1160);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 24; i++)
            cases.Add(Convolution(random, depthwise: true, anyChannels: true, ties: i % 4 == 3, depthMultiplier: new[] { 1, 2, 4 }[i % 3], maxWidth: 13, outputScale: new[] { 1, 40 }[i % 2]));
        for (int i = 0; i < 6; i++) cases.Add(Convolution(random, depthwise: true, oneChannel: true, maxWidth: 13));
        var used = Check("cortex-m55", "mtvm_dw_requantize(", cases);
        Assert.True(used.Count(u => u) >= 16, $"only {used.Count(u => u)} of {cases.Count} cases used the plane kernel");
        Assert.Contains(cases.Where((c, i) => used[i]), c => c.Graph.Nodes[0].AttributesAs<DepthwiseConv2DAttributes>() is { DepthMultiplier: > 1, StrideH: 2 } or { DepthMultiplier: > 1, StrideW: 2 });
    }

    /// <summary>The plane depthwise kernel writing its output over its input (depth multiplier 1, output of the input's
    /// shape): chains of three SAME, stride-1 DEPTHWISE_CONV_2D layers whose middle one reads and writes workspace
    /// tensors, so the planner gives its output the input's bytes; random heights, widths (lanes over rows or columns,
    /// the last strip across), channel counts (not multiples of 4 or 16), filters 1x1 to 4x4, one or two images.</summary>
    [Fact]
    public void HeliumPlaneDepthwiseWritesOverItsInput()
    {
        var random = new Random(1260);
        var cases = new List<RandomGraphs.Case>();
        while (cases.Count < 16)
        {
            var chain = DepthwiseChain(random);
            var model = ModelCompiler.Compile(chain.Graph, new CompileOptions("cortex-m55", "chain"));
            var middle = chain.Graph.Nodes[1];
            string source = model.Files[model.SourceFile];
            int op1 = source.IndexOf(" op1_depthwise_conv_2d(", StringComparison.Ordinal), op2 = source.IndexOf(" op2_depthwise_conv_2d(", StringComparison.Ordinal);
            bool plane = source[op1..op2].Contains("int8_t* const plane", StringComparison.Ordinal);
            if (!plane) continue; // too narrow for four lanes: the channel-vectorized kernel, which never writes over its input
            var placed = model.Metadata.MemoryPlan.Single(t => t.Tensor == middle.Output.Id);
            Assert.Contains(middle.Input(0).Id, placed.SharesWith ?? []);
            cases.Add(chain);
        }

        Check("cortex-m55", "mtvm_dw_requantize(", cases);
    }

    /// <summary>The Helium window depthwise kernel (HeliumWindowDepthwiseKernel: one VMLADAV.S8 per output over 16 bytes
    /// of a zero-point-padded plane): SAME (a gap of the zero point between rows: copies scattered across rows) and
    /// VALID (rows back to back: contiguous copies), windows of 15 bytes or less (two outputs per load) and of exactly
    /// 16 (one), output counts that are multiples of 8 or not (a last group overlapping the one before), loops over
    /// periods of rows or none, one or two images, channel counts to 40, every clamp, per-channel and per-tensor scales.</summary>
    [Fact]
    public void HeliumWindowDepthwiseMatchesTheReferenceEvaluator()
    {
        var random = new Random(1360);
        var shapes = new (int H, int W, int Fh, int Fw, Padding Padding)[]
        {
            (25, 5, 3, 3, Padding.Same), (7, 4, 3, 3, Padding.Same), (6, 6, 3, 3, Padding.Valid), (5, 4, 3, 4, Padding.Same),
            (9, 12, 1, 3, Padding.Same), (4, 7, 2, 2, Padding.Valid), (2, 4, 2, 3, Padding.Same), (10, 3, 4, 3, Padding.Same),
            (8, 5, 3, 1, Padding.Valid), (3, 8, 2, 5, Padding.Same),
        };
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 2 * shapes.Length; i++)
        {
            var (h, w, fh, fw, padding) = shapes[i % shapes.Length];
            int n = Next(random, 1, 2), c = Next(random, 1, 40);
            var b = new GraphBuilder();
            float scale = Scale(random, 0.005, 0.1);
            var x = b.Input(ElementType.Int8, new[] { n, h, w, c }, Q(scale, Next(random, -128, 127)));
            var (filter, bias, outQ) = Layer(random, b, new[] { 1, fh, fw, c }, c, fh * fw, 3, scale, ties: i % 5 == 4);
            int oh = ConvGeometry.OutputSize(padding, h, fh, 1, 1), ow = ConvGeometry.OutputSize(padding, w, fw, 1, 1);
            var y = b.Tensor(ElementType.Int8, new[] { n, oh, ow, c }, outQ);
            b.Op(OpKind.DepthwiseConv2D, new DepthwiseConv2DAttributes(padding, 1, 1, 1, 1, 1, Activation(random)), new[] { x, filter, bias }, y);
            cases.Add(Make(random, $"DEPTHWISE_CONV_2D [{n},{h},{w},{c}] {fh}x{fw} {padding}", b, y));
        }

        var used = Check("cortex-m55", "mtvm_dw_dot16(x0, w0)", cases);
        // a power-of-two scale may give a shift no Helium kernel takes (the portable kernel then runs)
        Assert.True(used.Count(u => u) >= cases.Count - 2, $"only {used.Count(u => u)} of {cases.Count} cases used the window kernel");
    }

    /// <summary>Three DEPTHWISE_CONV_2D layers (depth multiplier 1, stride 1, SAME), each reading the one before.</summary>
    private static RandomGraphs.Case DepthwiseChain(Random r)
    {
        int n = Next(r, 1, 2), h = Next(r, 1, 9), w = Next(r, 1, 13), c = Next(r, 2, 40);
        var b = new GraphBuilder();
        float scale = Scale(r, 0.005, 0.1);
        var x = b.Input(ElementType.Int8, new[] { n, h, w, c }, Q(scale, Next(r, -128, 127)));
        for (int layer = 0; layer < 3; layer++)
        {
            int fh = Next(r, 1, 4), fw = Next(r, 1, 4);
            var (filter, bias, outQ) = Layer(r, b, new[] { 1, fh, fw, c }, c, fh * fw, 3, scale);
            var y = b.Tensor(ElementType.Int8, new[] { n, h, w, c }, outQ);
            b.Op(OpKind.DepthwiseConv2D, new DepthwiseConv2DAttributes(Padding.Same, 1, 1, 1, 1, 1, Activation(r)), new[] { x, filter, bias }, y);
            (x, scale) = (y, outQ.Scales[0]);
        }

        return Make(r, $"3 x DEPTHWISE_CONV_2D [{n},{h},{w},{c}] SAME stride 1", b, x);
    }

    /// <summary>The DSP kernels' paths that depend on the requantization parameters and shapes: the SMMLAR
    /// requantization (ReLU, full range and other clamps; per tensor and per channel; left shifts), odd pixel and
    /// channel counts, padding on every side, strides; each case in a small random graph.</summary>
    [Fact]
    public void DspPathsMatchTheReferenceEvaluatorOnRandomOperators()
    {
        var random = new Random(606);
        var cases = new List<RandomGraphs.Case>();
        // Some cases with coarse output scales: RELU6 and RELU_N1_TO_1 then clamp inside the int8 range.
        for (int i = 0; i < 24; i++) cases.Add(Convolution(random, depthwise: false, outputScale: new[] { 1, 40, 1, 1000 }[i % 4]));
        for (int i = 0; i < 24; i++) cases.Add(Convolution(random, depthwise: true, outputScale: new[] { 1, 40, 1, 1000 }[i % 4]));
        for (int i = 0; i < 8; i++) cases.Add(FullyConnected(random));
        // Up to 23 output channels: odd counts end with a pair whose second row is not stored.
        for (int i = 0; i < 8; i++) cases.Add(Convolution(random, depthwise: false, anyChannels: true));
        Check("cortex-m7", "mtvm_smla", cases, expectDsp: 56);
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m7", $"case{i}")))
            .Select(m => m.Files[m.SourceFile]).ToList();
        foreach (var (path, expected) in new[]
        {
            ("(mtvm_smmlar(", 40), ("mtvm_usat8(mtvm_smmlar", 5), ("(int8_t)mtvm_ssat8(mtvm_smmlar", 5), ("mtvm_clamp((mtvm_smmlar", 5),
            ("w = mtvm_gemm16_pair(col, w, ", 20), ("mtvm_smmlar(a[0], w[0], w[1]) >> w[2])", 5), ("a0 = bias; a1 = bias;", 5),
        })
        {
            int count = sources.Count(s => s.Contains(path, StringComparison.Ordinal));
            Assert.True(count >= expected, $"only {count} of {cases.Count} cases used {path}");
        }
    }

    /// <summary>The DSP depthwise kernel (SMLAD over pairs of adjacent taps from the widened row ring) on what it must
    /// take as well as KWS's layers: 4 to 68 channels, depth multipliers 1 to 3, strides 1 and 2, filters 1x1 to
    /// 5x5, rows up to 13 pixels (blocks of 8, 4 and 2 and a last pixel) and up to 80 (ring rows beyond LDRD's reach from
    /// one pointer), padding on every side, every pixel-block schedule.</summary>
    [Fact]
    public void DspDepthwiseMatchesTheReferenceEvaluatorOnStridesMultipliersAndWidths()
    {
        var random = new Random(616);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 24; i++) cases.Add(Convolution(random, depthwise: true, depthMultiplier: 1 + i % 3, maxWidth: 13, outputScale: new[] { 1, 40 }[i % 2]));
        // Two with 64 channels, two with 8; two of them with rows of 64 pixels or more and 3 filter rows or more (the third
        // filter row is then beyond LDRD's reach from the rows' pointer).
        for (int i = 0; i < 4; i++)
        {
            var wide = Convolution(random, depthwise: true, depthMultiplier: 1 + i % 2, maxWidth: i % 2 == 0 ? 80 : 13, channels: i < 2 ? 64 : 8);
            var shapes = (Input: wide.Graph.Nodes[0].Input(0).Shape, Filter: wide.Graph.Nodes[0].Input(1).Shape);
            if (i % 2 == 0 && (shapes.Input[2] < 64 || shapes.Filter[1] < 3)) i--;
            else cases.Add(wide);
        }

        // Filters up to 5 wide (each filter row's words shared by both window parities: SMLATB/SMLABT for the taps a
        // pair leaves over) and channel counts up to 68.
        // The first three 5 wide with stride 1 and odd-start pixels.
        for (int i = 0; i < 8; i++)
        {
            var c = Convolution(random, depthwise: true, depthMultiplier: 1 + i % 2, maxWidth: 13, channels: 4 * Next(random, 1, 17), maxFilter: 5);
            var node = c.Graph.Nodes[0];
            if (i < 3 && (node.Input(1).Shape[2] != 5 || node.AttributesAs<DepthwiseConv2DAttributes>().StrideW != 1 || node.Output.Shape[2] < 3)) i--;
            else cases.Add(c);
        }

        // Every fourth case with blocks of 2 pixels and every fourth with blocks of 4, where the row is long enough to have the knob.
        var tasks = cases.Select(c => Assert.Single(MicroTvm.Compiler.Tuning.TuningTasks.Of(c.Graph, "cortex-m7"))).ToList();
        string? Pixels(int i) => (i % 4) switch { 3 => "pixels=2", 1 => "pixels=4", _ => null };
        var schedules = tasks.Select((t, i) => t.Schedules.FirstOrDefault(s => Pixels(i) is { } p && s.ToString().Contains(p, StringComparison.Ordinal)) ?? t.Default).ToList();
        Assert.Contains(schedules, s => s.ToString().Contains("pixels=2", StringComparison.Ordinal));
        Assert.Contains(schedules, s => s.ToString().Contains("pixels=4", StringComparison.Ordinal));

        var used = Check("cortex-m7", "ring[i] =", cases, (i, name) => tasks[i].Options("cortex-m7", name, schedules[i]));
        Assert.All(used, Assert.True);
        // Both new forms ran on some cases: one right shift for every channel (SMMLA), and pixels that skip padding columns.
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, tasks[i].Options("cortex-m7", $"case{i}", schedules[i]))).Select(m => m.Files[m.SourceFile]).ToList();
        int uniform = sources.Count(s => s.Contains("mtvm_smmla(", StringComparison.Ordinal)), border = sources.Count(s => s.Contains("/* a border bias */", StringComparison.Ordinal));
        Assert.True(uniform >= 4 && border >= 2, $"{uniform} cases with one right shift for all channels, {border} with border biases");
        var far = ModelCompiler.Compile(cases[24].Graph, new CompileOptions("cortex-m7", "far"));
        Assert.Contains("const int32_t* const p = ", far.Files[far.SourceFile], StringComparison.Ordinal);
    }

    /// <summary>The DSP FULLY_CONNECTED kernel (blocks of four weight rows sharing each widened input word) on both
    /// weight layouts and both requantizations: unit counts that are and are not multiples of 4 (a padded last block),
    /// depths that are not multiples of 4 (a zero-padded input row), 1 to 3 batches, per-tensor and per-channel
    /// weights, with and without bias.</summary>
    [Fact]
    public void DspFullyConnectedMatchesTheReferenceEvaluatorOnBothLayouts()
    {
        var random = new Random(626);
        var cases = Enumerable.Range(0, 24).Select(_ => FullyConnected(random)).ToList();
        var tasks = cases.Select(c => Assert.Single(MicroTvm.Compiler.Tuning.TuningTasks.Of(c.Graph, "cortex-m7"))).ToList();
        var schedules = tasks.Select((t, i) => t.Schedules.Single(s =>
            s.ToString() == $"dsp-fully-connected layout={(i % 2 == 0 ? "int16" : "int8")} requantization={(i % 3 == 2 ? "general" : "fast")}")).ToList();
        var used = Check("cortex-m7", "mtvm_fc", cases, (i, name) => tasks[i].Options("cortex-m7", name, schedules[i]));
        Assert.All(used, Assert.True);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Output.Shape[1] % 4 != 0);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Input(1).Shape[1] % 4 != 0);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Bias is null);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Input(1).Quantization!.IsPerChannel);
    }

    /// <summary>The DSP CONV_2D's compact int8 layout (<c>layout=int8</c>, Dsp/DspCompactGemm.cs): pairs of channels
    /// sharing int16 words <c>w0 + 256 * w1</c> (mtvm_gemm8_rows) on 1x1, 3x3 and other filters, strides, SAME/VALID,
    /// odd channel counts (a last pair of one), 3-channel first layers (packed rows), more than 16 output channels (chunks),
    /// both requantizations; and layers whose pairs do not fit (a weight of -128 beside a negative one), which keep
    /// plain int8 rows unpacked by SXTB16. Bit for bit against the evaluator.</summary>
    [Fact]
    public void DspCompactGemmMatchesTheReferenceEvaluator()
    {
        var random = new Random(1140);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 16; i++) cases.Add(Convolution(random, depthwise: false, outputScale: new[] { 1, 40 }[i % 2]));
        for (int i = 0; i < 4; i++) cases.Add(Convolution(random, depthwise: false, channels: 3));
        for (int i = 0; i < 6; i++) cases.Add(Convolution(random, depthwise: false, anyChannels: true));
        // Two layers whose first pair cannot share words: w1 = -128 beside a negative w0 makes w0 + 256 * w1 no int16.
        for (int i = 0; i < 2; i++)
        {
            var unfit = Convolution(random, depthwise: false, anyChannels: true);
            var filter = unfit.Graph.Nodes[0].Input(1);
            if (filter.Shape[0] < 2) { i--; continue; }
            int row = filter.Shape[1] * filter.Shape[2] * filter.Shape[3];
            filter.Data![0] = unchecked((byte)-5);
            filter.Data[row] = 0x80;
            cases.Add(unfit with { Description = unfit.Description + " (w1 = -128 beside w0 = -5)" });
        }

        var tasks = cases.Select(c => Assert.Single(MicroTvm.Compiler.Tuning.TuningTasks.Of(c.Graph, "cortex-m7"))).ToList();
        var schedules = tasks.Select((t, i) => t.Schedules.Single(s =>
            s.ToString() == $"dsp-gemm layout=int8 requantization={(i % 3 == 2 ? "general" : "fast")}")).ToList();
        CompileOptions Options(int i, string name) => tasks[i].Options("cortex-m7", name, schedules[i]);
        Check("cortex-m7", "mtvm_gemm8_pair(col", cases, Options);
        // The fast requantization: the per-layer assembly (DspGemmRows) with shifts for all channels and per channel; the
        // general one: mtvm_gemm8_rows, then C.
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, Options(i, $"case{i}"))).Select(m => m.Files[m.SourceFile]).ToList();
        var paired = sources.Select(s => s.Contains("mtvm_gemm8_rows(col", StringComparison.Ordinal) || s.Contains("mtvm_gemm8_pair(col", StringComparison.Ordinal)).ToList();
        Assert.All(paired.Take(cases.Count - 2), Assert.True);
        Assert.All(paired.Skip(cases.Count - 2), Assert.False);
        var rows = sources.Select(s => s.Contains("w = mtvm_gemm8_pair(col, w, ", StringComparison.Ordinal)).ToList();
        Assert.All(Enumerable.Range(0, cases.Count - 2).Where(i => i % 3 == 2), i => Assert.Contains("mtvm_gemm8_rows(col", sources[i], StringComparison.Ordinal));
        Assert.True(rows.Count(r => r) >= 12, $"only {rows.Count(r => r)} of {cases.Count} cases took the per-layer assembly");
        Assert.Contains(sources, s => s.Contains("a[2] = mtvm_gemm8_high(a[2], a[0], w[", StringComparison.Ordinal));
        Assert.Contains(sources, s => s.Contains("a[2] = mtvm_gemm8_high(a[2], a[0], 7)", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.Graph.Nodes[0].Output.Shape[3] > 16 && c.Graph.Nodes[0].Output.Shape[3] % 2 == 1);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Input(1).Shape[1] == 1 && c.Graph.Nodes[0].Input(1).Shape[2] == 1);
    }

    /// <summary>The DSP CONV_2D writing its output over its input (a 1x1 filter, output of the input's shape): chains of
    /// three SAME, stride-1 CONV_2D layers of C channels whose middle one reads and writes workspace tensors, mostly 1x1
    /// (the planner gives its output the input's bytes) and some 3x3 (it must not); random images (one or two), heights,
    /// widths (odd pixel counts), channel counts (not multiples of 4: padded rows); the widened and compact layouts, the
    /// per-layer assembly and mtvm_gemm16_rows/mtvm_gemm8_rows (the general requantization).</summary>
    [Fact]
    public void DspPointwiseWritesOverItsInput()
    {
        var random = new Random(1270);
        var cases = Enumerable.Range(0, 20).Select(i => ConvolutionChain(random, filter: i % 5 == 4 ? 3 : 1)).ToList();
        string[] schedules = ["", "dsp-gemm layout=int8 requantization=fast", "dsp-gemm layout=int16 requantization=general", "dsp-gemm layout=int8 requantization=general"];
        CompileOptions Options(int i, string name)
        {
            string schedule = schedules[i % 4];
            if (schedule == "") return new CompileOptions("cortex-m7", name);
            var entries = MicroTvm.Compiler.Tuning.TuningTasks.Of(cases[i].Graph, "cortex-m7")
                .Select(t => new MicroTvm.Compiler.Tuning.TuningEntry(t.Signature, t.Schedules.Single(s => s.ToString() == schedule)));
            return new CompileOptions("cortex-m7", name, Tuning: new MicroTvm.Compiler.Tuning.TuningLog(entries.ToArray()));
        }

        var used = Check("cortex-m7", "mtvm_widen", cases, Options);
        Assert.All(used, Assert.True);
        for (int i = 0; i < cases.Count; i++)
        {
            var middle = cases[i].Graph.Nodes[1];
            var model = ModelCompiler.Compile(cases[i].Graph, Options(i, "chain"));
            var placed = model.Metadata.MemoryPlan.Single(t => t.Tensor == middle.Output.Id);
            Assert.Equal(middle.Input(1).Shape[1] == 1, (placed.SharesWith ?? []).Contains(middle.Input(0).Id));
        }
    }

    /// <summary>An in-place 1x1 layer in the compact layout widens its filter rows in one block or not at all
    /// (WidenedBlocks' one-block limit): a second block would gather pixels whose outputs the first block already
    /// wrote over them. Chains of three 1x1 CONV_2D of C to C channels (the second and third write over their inputs)
    /// with room beside them for 55 % to 90 % of the widened rows (several blocks would fit, one does not), or 105 %
    /// (one fits). Bit for bit against the evaluator.</summary>
    [Fact]
    public void DspInPlacePointwiseWidensOneBlockOnly()
    {
        var random = new Random(1350);
        var cases = Enumerable.Range(0, 16).Select(i => ConvolutionChain(random, filter: 1, widening: i < 12 ? 0.55 + 0.03 * i : 1.05)).ToList();
        var options = new CompileOptions("cortex-m7", "c", WeightLayout: MicroTvm.Compiler.Tuning.WeightLayout.Size);
        var used = Check("cortex-m7", "mtvm_gemm8_widen(op", cases, (i, name) => options with { Name = name });
        Assert.Contains(used, u => u);
        int roomForSeveral = 0;
        foreach (var c in cases)
        {
            var model = ModelCompiler.Compile(c.Graph, options);
            var kernels = KernelSelection.Choose(c.Graph, Targets.Find("cortex-m7"), layout: MicroTvm.Compiler.Tuning.WeightLayout.Size);
            foreach (int step in new[] { 1, 2 })
            {
                var layer = c.Graph.Nodes[step];
                Assert.Contains(layer.Input(0).Id, model.Metadata.MemoryPlan.Single(t => t.Tensor == layer.Output.Id).SharesWith ?? []);
                if (kernels[layer].ScratchWishes(layer) is not [long one, ..]) continue; // no fast requantization
                // The workspace beside the layer's one activation; the scratch of all pairs widened, and of half of them.
                long room = model.Metadata.WorkspaceBytes - layer.Output.ByteSize, least = kernels[layer].ScratchBytes(layer);
                int pairs = layer.Output.Shape[3] / 2;
                long two = least + (pairs + 1) / 2 * ((one - least) / pairs);
                if (two <= room && one > room) roomForSeveral++;
                Assert.Equal(one <= room ? one : least, model.Metadata.Operators[step].ScratchBytes);
            }
        }

        Assert.True(roomForSeveral >= 8, $"only {roomForSeveral} in-place layers with room for several blocks and not for one");
    }

    /// <summary>Three CONV_2D layers (SAME, stride 1, C to C channels, <paramref name="filter"/> square), each reading the one
    /// before; or (<paramref name="widening"/>) one image of 16 to 24 pixels, C = 16, 24, 32 or 40 and room beside the
    /// layers for that fraction of the scratch widening all filter rows (<see cref="Room"/>).</summary>
    private static RandomGraphs.Case ConvolutionChain(Random r, int filter, double widening = 0)
    {
        int n = Next(r, 1, 2), h = Next(r, 1, 9), w = Next(r, 1, 13), c = r.Next(2) == 0 ? 4 * Next(r, 1, 10) : Next(r, 2, 40);
        if (widening > 0) (n, h, w, c) = (1, 4, Next(r, 4, 6), 8 * Next(r, 2, 5));
        var b = new GraphBuilder();
        float scale = Scale(r, 0.005, 0.1);
        var x = b.Input(ElementType.Int8, new[] { n, h, w, c }, Q(scale, Next(r, -128, 127)));
        for (int layer = 0; layer < 3; layer++)
        {
            var (weights, bias, outQ) = Layer(r, b, new[] { c, filter, filter, c }, c, filter * filter * c, 0, scale);
            var y = b.Tensor(ElementType.Int8, new[] { n, h, w, c }, outQ);
            b.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Same, 1, 1, 1, 1, Activation(r)), new[] { x, weights, bias }, y);
            (x, scale) = (y, outQ.Scales[0]);
        }

        string also = "";
        // The widened rows of all pairs: per pair 4 bias words, 2 words per 4 values, up to 8 words of operands and shifts.
        if (widening > 0) (x, also) = Room(b, x, widening * 4 * (c / 2) * (12 + c));
        return Make(r, $"3 x CONV_2D [{n},{h},{w},{c}] {filter}x{filter} SAME stride 1{also}", b, x);
    }

    /// <summary>The DSP CONV_2D's scratch holds what its path uses: KWS's pointwise layer (64 to 64 channels) needs two
    /// pixels' columns of 64 int16 (256 B) in the per-layer assembly, which keeps its sums in registers (widened and
    /// compact layouts); mtvm_gemm16_rows and mtvm_gemm8_rows (the general requantization) also keep one chunk of 16
    /// channels' sums for both pixels (128 B).</summary>
    [Fact]
    public void DspGemmScratchHoldsWhatItsPathUses()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("kws_dscnn"));
        var task = MicroTvm.Compiler.Tuning.TuningTasks.Of(graph, "cortex-m7")
            .Single(t => t.Operator.Nodes[0] is var n && n.Kind == OpKind.Conv2D && n.Input(1).Shape[1] == 1 && n.Input(1).Shape[2] == 1);
        long Scratch(string schedule)
        {
            var model = ModelCompiler.Compile(task.Operator, task.Options("cortex-m7", "pw", task.Schedules.Single(s => s.ToString() == schedule)));
            return Assert.Single(model.Metadata.Operators).ScratchBytes ?? 0;
        }

        Assert.Equal(256, Scratch("dsp-gemm layout=int16 requantization=fast"));
        Assert.Equal(256, Scratch("dsp-gemm layout=int8 requantization=fast"));
        Assert.Equal(384, Scratch("dsp-gemm layout=int16 requantization=general"));
        Assert.Equal(384, Scratch("dsp-gemm layout=int8 requantization=general"));
    }

    /// <summary>Compact filters widened a block of channel pairs at a time into scratch the plan grants without raising
    /// the workspace (WidenedBlocks): random layers with even channel counts and at least 16 pixels, the workspace's room
    /// beside them enough for every pair, for half or for a quarter (several blocks), per-channel and uniform shifts.
    /// Bit for bit against the evaluator (the portable form of the steps, the widening and the shifts); the workspace
    /// equals the plan without the wish.</summary>
    [Fact]
    public void DspCompactGemmWidensBlocksInTheWorkspacesRoom()
    {
        var random = new Random(1230);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 18; i++)
            cases.Add(Convolution(random, depthwise: false, anyChannels: i % 2 == 0, outputs: 2 * Next(random, 1, 12), minPixels: 16,
                outputScale: new[] { 1, 40 }[i % 2], room: new[] { 1.0, 0.5, 0.25 }[i / 2 % 3]));
        var options = cases.Select(c => new CompileOptions("cortex-m7", "c", WeightLayout: MicroTvm.Compiler.Tuning.WeightLayout.Size)).ToList();
        var used = Check("cortex-m7", "mtvm_gemm8_widen(op", cases, (i, name) => options[i] with { Name = name });
        Assert.True(used.Count(u => u) >= 12, $"only {used.Count(u => u)} of {cases.Count} cases widened blocks");
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, options[i])).ToList();
        // Several blocks in some layers, one in others; shifts per channel (stream words) in some.
        var blocks = sources.Select(m => System.Text.RegularExpressions.Regex.Match(m.Files[m.SourceFile], @"const int n = (\d+) - c0 < (\d+) \? .* /\* pairs in this block \*/")).Where(m => m.Success).ToList();
        Assert.Contains(blocks, m => int.Parse(m.Groups[1].Value) > int.Parse(m.Groups[2].Value));
        Assert.Contains(blocks, m => int.Parse(m.Groups[1].Value) == int.Parse(m.Groups[2].Value));
        Assert.Contains(sources, m => m.Files[m.SourceFile].Contains("a[0] = (int32_t)((uint32_t)a[0] << w[", StringComparison.Ordinal));
        foreach (var (model, c) in sources.Zip(cases))
        {
            var plain = ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m7", "c", WeightLayout: MicroTvm.Compiler.Tuning.WeightLayout.Speed));
            Assert.True(model.Metadata.WorkspaceBytes <= plain.Metadata.WorkspaceBytes, $"{c.Description}: workspace {model.Metadata.WorkspaceBytes} > {plain.Metadata.WorkspaceBytes}");
        }
    }

    /// <summary>One channel whose effective scale is tiny (right shift 24 to 27, beyond the 22 the zero point can be
    /// folded under) no longer sends the layer to the general requantization: the fast SMMLAR form adds the zero point
    /// after the shift, for CONV_2D (dsp-gemm) and DEPTHWISE_CONV_2D (dsp-depthwise); biases large enough that the
    /// channel's outputs vary and land on rounding boundaries. Bit for bit against the evaluator.</summary>
    [Fact]
    public void DspFastRequantizationTakesAChannelBeyondTheShiftBound()
    {
        var random = new Random(615);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 8; i++) cases.Add(OneTinyChannel(random, depthwise: i % 2 == 1, activation: i % 4 < 2 ? FusedActivation.None : FusedActivation.Relu6));
        var used = Check("cortex-m7", "mtvm_smmlar", cases);
        Assert.All(used, Assert.True);
        foreach (var c in cases)
        {
            var model = ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m7", "tiny"));
            Assert.DoesNotContain("] = mtvm_requantize", model.Files[model.SourceFile], StringComparison.Ordinal);
            Assert.Matches(@"mtvm_smmlar\([^;]*\) >> [^;]*\) \+ -?\d+\)", model.Files[model.SourceFile]); // the zero point after the shift
            Assert.Contains(c.Graph.Nodes[0].Kind == OpKind.DepthwiseConv2D ? "dsp-depthwise" : "dsp-gemm", model.Files[model.MetadataFile], StringComparison.Ordinal);
        }
    }

    private static RandomGraphs.Case OneTinyChannel(Random r, bool depthwise, FusedActivation activation)
    {
        int c = 8, h = Next(r, 3, 7), w = Next(r, 3, 7), fh = 3, fw = 3, oc = depthwise ? c : 6;
        var b = new GraphBuilder();
        const float inScale = 0.05f;
        var input = b.Input(ElementType.Int8, new[] { 1, h, w, c }, Q(inScale, Next(r, -128, 127)));
        int taps = fh * fw * (depthwise ? 1 : c);
        var scales = Enumerable.Range(0, oc).Select(_ => Scale(r, 0.002, 0.05)).ToArray();
        int tiny = r.Next(oc);
        scales[tiny] = (float)Math.Pow(2, -Next(r, depthwise ? 27 : 26, depthwise ? 29 : 28)) * Scale(r, 1, 1.9); // right shift 24 to 26
        int[] shape = depthwise ? new[] { 1, fh, fw, oc } : new[] { oc, fh, fw, c };
        var filter = b.Tensor(ElementType.Int8, shape, new QuantizationParameters(scales, scales.Select(_ => 0L).ToArray(), depthwise ? 3 : 0),
            Int8s(r, shape.Aggregate(1, (x, y) => x * y), -127, 127));
        // Every other channel's effective scale below 1 (a right shift: a layer mixing shifts of 0 with rounding shifts
        // and a lower clamp below the zero point still takes the general requantization).
        float outScale = (float)(inScale * 0.1 * 30 * Math.Sqrt(taps) / 128);
        // The tiny channel's outputs come from its bias (input * scale / output scale is about 2^-24 per unit).
        var biases = Enumerable.Range(0, oc).Select(k => k == tiny ? (double)Next(r, -(1 << 29), 1 << 29) : Next(r, -60 * taps, 60 * taps));
        var bias = b.Tensor(ElementType.Int32, new[] { oc }, null, Bytes(ElementType.Int32, biases));
        int oh = ConvGeometry.OutputSize(Padding.Same, h, fh, 1, 1), ow = ConvGeometry.OutputSize(Padding.Same, w, fw, 1, 1);
        var output = b.Tensor(ElementType.Int8, new[] { 1, oh, ow, oc }, Q(outScale, Next(r, -20, 20)));
        OpAttributes attributes = depthwise
            ? new DepthwiseConv2DAttributes(Padding.Same, 1, 1, 1, 1, 1, activation)
            : new Conv2DAttributes(Padding.Same, 1, 1, 1, 1, activation);
        b.Op(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, attributes, new[] { input, filter, bias }, output);
        return Make(r, $"{(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")} [1,{h},{w},{c}] 3x3 channel {tiny} of {oc} with scale {scales[tiny]:g} {activation}", b, output);
    }

    /// <summary>Builds all cases for <paramref name="target"/> into one host program (emulated intrinsics), runs it,
    /// compares each output with the evaluator; at least <paramref name="expectDsp"/> cases must have used a target kernel (the helpers it alone uses, named <paramref name="marker"/>…, appear in the source).</summary>
    private static void Check(string target, string marker, List<RandomGraphs.Case> cases, int expectDsp)
    {
        int dsp = Check(target, marker, cases).Count(used => used);
        Assert.True(dsp >= expectDsp, $"only {dsp} of {cases.Count} cases used a DSP kernel");
    }

    /// <summary>Builds and runs all cases as above and asserts every output matches the evaluator; returns, per case,
    /// whether its source contains <paramref name="marker"/> (a target kernel wrote it).</summary>
    internal static bool[] Check(string target, string marker, List<RandomGraphs.Case> cases, Func<int, string, CompileOptions>? options = null, Func<string, string>? patch = null)
    {
        var dir = Gcc.TemporaryDirectory("target-diff-" + target);
        var main = new StringBuilder("#include <stdio.h>\n#include <stdlib.h>\n");
        var calls = new StringBuilder();
        var sources = new List<string>();
        var used = new bool[cases.Count];
        for (int i = 0; i < cases.Count; i++)
        {
            string name = $"case{i}";
            var model = ModelCompiler.Compile(cases[i].Graph, options?.Invoke(i, name) ?? new CompileOptions(target, name));
            used[i] = model.Files[model.SourceFile].Contains(marker, StringComparison.Ordinal);
            model.WriteTo(dir);
            if (patch is not null) File.WriteAllText(Path.Combine(dir, model.SourceFile), patch(model.Files[model.SourceFile]));
            sources.Add(model.SourceFile);
            main.AppendLine($"#include \"{model.HeaderFile}\"");
            string m = name.ToUpperInvariant();
            for (int k = 0; k < cases[i].Inputs.Length; k++) File.WriteAllBytes(Path.Combine(dir, $"{name}_in{k}.bin"), cases[i].Inputs[k]);
            calls.AppendLine($"    {{ {name}_inputs in; {name}_outputs out; void* ws = malloc({m}_WORKSPACE_SIZE ? {m}_WORKSPACE_SIZE : 1);");
            for (int k = 0; k < cases[i].Inputs.Length; k++)
                calls.AppendLine($"      in.input{k} = ({name}_input{k}_t*)load(\"{name}_in{k}.bin\", {m}_INPUT{k}_SIZE);");
            calls.AppendLine($"      out.output0 = ({name}_output0_t*)malloc({m}_OUTPUT0_SIZE);");
            calls.AppendLine($"      if ({name}_reset(ws) != 0 || {name}_run(&in, &out, ws) != 0) return 4;");
            calls.AppendLine($"      save(\"{name}_out.bin\", out.output0, {m}_OUTPUT0_SIZE); }}");
        }

        main.Append(ModelHarness.LoadAndSaveFunctions);
        main.AppendLine("int main(void) {");
        main.Append(calls).AppendLine("    return 0;\n}");
        File.WriteAllText(Path.Combine(dir, "main.c"), main.ToString());
        Gcc.Build("gcc", Gcc.HostFlags, sources.Append("main.c"), "cases", dir);
        var (code, output) = Gcc.Run(Path.Combine(dir, "cases"), "", dir);
        Assert.True(code == 0, $"the generated program failed ({code}):\n{output}");

        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var expected = ReferenceEvaluator.Run(c.Graph, c.Inputs)[c.Graph.Outputs[0]];
            string? difference = WholeModelTests.Difference(c.Graph.Outputs[0], expected, File.ReadAllBytes(Path.Combine(dir, $"case{i}_out.bin")), false);
            if (difference is not null) failures.Add($"case{i} {c.Description}: {difference}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ (sources in {dir}):\n" + string.Join("\n", failures));
        return used;
    }

    private static int Next(Random r, int min, int max) => r.Next(min, max + 1);

    private static float Scale(Random r, double low, double high) => (float)(low * Math.Pow(high / low, r.NextDouble()));

    private static byte[] Int8s(Random r, long count, int min = -128, int max = 127) =>
        Bytes(ElementType.Int8, Enumerable.Range(0, (int)count).Select(_ => (double)Next(r, min, max)));

    private static FusedActivation Activation(Random r) =>
        new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1 }[r.Next(4)];

    /// <summary>Weights (per channel or per tensor) and an optional bias; output scale sized to keep values in range.</summary>
    private static (Tensor W, Tensor? B, QuantizationParameters Out) Layer(Random r, GraphBuilder b, int[] shape, int outputs, int taps, int dimension, float inScale, bool ties = false, double outputScale = 1)
    {
        bool perChannel = r.Next(3) != 0;
        var scales = Enumerable.Range(0, perChannel ? outputs : 1).Select(_ => ties ? MathF.Pow(2, -Next(r, 6, 9)) : Scale(r, 0.002, 0.05)).ToArray();
        var q = perChannel ? new QuantizationParameters(scales, scales.Select(_ => 0L).ToArray(), dimension) : Q(scales[0]);
        var w = b.Tensor(ElementType.Int8, shape, q, Int8s(r, shape.Aggregate(1L, (x, y) => x * y), -127, 127));
        var bias = r.Next(5) == 0 ? null : b.Tensor(ElementType.Int32, new[] { outputs }, null,
            Bytes(ElementType.Int32, Enumerable.Range(0, outputs).Select(_ => (double)Next(r, -60 * taps, 60 * taps))));
        float outScale = ties
            ? inScale * scales[0] * MathF.Pow(2, Next(r, -2, (int)Math.Log2(30 * Math.Sqrt(taps) / 128) + 2)) // exact: the effective scales are powers of two
            : (float)(inScale * scales[0] * 30 * Math.Sqrt(taps) / 128 * Scale(r, 0.3, 3) * outputScale);
        return (w, bias, Q(outScale, Next(r, -128, 127)));
    }

    private static RandomGraphs.Case Make(Random r, string description, GraphBuilder b, Tensor output)
    {
        var graph = b.Build(output);
        return new RandomGraphs.Case(description, graph, graph.Inputs.Select(t => Int8s(r, t.ElementCount)).ToArray());
    }

    /// <summary>Shapes the DSP kernels specialise for: channel counts that are and are not multiples of 4, odd pixel
    /// counts, 1x1 pointwise, padding on every side, strides.</summary>
    internal static RandomGraphs.Case Convolution(Random r, bool depthwise, bool oneChannel = false, bool anyChannels = false, bool ties = false, double outputScale = 1, int depthMultiplier = 1, int maxWidth = 9, int? channels = null, int? outputs = null, int maxFilter = 4,
        int minPixels = 1, double room = 0)
    {
        while (true)
        {
            int n = Next(r, 1, 2), h = Next(r, 1, 9), w = Next(r, 1, maxWidth);
            int c = channels ?? (oneChannel ? 1 : anyChannels ? Next(r, 2, 40) : depthwise ? 4 * Next(r, 1, 5) : Next(r, 1, 20));
            int multiplier = oneChannel ? Next(r, 2, 9) : depthMultiplier;
            bool pointwise = !depthwise && r.Next(3) == 0;
            int fh = pointwise ? 1 : Next(r, 1, maxFilter), fw = pointwise ? 1 : Next(r, 1, maxFilter), sh = Next(r, 1, 2), sw = Next(r, 1, 2);
            int oc = depthwise ? c * multiplier : outputs ?? Next(r, 1, anyChannels ? 23 : 13);
            var padding = r.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = ConvGeometry.OutputSize(padding, h, fh, sh, 1), ow = ConvGeometry.OutputSize(padding, w, fw, sw, 1);
            if (oh < 1 || ow < 1 || n * oh * ow < minPixels) continue;
            var b = new GraphBuilder();
            float inScale = ties ? MathF.Pow(2, -Next(r, 4, 7)) : Scale(r, 0.005, 0.1);
            var input = b.Input(ElementType.Int8, new[] { n, h, w, c }, Q(inScale, Next(r, -128, 127)));
            int taps = fh * fw * (depthwise ? 1 : c);
            var (filter, bias, outQ) = depthwise
                ? Layer(r, b, new[] { 1, fh, fw, oc }, oc, taps, 3, inScale, ties, outputScale)
                : Layer(r, b, new[] { oc, fh, fw, c }, oc, taps, 0, inScale, ties, outputScale);
            var output = b.Tensor(ElementType.Int8, new[] { n, oh, ow, oc }, outQ);
            var activation = Activation(r);
            OpAttributes attributes = depthwise
                ? new DepthwiseConv2DAttributes(padding, sh, sw, 1, 1, multiplier, activation)
                : new Conv2DAttributes(padding, sh, sw, 1, 1, activation);
            b.Op(depthwise ? OpKind.DepthwiseConv2D : OpKind.Conv2D, attributes, new[] { input, filter, bias }, output);
            string also = "";
            // Room: times a generous bound of the scratch that widens every filter row (4 bytes per value and per channel).
            if (room > 0) (output, also) = Room(b, output, room * (4L * oc * (fh * fw * (c + 3) + 16) + 16L * fh * fw * (c + 3) + 1024));
            return Make(r, $"{(depthwise ? "DEPTHWISE_CONV_2D" : "CONV_2D")}{also} in [{n},{h},{w},{c}] filter {fh}x{fw} out {oc} (x{multiplier}) stride {sh}x{sw} {padding} {activation}{(ties ? " power-of-two scales" : "")}", b, output);
        }
    }

    /// <summary>Room in the workspace beside the layer writing <paramref name="output"/> (at least <paramref name="bytes"/>):
    /// the output concatenated k times (live one step later with the output), then added to itself into the graph's output.</summary>
    private static (Tensor Output, string Description) Room(GraphBuilder b, Tensor output, double bytes)
    {
        var shape = output.Shape;
        var q = output.Quantization!;
        int k = Math.Max(1, (int)Math.Ceiling(bytes / output.ElementCount));
        var wide = b.Tensor(ElementType.Int8, shape[..^1].Append(shape[^1] * k).ToArray(), q);
        b.Op(OpKind.Concatenation, new ConcatenationAttributes(3, FusedActivation.None), Enumerable.Repeat(output, k).ToArray(), wide);
        // Twice the scale and the same zero point: the sum is every value of the layer's output, unsaturated.
        var sum = b.Tensor(ElementType.Int8, wide.Shape, new QuantizationParameters(new[] { 2 * q.Scale }, new[] { (long)q.ZeroPoint }));
        b.Op(OpKind.Add, new ElementwiseAttributes(FusedActivation.None), new[] { wide, wide }, sum);
        return (sum, $", then concatenated x{k} and added to itself");
    }

    internal static RandomGraphs.Case FullyConnected(Random r, bool ties = false, int? depthGiven = null)
    {
        var b = new GraphBuilder();
        int batches = Next(r, 1, 3), depth = depthGiven ?? Next(r, 1, 80), units = Next(r, 1, 17);
        float inScale = ties ? MathF.Pow(2, -Next(r, 4, 7)) : Scale(r, 0.005, 0.1);
        var input = b.Input(ElementType.Int8, new[] { batches, depth }, Q(inScale, Next(r, -128, 127)));
        var (w, bias, outQ) = Layer(r, b, new[] { units, depth }, units, depth, 0, inScale, ties);
        var output = b.Tensor(ElementType.Int8, new[] { batches, units }, outQ);
        var activation = Activation(r);
        b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(activation, false), new[] { input, w, bias }, output);
        return Make(r, $"FULLY_CONNECTED [{batches},{depth}]x[{units},{depth}] {activation}", b, output);
    }
}
