using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Passes;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Operators whose inputs are all constants are computed at compile time (<see cref="ConstantFolding"/>), by the
/// evaluator, so the device gets the same bits as a run-time operator would give.
/// </summary>
public class ConstantFoldingTests
{
    /// <summary>A float FULLY_CONNECTED whose weights are a DEQUANTIZE of int8 constants (weight compression that TFLM
    /// runs at every inference): the kernel needs constant weights, so the model was refused (MTVM2102); folded, the
    /// weights are the evaluator's DEQUANTIZE, the generated C (ASan/UBSan) equals the evaluator running both operators.</summary>
    [Fact]
    [Trait("Speed", "Slow")] // gcc
    public void ADequantizedWeightIsComputedAtCompileTime()
    {
        var (graph, weights, input) = DequantizedWeights(elements: 4);
        var folded = ConstantFolding.Apply(graph);
        var layer = Assert.Single(folded.Nodes);
        Assert.Equal(OpKind.FullyConnected, layer.Kind);
        Assert.True(layer.Input(1).IsConstant);
        Assert.Equal(ReferenceEvaluator.Run(graph, new[] { input })[weights], layer.Input(1).Data);
        DifferentialTests.CheckAll(new[] { new RandomGraphs.Case("FULLY_CONNECTED of dequantized weights", graph, new[] { input }) }, "constant folding");
    }

    /// <summary>What stays an operator: a graph output (the caller's buffer must be written), a result much larger than
    /// the constants it reads (4,400 bytes of float from 1,100 int8 values), an operator with a state operand.</summary>
    [Fact]
    public void OutputsLargeResultsAndStateAreNotFolded()
    {
        var b = new GraphBuilder();
        var c = b.Constant(ElementType.Float32, new[] { 1, 4 }, new double[] { 1, -2, 3, -4 });
        var y = b.Tensor(ElementType.Float32, new[] { 1, 4 });
        b.Op(OpKind.Neg, NoAttributes.Instance, new Tensor?[] { c }, y);
        var constantOutput = b.Build(y);
        Assert.Same(constantOutput, ConstantFolding.Apply(constantOutput));

        var (large, _, _) = DequantizedWeights(elements: 1100);
        Assert.Equal(2, ConstantFolding.Apply(large).Nodes.Count);

        var s = new GraphBuilder();
        var x = s.Input(ElementType.Float32, new[] { 1, 4 });
        var state = s.Variable(ElementType.Float32, new[] { 1, 4 });
        var sum = s.Tensor(ElementType.Float32, new[] { 1, 4 });
        var neg = s.Tensor(ElementType.Float32, new[] { 1, 4 });
        s.Op(OpKind.Neg, NoAttributes.Instance, new Tensor?[] { state }, neg);
        s.Op(OpKind.Add, new ElementwiseAttributes(FusedActivation.None), new Tensor?[] { x, neg }, sum);
        var stateful = s.Build(sum);
        Assert.Same(stateful, ConstantFolding.Apply(stateful));
    }

    private static (Graph Graph, Tensor Weights, byte[] Input) DequantizedWeights(int elements)
    {
        var b = new GraphBuilder();
        var x = b.Input(ElementType.Float32, new[] { 1, elements });
        var stored = b.Constant(ElementType.Int8, new[] { 3, elements }, Enumerable.Range(0, 3 * elements).Select(i => i * 37 % 255 - 127).ToArray(), GraphBuilder.Q(0.05f, 3));
        var weights = b.Tensor(ElementType.Float32, new[] { 3, elements });
        b.Op(OpKind.Dequantize, NoAttributes.Instance, new Tensor?[] { stored }, weights);
        var y = b.Tensor(ElementType.Float32, new[] { 1, 3 });
        b.Op(OpKind.FullyConnected, new FullyConnectedAttributes(FusedActivation.None, false), new Tensor?[] { x, weights, null }, y);
        var input = GraphBuilder.Bytes(ElementType.Float32, Enumerable.Range(0, elements).Select(i => (i % 7 - 3) * 0.37));
        return (b.Build(y), weights, input);
    }
}
