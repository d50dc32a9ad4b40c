using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The Helium int16 ADD/SUB kernel (HeliumAdd16Kernel) on the host through the portable emulation of the MVE
/// instructions, bit for bit against the reference evaluator: seeded random ADD and SUB of shapes of rank 1 to 4 that
/// broadcast either way; hand-made layers in every arithmetic regime (power-of-two scales where the inputs are plain
/// shifts and the output rounds ties, equal scales with the output's twice theirs (ties on every odd sum), an input 2^16 times finer whose rounding ties, an output multiplier above one
/// that shifts left and wraps, zero points, every clamp) over same-shape rows with tails of 1..7 lanes and
/// broadcasting along the inner and the outer dimensions; and TFLM's int16 ADD/SUB oracle cases of tests/operators,
/// whose outputs the evaluator must equal.
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class HeliumAdd16Tests
{
    private const string Marker = "(o, mtvm_a16_clamp(";

    [Fact]
    public void HeliumAdd16MatchesTheReferenceEvaluator()
    {
        var generic = new RandomGraphs(1316);
        var cases = Enumerable.Range(0, 24).Select(i => generic.Binary(i % 3 == 2 ? OpKind.Sub : OpKind.Add, ElementType.Int16)).ToList();
        var random = new Random(1317);
        var activations = new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6, FusedActivation.ReluN1To1 };
        // (input scales, output scale, zero points): the arithmetic regimes the kernel has separate code for.
        var regimes = new (float A, float B, float Out, int ZeroA, int ZeroB, int ZeroOut, string Name)[]
        {
            (1f / 4096, 1f / 8192, 1f / 2048, 0, 0, 0, "power-of-two scales"),
            (0.0003f, 0.0003f, 0.0007f, 0, 0, 0, "equal input scales"),
            (0.0003f, 0.0003f, 0.0006f, 0, 0, 0, "an output rounding that ties on every odd sum"),
            (0.001f, 0.001f / 65536, 0.0015f, 0, 0, 0, "an input 2^16 times finer"),
            (0.00021f, 0.00047f, 0.0011f, 0, 0, 0, "general scales"),
            (0.001f, 0.0004f, 0.00000002f, 0, 0, 0, "output multiplier above one"),
            (0.0002f, 0.0005f, 0.0009f, 311, -77, -1000, "zero points"),
        };
        int k = 0;
        foreach (var r in regimes)
        {
            var shapes = new (int[] A, int[] B)[]
            {
                ([1 + k % 7], [1 + k % 7]),            // a tail of 1..7 lanes
                ([2, 3, 13], [2, 3, 13]),              // same shape, one row of 78: 19 steps and a tail of 2
                ([2, 3, 5], [5]),                      // broadcast along the outer dimensions
                ([6], [4, 3, 6]),                      // the first input broadcast
                ([2, 3, 7], [2, 3, 1]),                // broadcast along the inner dimension
                ([1, 1], [3, 9]),                      // a scalar
            };
            foreach (var (sa, sb) in shapes)
            {
                foreach (var kind in new[] { OpKind.Add, OpKind.Sub })
                {
                    var activation = activations[k++ % activations.Length];
                    var b = new GraphBuilder();
                    var x = b.Input(ElementType.Int16, sa, Q(r.A, r.ZeroA));
                    var y = b.Input(ElementType.Int16, sb, Q(r.B, r.ZeroB));
                    var shape = sa.Length >= sb.Length ? sa.Select((d, i) => Math.Max(d, i - (sa.Length - sb.Length) >= 0 ? sb[i - (sa.Length - sb.Length)] : 1)).ToArray()
                        : sb.Select((d, i) => Math.Max(d, i - (sb.Length - sa.Length) >= 0 ? sa[i - (sb.Length - sa.Length)] : 1)).ToArray();
                    var output = b.Tensor(ElementType.Int16, shape, Q(r.Out, r.ZeroOut));
                    b.Op(kind, new ElementwiseAttributes(activation), new[] { x, y }, output);
                    var graph = b.Build(output);
                    var inputs = graph.Inputs.Select(t => Bytes(ElementType.Int16, Enumerable.Range(0, (int)t.ElementCount)
                        .Select(_ => (double)Math.Clamp(random.Next(-32768, 32768) - (t == x ? r.ZeroA : r.ZeroB), -32768, 32767)))).ToArray();
                    cases.Add(new RandomGraphs.Case($"{kind.Name} int16 [{string.Join(",", sa)}] [{string.Join(",", sb)}] {r.Name} {activation}", graph, inputs));
                }
            }
        }

        var used = TargetKernelTests.Check("cortex-m55", Marker, cases);
        Assert.True(used.All(u => u), $"cases {string.Join(", ", used.Select((u, i) => (u, i)).Where(p => !p.u).Select(p => p.i))} did not take the Helium int16 kernel: " + string.Join("; ", cases.Where((_, i) => !used[i]).Select(c => c.Description)));
    }

    /// <summary>TFLM's int16 ADD/SUB cases take the kernel on the M55 and its output is TFLM's.</summary>
    [Fact]
    public void OracleCasesTakeTheKernelAndEqualTflm()
    {
        string root = OperatorOracleTests.Root;
        var names = new[] { "add_i16", "add_i16_broadcast", "add_i16_pot", "sub_i16", "sub_i16_broadcast" };
        var cases = names.Select(name =>
        {
            var graph = TfliteImporter.Load(Path.Combine(root, name, "model.tflite"));
            var input = File.ReadAllBytes(Path.Combine(root, name, "input0.bin"));
            var inputs = new byte[graph.Inputs.Count][];
            for (int i = 0, at = 0; i < inputs.Length; at += (int)graph.Inputs[i].ByteSize, i++) inputs[i] = input[at..(at + (int)graph.Inputs[i].ByteSize)];
            Assert.Equal(File.ReadAllBytes(Path.Combine(root, name, "output0.bin")), ReferenceEvaluator.Run(graph, inputs)[graph.Outputs[0]]);
            return new RandomGraphs.Case(name, graph, inputs);
        }).ToList();
        var used = TargetKernelTests.Check("cortex-m55", Marker, cases);
        Assert.All(used, Assert.True);
    }
}
