using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The Helium 16x8 kernels (int16 activations, int8 weights) on the host through the portable emulation of the MVE
/// intrinsics, bit for bit against the reference evaluator (its Int16x8Accumulation arithmetic): seeded random layers
/// with every bias type TFLite accepts (int64: 64-bit sums, kept in 32 bits where they provably fit; int32 and none:
/// wrapping int32 sums), per-channel and per-tensor scales, channel counts and depths that are not multiples of 4 or 8,
/// strides, SAME and VALID padding, every clamp and two images. The same kernels run in QEMU in
/// MicroTvm.Sdk.Tests/HeliumInt16BoardTests.
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class HeliumInt16KernelTests
{
    [Fact]
    public void HeliumGemm16MatchesTheReferenceEvaluator()
    {
        var random = new Random(1220);
        var cases = new List<RandomGraphs.Case>();
        for (int i = 0; i < 16; i++) cases.Add(Convolution16(random, Bias(i)));
        for (int i = 0; i < 12; i++) cases.Add(FullyConnected16(random, Bias(i)));
        // Depths whose sums can leave int32 (the sum of |w| times 32768 above INT32_MAX): VMLALDAVA's 64-bit sums.
        foreach (int depth in new[] { 1100, 1543 }) cases.Add(FullyConnected16(random, ElementType.Int64, depth, extreme: true));
        cases.Add(Convolution16(random, ElementType.Int64, channels: 131, filter: 3));
        var used = TargetKernelTests.Check("cortex-m55", "mtvm_c16_", cases);
        Assert.All(used, Assert.True);
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m55", $"case{i}"))).Select(m => m.Files[m.SourceFile]).ToList();
        // Every way of keeping the sums (HeliumGemm16Kernel.Sums) is taken.
        int Count(string call, bool int64) => cases.Where((c, i) => (c.Graph.Nodes[0].Bias?.Type == ElementType.Int64) == int64 && sources[i].Contains(call, StringComparison.Ordinal)).Count();
        Assert.Equal(3, Count("mtvm_c16_dot1_64(x", int64: true));
        Assert.True(Count("= mtvm_mbqm64(", int64: true) >= 5, "too few int64 cases took the per-channel requantization");
        Assert.True(Count("mtvm_c16_st_s16(o", int64: true) >= 5, "too few int64 cases took the vector requantization");
        Assert.True(Count("mtvm_c16_st_s16(o", int64: false) >= 10, "too few int32 cases");
    }

    /// <summary>The 16x8 depthwise kernel (depth multiplier 1, channels in int32 lanes, the last group predicated) on 1 to 21
    /// channels, filters 1x1 to 4x4, strides 1 and 2, SAME and VALID, int64 and no bias; a layer with a channel whose
    /// bias leaves int32 stays with the portable kernel (and matches as well).</summary>
    [Fact]
    public void HeliumDepthwise16MatchesTheReferenceEvaluator()
    {
        var random = new Random(1222);
        var cases = Enumerable.Range(0, 20).Select(i => Depthwise16(random, i % 4 == 3 ? null : ElementType.Int64)).ToList();
        var used = TargetKernelTests.Check("cortex-m55", "mtvm_c16_mla4(acc", cases);
        var huge = cases.Select((c, i) => Decode.Int64(c.Graph.Nodes[0].Bias?.Data ?? []).Any(v => Math.Abs(v) > int.MaxValue)).ToArray();
        Assert.True(huge.Count(h => h) >= 2, "too few layers with a bias beyond int32");
        for (int i = 0; i < cases.Count; i++) Assert.True(used[i] != huge[i], $"case{i} {cases[i].Description}: helium kernel {(used[i] ? "used" : "not used")}");
    }

    /// <summary>The 16x8 depthwise kernel with depth multipliers 2, 3 and 4 (the int16 load a gather of each lane's input
    /// channel) and with dilation 2 (with and without a multiplier): 1 to 9 input channels, so most output channel counts
    /// fill no vector, strides 1 and 2, SAME and VALID; layers whose bias leaves int32 stay with the portable kernel.</summary>
    [Fact]
    public void HeliumDepthwise16WithMultiplierOrDilationMatchesTheReferenceEvaluator()
    {
        var random = new Random(1223);
        var cases = new List<RandomGraphs.Case>();
        foreach (var (multiplier, dilation) in new[] { (2, 1), (3, 1), (4, 1), (2, 2), (3, 2), (1, 2) })
            for (int i = 0; i < 4; i++)
                cases.Add(Depthwise16(random, i == 3 ? null : ElementType.Int64, multiplier, dilation));
        var used = TargetKernelTests.Check("cortex-m55", "(acc, x, ", cases);
        var huge = cases.Select(c => Decode.Int64(c.Graph.Nodes[0].Bias?.Data ?? []).Any(v => Math.Abs(v) > int.MaxValue)).ToArray();
        for (int i = 0; i < cases.Count; i++) Assert.True(used[i] != huge[i], $"case{i} {cases[i].Description}: helium kernel {(used[i] ? "used" : "not used")}");
        Assert.True(used.Count(u => u) >= 18, $"only {used.Count(u => u)} of {cases.Count} cases took the helium kernel");
        var sources = cases.Select((c, i) => ModelCompiler.Compile(c.Graph, new CompileOptions("cortex-m55", $"case{i}"))).Select(m => m.Files[m.SourceFile]).ToList();
        for (int i = 0; i < cases.Count; i++)
            if (used[i]) Assert.Equal(cases[i].Graph.Nodes[0].Output.Shape[3] != cases[i].Graph.Nodes[0].Input(0).Shape[3], sources[i].Contains("mtvm_c16_mla4g(acc, x, off", StringComparison.Ordinal));
    }

    /// <summary>The 16x8 matrix-product kernel on dilated CONV_2D (dilation 2 and 3): the gathered column takes every
    /// filter tap the dilation apart (zeros outside the image), int64, int32 and no bias.</summary>
    [Fact]
    public void HeliumGemm16DilatedMatchesTheReferenceEvaluator()
    {
        var random = new Random(1224);
        var cases = Enumerable.Range(0, 16).Select(i => Convolution16(random, Bias(i), dilation: 2 + i % 2)).ToList();
        var used = TargetKernelTests.Check("cortex-m55", "mtvm_c16_dot1", cases);
        Assert.True(used.Count(u => u) >= 14, $"only {used.Count(u => u)} of {cases.Count} cases took the helium kernel");
    }

    /// <summary>TFLM's own 16x8 depthwise case (tests/operators/depthwise_conv_2d_i16: depth multiplier 2) takes the gather
    /// on the Cortex-M55 and gives TFLM's outputs byte for byte.</summary>
    [Fact]
    public void HeliumDepthwise16EqualsTflmOnItsOracleCase()
    {
        string folder = Path.Combine(OperatorOracleTests.Root, "depthwise_conv_2d_i16");
        var graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
        var model = ModelCompiler.Compile(graph, new CompileOptions("cortex-m55", "oracle"));
        Assert.Contains("mtvm_c16_mla4g(acc, x, off", model.Files[model.SourceFile], StringComparison.Ordinal);
        DifferentialTests.CheckAll([new RandomGraphs.Case("depthwise_conv_2d_i16", graph, [File.ReadAllBytes(Path.Combine(folder, "input0.bin"))],
            [File.ReadAllBytes(Path.Combine(folder, "output0.bin"))])], "tests/operators on the Cortex-M55", target: "cortex-m55");
    }

    private static ElementType? Bias(int i) => (i % 5) switch { 0 or 3 => ElementType.Int64, 1 or 4 => ElementType.Int32, _ => null };

    private static int Next(Random r, int min, int max) => r.Next(min, max + 1);

    private static float Scale(Random r, double low, double high) => (float)(low * Math.Pow(high / low, r.NextDouble()));

    private static byte[] Int16s(Random r, long count) => Bytes(ElementType.Int16, Enumerable.Range(0, (int)count).Select(_ => (double)Next(r, -32768, 32767)));

    /// <summary>int8 weights per channel or per tensor, the bias of <paramref name="biasType"/> (up to 20000 per tap, at
    /// most 2^24 for int32; for int64 a third of the layers have one channel beyond int32, whose sums then cannot stay
    /// in 32 bits), an int16 output scale that keeps most values in range.</summary>
    private static (Tensor W, Tensor? B, QuantizationParameters Out) Parameters(Random r, GraphBuilder b, int[] shape, int outputs, int taps, float inScale, ElementType? biasType, int dimension = 0)
    {
        bool perChannel = r.Next(3) != 0;
        var scales = Enumerable.Range(0, perChannel ? outputs : 1).Select(_ => Scale(r, 0.002, 0.05)).ToArray();
        var q = perChannel ? new QuantizationParameters(scales, scales.Select(_ => 0L).ToArray(), dimension) : Q(scales[0]);
        var w = b.Tensor(ElementType.Int8, shape, q, Bytes(ElementType.Int8, Enumerable.Range(0, shape.Aggregate(1, (x, y) => x * y)).Select(_ => (double)Next(r, -127, 127))));
        Tensor? bias = null;
        if (biasType is { } type)
        {
            double range = type == ElementType.Int64 ? 20000.0 * taps : Math.Min(1 << 24, 20000.0 * taps);
            var values = Enumerable.Range(0, outputs).Select(_ => Math.Round((r.NextDouble() * 2 - 1) * range)).ToArray();
            if (type == ElementType.Int64 && r.Next(3) == 0) values[r.Next(outputs)] = (r.Next(2) * 2 - 1) * (Math.Pow(2, 31) + r.Next(1 << 20));
            bias = b.Tensor(type, new[] { outputs }, null, Bytes(type, values));
        }

        float outScale = (float)(inScale * scales[0] * 256 * 30 * Math.Sqrt(taps) / 128 * Scale(r, 0.3, 3));
        return (w, bias, Q(outScale, 0));
    }

    private static FusedActivation Activation(Random r) =>
        new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1 }[r.Next(4)];

    private static RandomGraphs.Case Make(Random r, string description, GraphBuilder b, Tensor output)
    {
        var graph = b.Build(output);
        return new RandomGraphs.Case(description, graph, graph.Inputs.Select(t => Int16s(r, t.ElementCount)).ToArray());
    }

    internal static RandomGraphs.Case Convolution16(Random r, ElementType? biasType, int? channels = null, int? filter = null, int dilation = 1)
    {
        while (true)
        {
            int n = Next(r, 1, 2), h = Next(r, 1, 9), w = Next(r, 1, 9), c = channels ?? Next(r, 1, 21);
            bool pointwise = filter is null && r.Next(4) == 0;
            int fh = filter ?? (pointwise ? 1 : Next(r, 1, 4)), fw = filter ?? (pointwise ? 1 : Next(r, 1, 4));
            int sh = pointwise && r.Next(2) == 0 ? 1 : Next(r, 1, 2), sw = pointwise && r.Next(2) == 0 ? 1 : Next(r, 1, 2);
            int oc = Next(r, 1, 23);
            var padding = r.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = ConvGeometry.OutputSize(padding, h, fh, sh, dilation), ow = ConvGeometry.OutputSize(padding, w, fw, sw, dilation);
            if (oh < 1 || ow < 1) continue;
            var b = new GraphBuilder();
            float inScale = Scale(r, 0.0001, 0.001);
            var input = b.Input(ElementType.Int16, new[] { n, h, w, c }, Q(inScale, 0));
            var (weights, bias, outQ) = Parameters(r, b, new[] { oc, fh, fw, c }, oc, fh * fw * c, inScale, biasType);
            var output = b.Tensor(ElementType.Int16, new[] { n, oh, ow, oc }, outQ);
            var activation = Activation(r);
            b.Op(OpKind.Conv2D, new Conv2DAttributes(padding, sh, sw, dilation, dilation, activation), new[] { input, weights, bias }, output);
            return Make(r, $"CONV_2D 16x8 in [{n},{h},{w},{c}] filter {fh}x{fw} out {oc} stride {sh}x{sw} dilation {dilation} {padding} {activation} bias {biasType?.DisplayName() ?? "none"}", b, output);
        }
    }

    /// <summary>A random 16x8 DEPTHWISE_CONV_2D; with a <paramref name="multiplier"/> or <paramref name="dilation"/> other
    /// than 1, 1 to 9 input channels.</summary>
    internal static RandomGraphs.Case Depthwise16(Random r, ElementType? biasType, int multiplier = 1, int dilation = 1)
    {
        while (true)
        {
            int n = Next(r, 1, 2), h = Next(r, 1, 9), w = Next(r, 1, 9), c = Next(r, 1, multiplier == 1 && dilation == 1 ? 21 : 9);
            int fh = Next(r, 1, 4), fw = Next(r, 1, 4), sh = Next(r, 1, 2), sw = Next(r, 1, 2);
            var padding = r.Next(2) == 0 ? Padding.Same : Padding.Valid;
            int oh = ConvGeometry.OutputSize(padding, h, fh, sh, dilation), ow = ConvGeometry.OutputSize(padding, w, fw, sw, dilation);
            if (oh < 1 || ow < 1) continue;
            int oc = c * multiplier;
            var b = new GraphBuilder();
            float inScale = Scale(r, 0.0001, 0.001);
            var input = b.Input(ElementType.Int16, new[] { n, h, w, c }, Q(inScale, 0));
            var (weights, bias, outQ) = Parameters(r, b, new[] { 1, fh, fw, oc }, oc, fh * fw, inScale, biasType, dimension: 3);
            var output = b.Tensor(ElementType.Int16, new[] { n, oh, ow, oc }, outQ);
            var activation = Activation(r);
            b.Op(OpKind.DepthwiseConv2D, new DepthwiseConv2DAttributes(padding, sh, sw, dilation, dilation, multiplier, activation), new[] { input, weights, bias }, output);
            return Make(r, $"DEPTHWISE_CONV_2D 16x8 in [{n},{h},{w},{c}] filter {fh}x{fw} multiplier {multiplier} stride {sh}x{sw} dilation {dilation} {padding} {activation} bias {biasType?.DisplayName() ?? "none"}", b, output);
        }
    }

    /// <summary>A random 16x8 FULLY_CONNECTED; with <paramref name="extreme"/> the first input row is +-32767 with the signs
    /// of the first unit's weights, so that unit's sum is 32767 times the sum of its |w| (beyond int32 for long rows).</summary>
    internal static RandomGraphs.Case FullyConnected16(Random r, ElementType? biasType, int? depthGiven = null, bool extreme = false)
    {
        var b = new GraphBuilder();
        int batches = Next(r, 1, 3), depth = depthGiven ?? Next(r, 1, 90), units = Next(r, 1, 19);
        float inScale = Scale(r, 0.0001, 0.001);
        var input = b.Input(ElementType.Int16, new[] { batches, depth }, Q(inScale, 0));
        var (w, bias, outQ) = Parameters(r, b, new[] { units, depth }, units, depth, inScale, biasType);
        var output = b.Tensor(ElementType.Int16, new[] { batches, units }, outQ);
        var activation = Activation(r);
        b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(activation, false), new[] { input, w, bias }, output);
        if (extreme)
        {
            var graph = b.Build(output);
            var x = Int16s(r, batches * depth);
            for (int i = 0; i < depth; i++)
                BitConverter.TryWriteBytes(x.AsSpan(2 * i), (short)(32767 * Math.Sign((sbyte)w.Data![i])));
            return new RandomGraphs.Case($"FULLY_CONNECTED 16x8 [{batches},{depth}]x[{units},{depth}] {activation} bias int64, extreme first row", graph, new[] { x });
        }

        return Make(r, $"FULLY_CONNECTED 16x8 [{batches},{depth}]x[{units},{depth}] {activation} bias {biasType?.DisplayName() ?? "none"}", b, output);
    }
}
