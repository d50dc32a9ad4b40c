using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>CAST element by element with the conversions of <see cref="CastReference"/> (float to integer defined for
/// every value, the same on every target). Writes over its input only when both have the same element size.</summary>
internal sealed class CastKernel : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Input(0).ElementCount == node.Output.ElementCount ? null : "input and output must have the same number of elements";

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(0).Type.SizeInBytes() == node.Output.Type.SizeInBytes();

    public override void Emit(EmitContext c)
    {
        var (input, output) = (c.Node.Input(0), c.Node.Output);
        var body = c.Body;
        using var loop = body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)");
        string x = $"{c.Input(0)}[i]";
        if (input.Type == ElementType.Float32 && output.Type != ElementType.Float32)
        {
            body.Line($"const float x = {x};");
            body.Line("const int32_t t = x >= -2147483648.0f && x < 2147483648.0f ? (int32_t)x : INT32_MIN;");
            x = "t";
        }

        body.Line($"{c.Output()}[i] = ({output.Type.CType()}){x};");
    }
}
