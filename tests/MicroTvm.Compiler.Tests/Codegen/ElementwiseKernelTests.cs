using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The target-specific elementwise kernels (int8 ADD/SUB on the DSP extension as the affine SMLAWB/SMLAWT form where the
/// compiler proves it, else as two tables and one requantization: SMMLAR/SSAT/SSUB8; gathers and VQRDMLASH on Helium)
/// against the reference evaluator, on the host through the portable emulation of every instruction: seeded random
/// operators over element counts that are and are not multiples of four and eight, output scales that give every right
/// shift from 0 to 24 and some left shifts, input scale ratios from 2^-12 to 2^9, all activations, zero points at the
/// int8 extremes, SUB, constant operands, and operators whose inputs run through all 65,536 pairs of int8 values.
/// Broadcasting operators must stay with the portable kernel (and still match). The pooling kernels (SXTAB16 sums and
/// SSUB8/SEL maxima; VLDRB.S16/VADD.I16 and VLDRB.S8/VMAX.S8 on Helium) likewise, over clipped SAME windows, strides,
/// channel counts that are and are not multiples of the lane count, and whole-input windows of 256 extreme values.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class ElementwiseKernelTests
{
    [Theory]
    [InlineData("cortex-m7", "proven on all 65,536 input pairs", "_table1[")]
    [InlineData("cortex-m4", "proven on all 65,536 input pairs", "_table1[")]
    [InlineData("cortex-m55", "mtvm_add_sum4", null)]
    public void AddKernelsMatchTheReferenceEvaluator(string target, string marker, string? tablesMarker)
    {
        var random = new Random(606);
        var cases = new List<RandomGraphs.Case>();
        int expected = 0;
        void Expect((RandomGraphs.Case Case, bool Handled) c)
        {
            cases.Add(c.Case);
            expected += c.Handled ? 1 : 0;
        }

        // Realistic scales (output near the inputs'), a third of them powers of two, where TFLite's rounding meets exact ties.
        for (int i = 0; i < 24; i++) Expect(Add(random, OutputScale.Realistic(random, powersOfTwo: i % 3 == 0), allPairs: false));
        // Every right shift of the output multiplier from 0 to 24, and left shifts (which may overflow int32 and stay portable).
        for (int e = 0; e <= 24; e++) Expect(Add(random, OutputScale.Shift(random, -e), allPairs: false));
        for (int i = 1; i <= 3; i++) cases.Add(Add(random, OutputScale.Shift(random, i), allPairs: false).Case);
        // Every pair of int8 inputs; output scale twice the inputs' (an odd sum of the inputs is an exact tie).
        Expect(Add(random, OutputScale.Twice, allPairs: true, FusedActivation.None));
        Expect(Add(random, OutputScale.Twice, allPairs: true, FusedActivation.Relu));
        Expect(Add(random, OutputScale.Realistic(random, powersOfTwo: false), allPairs: true));
        // Extreme input multipliers: one input's scale 2^-12 to 2^12 times the other's.
        for (int i = 0; i < 8; i++) Expect(Add(random, OutputScale.Realistic(random, powersOfTwo: false), allPairs: false, ratio: Math.Pow(2, 3 * i - 12)));
        for (int i = 0; i < 4; i++) cases.Add(Broadcast(random));
        var used = TargetKernelTests.Check(target, marker, cases);
        // On the DSP extension the affine form where it is proven exact, else the tables: both paths must be exercised.
        var sources = cases.Select(c => ModelCompiler.Compile(c.Graph, new CompileOptions(target, "case")))
            .Select(m => m.Files[m.SourceFile]).ToList();
        int Count(string what) => sources.Count(s => s.Contains(what, StringComparison.Ordinal));
        var tables = sources.Select(s => tablesMarker is not null && s.Contains(tablesMarker, StringComparison.Ordinal)).ToArray();
        int either = used.Zip(tables).Count(u => u.First || u.Second);
        Assert.True(either >= expected, $"only {either} of {expected} same-shape cases used the target kernel");
        // Of the affine form, both stores: results packed two at a time (shift 16, whole int8 range) and SSAT + BFI.
        if (tablesMarker is not null)
            Assert.True(used.Count(u => u) >= expected / 2 && tables.Count(u => u) >= 2 && Count("mtvm_usat16_8(mtvm_pack_hi16") >= 2
                && Count("MTVM_SSAT8_ASR(w, mtvm_smlawb") >= 2,
                $"{used.Count(u => u)} cases used the affine form ({Count("mtvm_usat16_8(mtvm_pack_hi16")} packed) and {tables.Count(u => u)} the tables, of {expected}");
        // Broadcasting operands: the portable kernel on the DSP cores, HeliumBroadcastAddKernel on the Cortex-M55.
        for (int i = cases.Count - 4; i < cases.Count; i++)
        {
            var model = ModelCompiler.Compile(cases[i].Graph, new CompileOptions(target, "case"));
            bool helium = model.Files[model.MetadataFile].Contains("helium-broadcast-add", StringComparison.Ordinal);
            if (target == "cortex-m55") Assert.True(helium, $"the broadcasting {cases[i].Description} must use helium-broadcast-add");
            else Assert.False(used[i] || tables[i] || helium, $"the broadcasting {cases[i].Description} must use the portable kernel");
        }
    }

    [Theory]
    [InlineData("cortex-m7", "mtvm_sxtab16")]
    [InlineData("cortex-m55", "mtvm_pool_zero16")]
    public void PoolingKernelsMatchTheReferenceEvaluator(string target, string marker)
    {
        var random = new Random(707);
        var cases = new List<RandomGraphs.Case>();
        var handled = new List<bool>();
        for (int i = 0; i < 36; i++)
        {
            bool average = i % 2 == 0;
            var (c, taps) = Pool(random, average, extremes: i % 9 == 4 ? -128 : i % 9 == 5 ? 127 : null, global: i % 6 == 1);
            cases.Add(c);
            handled.Add((!average || taps <= 256) && (target == "cortex-m55" || c.Graph.Inputs[0].Shape[3] % 4 == 0));
        }

        // The largest exact windows: 256 taps of -128 (the int16 sum's minimum) and of 127.
        foreach (var value in new[] { -128, 127 })
        {
            var c = Pool(random, true, value, global: true, size: 16).Case;
            cases.Add(c);
            handled.Add(target == "cortex-m55" || c.Graph.Inputs[0].Shape[3] % 4 == 0);
        }

        var used = TargetKernelTests.Check(target, marker, cases);
        for (int i = 0; i < cases.Count; i++) Assert.True(used[i] == handled[i], $"{cases[i].Description}: target kernel used {used[i]}, expected {handled[i]}");
    }

    /// <summary>A pooling operator: channel counts that are and are not multiples of 4, 8 and 16, windows clipped by
    /// SAME padding, strides, whole-input windows; inputs random or all one extreme value.</summary>
    private static (RandomGraphs.Case Case, int Taps) Pool(Random r, bool average, int? extremes, bool global, int size = 0)
    {
        while (true)
        {
            int n = Next(r, 1, 2), h = size > 0 ? size : Next(r, 1, 12), w = size > 0 ? size : Next(r, 1, 12);
            int c = r.Next(3) == 0 ? Next(r, 1, 40) : 4 * Next(r, 1, 12);
            int fh = global ? h : Next(r, 1, Math.Min(h, 5)), fw = global ? w : Next(r, 1, Math.Min(w, 5));
            int sh = global ? 1 : Next(r, 1, 3), sw = global ? 1 : Next(r, 1, 3);
            var padding = global || r.Next(2) == 0 ? Padding.Valid : Padding.Same;
            int oh = ConvGeometry.OutputSize(padding, h, fh, sh, 1), ow = ConvGeometry.OutputSize(padding, w, fw, sw, 1);
            if (oh < 1 || ow < 1) continue;
            var q = Q(Scale(r, 0.01, 0.1), ZeroPoint(r));
            var b = new GraphBuilder();
            var input = b.Input(ElementType.Int8, new[] { n, h, w, c }, q);
            var output = b.Tensor(ElementType.Int8, new[] { n, oh, ow, c }, q);
            var activation = Activation(r);
            b.Op(average ? OpKind.AveragePool2D : OpKind.MaxPool2D, new Pool2DAttributes(padding, sh, sw, fh, fw, activation), new[] { input }, output);
            var graph = b.Build(output);
            long count = (long)n * h * w * c;
            var data = extremes is { } v ? Bytes(ElementType.Int8, Enumerable.Repeat((double)v, (int)count)) : Int8s(r, count);
            string description = $"{(average ? "AVERAGE" : "MAX")}_POOL_2D [{n},{h},{w},{c}] filter {fh}x{fw} stride {sh}x{sw} {padding} {activation}{(extremes is null ? "" : $" all {extremes}")}";
            return (new RandomGraphs.Case(description, graph, new[] { data }), fh * fw);
        }
    }

    private static int Next(Random r, int min, int max) => r.Next(min, max + 1);

    private static float Scale(Random r, double low, double high) => (float)(low * Math.Pow(high / low, r.NextDouble()));

    private static int ZeroPoint(Random r) => r.Next(4) switch { 0 => -128, 1 => 127, _ => Next(r, -128, 127) };

    private static FusedActivation Activation(Random r) =>
        new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1 }[r.Next(4)];

    /// <summary>Random int8 values that include both extremes.</summary>
    private static byte[] Int8s(Random r, long count) =>
        Bytes(ElementType.Int8, Enumerable.Range(0, (int)count).Select(i => (double)(i % 7 == 0 ? -128 : i % 7 == 1 ? 127 : Next(r, -128, 127))));

    /// <summary>How a case picks its input and output scales.</summary>
    private sealed record OutputScale(Func<float, float, float> Output, bool PowersOfTwo, bool Handled)
    {
        /// <summary>The output scale about the larger input's (TFLite's output multiplier then has a right shift near 19).</summary>
        public static OutputScale Realistic(Random r, bool powersOfTwo) =>
            new((s1, s2) => powersOfTwo ? Math.Max(s1, s2) * (float)Math.Pow(2, r.Next(-2, 3)) : Math.Max(s1, s2) * Scale(r, 0.25, 4), powersOfTwo, true);

        /// <summary>An output multiplier of [0.5, 1) * 2^shift (TFLite: 2 max(s1, s2) / (2^20 output scale)); positive shifts may overflow.</summary>
        public static OutputScale Twice { get; } = new((s1, s2) => 2 * Math.Max(s1, s2), true, true);

        public static OutputScale Shift(Random r, int shift) =>
            new((s1, s2) => (float)(2 * Math.Max(s1, s2) / ((1 << 20) * (0.5 + 0.49 * r.NextDouble()) * Math.Pow(2, shift))), false, shift <= 0);
    }

    /// <summary>A same-shape ADD or SUB; with <paramref name="allPairs"/> its inputs run through every pair of int8
    /// values. Handled: whether the target kernel must take it.</summary>
    private static (RandomGraphs.Case Case, bool Handled) Add(Random r, OutputScale scales, bool allPairs, FusedActivation? fused = null, double? ratio = null)
    {
        int[] shape = allPairs ? new[] { 256, 256 } : r.Next(3) switch
        {
            0 => new[] { Next(r, 1, 7) },
            1 => new[] { 1, Next(r, 1, 6), Next(r, 1, 6), Next(r, 1, 9) },
            _ => new[] { Next(r, 1, 3), Next(r, 1, 130) },
        };
        bool subtract = r.Next(4) == 0;
        float s1 = scales.PowersOfTwo ? (float)Math.Pow(2, -Next(r, 4, 9)) : Scale(r, 0.002, 0.2);
        float s2 = ratio is { } given ? (float)(s1 * given) : scales == OutputScale.Twice ? s1 : scales.PowersOfTwo ? s1 * (float)Math.Pow(2, r.Next(-2, 3)) : s1 * Scale(r, 0.1, 10);
        float so = scales.Output(s1, s2);
        var b = new GraphBuilder();
        var x = b.Input(ElementType.Int8, shape, Q(s1, ZeroPoint(r)));
        bool constant = !allPairs && r.Next(5) == 0;
        var y = constant
            ? b.Tensor(ElementType.Int8, shape, Q(s2, ZeroPoint(r)), Int8s(r, shape.Aggregate(1L, (p, d) => p * d)))
            : b.Input(ElementType.Int8, shape, Q(s2, ZeroPoint(r)));
        var output = b.Tensor(ElementType.Int8, shape, Q(so, ZeroPoint(r)));
        var activation = fused ?? Activation(r);
        b.Op(subtract ? OpKind.Sub : OpKind.Add, new ElementwiseAttributes(activation), new[] { x, y }, output);
        var graph = b.Build(output);
        byte[][] inputs = allPairs
            ? new[] { Enumerable.Range(0, 65536).Select(i => (byte)(i >> 8)).ToArray(), Enumerable.Range(0, 65536).Select(i => (byte)i).ToArray() }
            : graph.Inputs.Select(t => Int8s(r, t.ElementCount)).ToArray();
        var q = subtract ? AddSubQuantization.ForSub(x, y, output, activation) : AddSubQuantization.ForAdd(x, y, output, activation);
        string description = $"{(subtract ? "SUB" : "ADD")} [{string.Join(",", shape)}]{(constant ? " constant operand" : "")} output shift {q.OutputShift} {activation}{(allPairs ? " all pairs" : "")}";
        return (new RandomGraphs.Case(description, graph, inputs), scales.Handled);
    }

    /// <summary>An ADD that broadcasts one operand (scalar, per channel, or a row).</summary>
    private static RandomGraphs.Case Broadcast(Random r)
    {
        int h = Next(r, 1, 5), c = Next(r, 2, 9);
        int[] shape = { 1, h, 3, c };
        int[] other = r.Next(3) switch { 0 => new[] { 1 }, 1 => new[] { c }, _ => new[] { 1, h, 1, c } };
        var b = new GraphBuilder();
        float s1 = Scale(r, 0.002, 0.2), s2 = Scale(r, 0.002, 0.2);
        var x = b.Input(ElementType.Int8, shape, Q(s1, ZeroPoint(r)));
        var y = b.Input(ElementType.Int8, other, Q(s2, ZeroPoint(r)));
        var output = b.Tensor(ElementType.Int8, shape, Q(Scale(r, 0.002, 0.4), ZeroPoint(r)));
        var activation = Activation(r);
        b.Op(OpKind.Add, new ElementwiseAttributes(activation), new[] { x, y }, output);
        var graph = b.Build(output);
        return new RandomGraphs.Case($"ADD [{string.Join(",", shape)}] + [{string.Join(",", other)}] {activation}", graph,
            graph.Inputs.Select(t => Int8s(r, t.ElementCount)).ToArray());
    }
}
