using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>LOGICAL_AND and LOGICAL_OR with TFLite broadcasting, LOGICAL_NOT element by element (<see
/// cref="Reference.LogicalReference"/>): bool bytes in, 0 or 1 out.</summary>
internal sealed class LogicalKernel(string op) : Kernel
{
    public override string? Unsupported(Node node)
    {
        if (node.Inputs.Any(t => t?.Type != ElementType.Bool) || node.Output.Type != ElementType.Bool) return "every operand must be bool";
        return BroadcastLoops.Mismatch(node);
    }

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var inputs = Enumerable.Range(0, node.Inputs.Count).Select(c.Input).ToArray();
        BroadcastLoops.For(node).Emit(c.Body, c.Output(), inputs,
            (x, o) => c.Body.Line(x.Length == 1 ? $"{o} = (uint8_t)({op}{x[0]});" : $"{o} = (uint8_t)({x[0]} {op} {x[1]});"));
    }
}
