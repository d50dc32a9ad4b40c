using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>SQUARED_DIFFERENCE with TFLite broadcasting and the arithmetic of <see cref="SquaredDifferenceReference"/>.</summary>
internal sealed class SquaredDifferenceKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (BroadcastLoops.SameTypeMismatch(node) is { } mismatch) return mismatch;
        return output.Type switch
        {
            ElementType.Float32 or ElementType.Int32 => null,
            ElementType.Int8 or ElementType.Int16 =>
                ExpectQuantized(a, "first input", a.Type) ?? ExpectQuantized(b, "second input", a.Type) ?? ExpectQuantized(output, "output", a.Type),
            _ => $"element type {output.Type.DisplayName()} is not supported (float32, int8, int16, int32 are)",
        };
    }

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        var body = c.Body;
        Action<string[], string> element = output.Type switch
        {
            ElementType.Float32 => (x, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const float d = {x[0]} - {x[1]};");
                    body.Line($"{o} = d * d;");
                }
            },
            ElementType.Int32 => (x, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const uint32_t d = (uint32_t){x[0]} - (uint32_t){x[1]};");
                    body.Line($"{o} = (int32_t)(d * d);");
                }
            },
            _ => Quantized(c),
        };
        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { c.Input(0), c.Input(1) }, element);
    }

    private static Action<string[], string> Quantized(EmitContext c)
    {
        var node = c.Node;
        var body = c.Body;
        c.Support.Use("mtvm_fixed_point");
        var q = SquaredDifferenceQuantization.Derive(node.Input(0), node.Input(1), node.Output);
        string type = node.Output.Type.CType();
        return (x, o) =>
        {
            using (body.Block(""))
            {
                body.Line($"const int32_t a = mtvm_mbqm(((int32_t){x[0]}{Plus(q.Offset1)}) * {1 << q.LeftShift}, {q.Multiplier1}, {q.Shift1});");
                body.Line($"const int32_t b = mtvm_mbqm(((int32_t){x[1]}{Plus(q.Offset2)}) * {1 << q.LeftShift}, {q.Multiplier2}, {q.Shift2});");
                body.Line($"int32_t acc = mtvm_mbqm((a - b) * (a - b), {q.OutputMultiplier}, {q.OutputShift}){Plus(q.OutputOffset)};");
                Clamp(body, "acc", q.Range);
                body.Line($"{o} = ({type})acc;");
            }
        };
    }
}
