using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>SOFTMAX over the last dimension: int8 in, int8 out (scale 1/256, zero point -128), TFLite's fixed-point
/// exponential.</summary>
internal sealed class SoftmaxKernel : Kernel
{
    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.Softmax };

    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (input.Type == ElementType.Int8)
        {
            if (ExpectQuantized(input, "input", ElementType.Int8) is { } e1) return e1;
            if (ExpectQuantized(output, "output", ElementType.Int8) is { } e2) return e2;
            if (output.Quantization!.Scale != 1f / 256 || output.Quantization.ZeroPoint != -128)
                return "int8 output must have scale 1/256 and zero point -128";
            return null;
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8 is)";
    }

    /// <summary>Each row is read completely (for its maximum and sum) before its first output is written, and the
    /// final pass reads element c before writing element c.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) => inputIndex == 0;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        int depth = input.Shape[^1];
        long rows = input.ElementCount / Math.Max(1, depth);
        var q = SoftmaxQuantization.Derive(input, node.AttributesAs<SoftmaxAttributes>().Beta);
        c.Support.Use("softmax_int8");
        using (c.Body.Block($"for (int r = 0; r < {rows}; ++r)"))
            c.Body.Line($"softmax_int8_row({c.Input(0)} + (size_t)r * {depth}, {c.Output()} + (size_t)r * {depth}, {depth}, {q.InputMultiplier}, {q.InputLeftShift}, {q.DiffMin});");
    }
}
