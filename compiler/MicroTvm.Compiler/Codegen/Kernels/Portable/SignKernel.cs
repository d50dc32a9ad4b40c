using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>NEG (float32): only the sign bit changes, so the result is exact (−0 included).</summary>
internal sealed class SignKernel : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Input(0).Type == ElementType.Float32 && node.Output.Type == ElementType.Float32 ? null : "NEG supports float32 only";

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var body = c.Body;
        c.Support.UseMemcpy();
        using var loop = body.Block($"for (size_t i = 0; i < {c.Node.Output.ElementCount}; ++i)");
        body.Line("uint32_t bits;");
        body.Line($"memcpy(&bits, &{c.Input(0)}[i], sizeof bits);");
        body.Line("bits ^= 0x80000000u;");
        body.Line($"memcpy(&{c.Output()}[i], &bits, sizeof bits);");
    }
}
