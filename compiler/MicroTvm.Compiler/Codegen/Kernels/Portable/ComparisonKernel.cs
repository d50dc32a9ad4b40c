using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>The comparisons with TFLite broadcasting, with the arithmetic of <see cref="ComparisonReference"/>: one
/// C comparison per element, int8 operands first brought to a common scale.</summary>
internal sealed class ComparisonKernel(string op) : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (a.Type != b.Type || output.Type != ElementType.Bool) return "both inputs must have the same element type and the output must be bool";
        if (BroadcastLoops.Mismatch(node) is { } mismatch) return mismatch;
        return a.Type switch
        {
            ElementType.Float32 or ElementType.Int32 or ElementType.Int64 or ElementType.Bool => null,
            ElementType.Int8 => ExpectQuantized(a, "first input", a.Type) ?? ExpectQuantized(b, "second input", a.Type),
            _ => $"element type {a.Type.DisplayName()} is not supported",
        };
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        var body = c.Body;
        Action<string[], string> element = (x, o) => body.Line($"{o} = (uint8_t)({x[0]} {op} {x[1]});");
        if (a.Type == ElementType.Int8)
        {
            c.Support.Use("mtvm_fixed_point");
            var q = ComparisonQuantization.Derive(a, b);
            int shift = 1 << ComparisonQuantization.LeftShift;
            element = (x, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const int32_t a = mtvm_mbqm(((int32_t){x[0]}{Plus(q.Offset1)}) * {shift}, {q.Multiplier1}, {q.Shift1});");
                    body.Line($"const int32_t b = mtvm_mbqm(((int32_t){x[1]}{Plus(q.Offset2)}) * {shift}, {q.Multiplier2}, {q.Shift2});");
                    body.Line($"{o} = (uint8_t)(a {op} b);");
                }
            };
        }

        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { c.Input(0), c.Input(1) }, element);
    }
}
