using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>SHAPE: copies the compile-time shape (a constant table) to the output; the input is not read.</summary>
internal sealed class ShapeKernel : Kernel
{
    public override string? Unsupported(Node node) => node.Output.Type == ElementType.Int32 ? null : "the output must be int32";

    public override void Emit(EmitContext c)
    {
        var values = c.Node.AttributesAs<ShapeAttributes>().Values;
        string table = c.Constants.Int32($"{c.Prefix}_dims", values, $"operator {c.Node.Index}: the shape of {c.Node.Input(0)}");
        if (!c.Node.Input(0).IsConstant) c.Body.Line("(void)in0; /* only its shape, known at compile time, is used */");
        using var loop = c.Body.Block($"for (size_t i = 0; i < {values.Length}; ++i)");
        c.Body.Line($"{c.Output()}[i] = {table}[i];");
    }
}
