using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>DIV with TFLite broadcasting and the arithmetic of <see cref="DivReference"/>: float32 and int32 one
/// division per element (int32 without undefined cases), int8 through mtvm_div.h.</summary>
internal sealed class DivKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        if (BroadcastLoops.SameTypeMismatch(node) is { } mismatch) return mismatch;
        return output.Type switch
        {
            ElementType.Float32 or ElementType.Int32 => null,
            ElementType.Int8 => ExpectQuantized(a, "first input", a.Type) ?? ExpectQuantized(b, "second input", a.Type) ?? ExpectQuantized(output, "output", a.Type),
            _ => $"element type {output.Type.DisplayName()} is not supported (float32, int8, int32 are)",
        };
    }

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(inputIndex).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        var activation = node.AttributesAs<ElementwiseAttributes>().Activation;
        var body = c.Body;
        Action<string[], string> element;
        switch (output.Type)
        {
            case ElementType.Float32:
                c.Support.Use("mtvm_minmax");
                element = (x, o) => body.Line($"{o} = {FloatClamp($"{x[0]} / {x[1]}", activation)};");
                break;
            case ElementType.Int32:
            {
                var range = ActivationRange.Int32(activation);
                element = (x, o) =>
                {
                    using (body.Block(""))
                    {
                        body.Line($"const int32_t a = {x[0]}, b = {x[1]};");
                        // x / 0 = 0 and INT32_MIN / -1 = INT32_MIN, as the Cortex-M's SDIV (in C both are undefined).
                        body.Line("int32_t acc = b == 0 ? 0 : b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b;");
                        ClampInt32(body, "acc", range);
                        body.Line($"{o} = acc;");
                    }
                };
                break;
            }
            default:
            {
                c.Support.Use("mtvm_div");
                var q = DivQuantization.Derive(a, b, output, activation);
                element = (x, o) =>
                {
                    using (body.Block(""))
                    {
                        body.Line($"const int32_t v1 = (int32_t){x[0]}{Plus(q.Offset1)}, v2 = (int32_t){x[1]}{Plus(q.Offset2)};");
                        body.Line($"int32_t acc = v2 != 0 ? {CLiteral.Int(q.OutputOffset)} + mtvm_div_scaled(v1, v2, {q.Multiplier}, {q.Shift})");
                        body.Line($"    : v1 > 0 ? {CLiteral.Int(q.Activation.Max)} : v1 < 0 ? {CLiteral.Int(q.Activation.Min)} : {CLiteral.Int(q.OutputOffset)};");
                        Clamp(body, "acc", q.Activation);
                        body.Line($"{o} = (int8_t)acc;");
                    }
                };
                break;
            }
        }

        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { c.Input(0), c.Input(1) }, element);
    }
}
