using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>RESHAPE, SQUEEZE, EXPAND_DIMS: the same bytes under another shape. The planner gives the output the
/// input's storage, so no code runs; only when the output is a graph output (the caller's buffer) does the entry
/// point copy the bytes.</summary>
internal sealed class ReshapeKernel : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Input(0).ByteSize == node.Output.ByteSize && node.Input(0).Type == node.Output.Type
            ? null
            : "input and output must have the same element type and element count";

    public override bool IsAlias(Node node) => true;

    public override void Emit(EmitContext context) =>
        throw new InvalidOperationException("aliases have no function; the entry point handles them");
}
