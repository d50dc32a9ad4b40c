using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Tests.Reference;
using static MicroTvm.Compiler.Tests.Reference.GraphBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// The float QUANTIZE kernel of cores with an FPU (Kernels/Fpu: VDIV + VCVTA on FPv5 and Armv8-M, VDIV + VCVT.S16 #1
/// with the wrap points compared first on FPv4) against the reference evaluator, on the host through the portable
/// emulation of the two conversions (mtvm_fpu.h): scales from tiny to huge, zero points at both ends, power-of-two
/// scales whose quotients land on rounding ties, int16 outputs; inputs at and beside every step of the reference
/// (<see cref="QuantizeProbes"/>). The real instructions run the same probes in QEMU (MicroTvm.Sdk.Tests FloatBoardTests).
/// </summary>
[Trait("Speed", "Slow")] // gcc: not in eng/test.sh --fast
public class FpuKernelTests
{
    [Theory]
    [InlineData("cortex-m4", "mtvm_cvt_twice_s16", 7)] // int16 and the scale 1e30 (its wrap point is -inf) stay portable
    [InlineData("cortex-m7", "mtvm_cvta_s32", 10)]
    [InlineData("cortex-m55", "mtvm_cvta_s32", 10)]
    public void FloatQuantizeMatchesTheEvaluatorAtEveryStep(string target, string marker, int expectFpu)
    {
        var random = new Random(1150);
        var cases = QuantizeProbes.Quantizations.Select(q => Case(q.Scale, q.ZeroPoint, q.Type, 4096, random)).ToList();
        var used = TargetKernelTests.Check(target, marker, cases);
        Assert.True(used.Count(u => u) >= expectFpu, $"only {used.Count(u => u)} of {cases.Count} cases used the FPU kernel");
    }

    /// <summary>Float FULLY_CONNECTED, rows of up to 16 inputs held in locals and unrolled and longer rows looped: the
    /// same sums in the same order as the evaluator, bit for bit.</summary>
    [Fact]
    public void FloatFullyConnectedMatchesTheEvaluatorBitForBit()
    {
        var generic = new RandomGraphs(1151);
        var cases = Enumerable.Range(0, 16).Select(_ => generic.FullyConnected(ElementType.Float32)).ToList();
        TargetKernelTests.Check("cortex-m7", "", cases);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Input(1).Shape[1] <= 16);
        Assert.Contains(cases, c => c.Graph.Nodes[0].Input(1).Shape[1] > 16);
    }

    internal static RandomGraphs.Case Case(float scale, int zeroPoint, ElementType type, int count, Random random)
    {
        var b = new GraphBuilder();
        var input = b.Input(ElementType.Float32, new[] { count });
        var output = b.Tensor(type, new[] { count }, Q(scale, zeroPoint));
        b.Op(OpKind.Quantize, NoAttributes.Instance, new[] { input }, output);
        var values = QuantizeProbes.For(scale, zeroPoint, QuantizedRange.Of(type), count, random);
        var bytes = values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();
        return new RandomGraphs.Case($"QUANTIZE float32->{type.DisplayName()} scale {scale:R} zero point {zeroPoint}", b.Build(output), new[] { bytes });
    }
}
