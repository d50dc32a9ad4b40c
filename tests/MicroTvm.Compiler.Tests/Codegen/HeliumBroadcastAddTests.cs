using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The Helium broadcasting int8 ADD/SUB kernel (HeliumBroadcastAddKernel) on the host through the portable emulation of
/// the MVE intrinsics, bit for bit against the reference evaluator: seeded random ADD and SUB of shapes of rank 1 to 4
/// that broadcast either way (size-1 and missing dimensions, constant second inputs, every clamp). Same-shape cases
/// take HeliumAddKernel and are checked as well.
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class HeliumBroadcastAddTests
{
    [Fact]
    public void HeliumBroadcastAddMatchesTheReferenceEvaluator()
    {
        var generic = new RandomGraphs(1223);
        var cases = Enumerable.Range(0, 40).Select(i => generic.Binary(i % 3 == 2 ? OpKind.Sub : OpKind.Add, ElementType.Int8)).ToList();
        var used = TargetKernelTests.Check("cortex-m55", "(const uint8_t*)in0 + (", cases);
        var broadcast = cases.Select(c => c.Graph.Nodes[0].Inputs.Any(t => !t!.Shape.SequenceEqual(c.Graph.Nodes[0].Output.Shape))).ToArray();
        Assert.True(broadcast.Count(b => b) >= 25, "too few broadcasting cases");
        // Every broadcasting case whose scales the tables take (AddTables) runs the Helium kernel.
        Assert.True(used.Count(u => u) >= 20, $"only {used.Count(u => u)} cases used the broadcasting kernel");
        Assert.All(used.Where((u, i) => u && !broadcast[i]), _ => Assert.Fail("a same-shape case took the broadcasting kernel"));
    }
}
