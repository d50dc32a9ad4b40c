using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>SELECT_V2 with TFLite broadcasting of its three operands (<see cref="Reference.SelectV2Reference"/>).</summary>
internal sealed class SelectV2Kernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (condition, x, y, output) = (node.Input(0), node.Input(1), node.Input(2), node.Output);
        if (condition.Type != ElementType.Bool || x.Type != y.Type || x.Type != output.Type) return "the condition must be bool and x, y and the output of one element type";
        return BroadcastLoops.Mismatch(node);
    }

    public override bool CanWriteOver(Node node, int inputIndex) =>
        inputIndex > 0 && node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c) =>
        BroadcastLoops.For(c.Node).Emit(c.Body, c.Output(), new[] { c.Input(0), c.Input(1), c.Input(2) },
            (v, o) => c.Body.Line($"{o} = {v[0]} ? {v[1]} : {v[2]};"));
}
