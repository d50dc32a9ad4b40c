using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>ABS, element by element with the arithmetic of <see cref="AbsReference"/>; may write over its input.</summary>
internal sealed class AbsKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.ElementCount != output.ElementCount) return "input and output must have the same type and size";
        return input.Type switch
        {
            ElementType.Float32 => null,
            ElementType.Int8 or ElementType.Int16 => ExpectQuantized(input, "input", input.Type) ?? ExpectQuantized(output, "output", input.Type),
            _ => $"element type {input.Type.DisplayName()} is not supported (float32, int8, int16 are)",
        };
    }

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var (input, output) = (c.Node.Input(0), c.Node.Output);
        var body = c.Body;
        using var loop = body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)");
        if (input.Type == ElementType.Float32)
        {
            // 0.0f - x, not -x: fabsf(-0.0f) is +0.0f.
            body.Line($"const float x = {c.Input(0)}[i];");
            body.Line($"{c.Output()}[i] = x <= 0.0f ? 0.0f - x : x;");
            return;
        }

        var q = AbsQuantization.Derive(input, output);
        body.Line($"const int32_t centred = (int32_t){c.Input(0)}[i] - {CLiteral.Int(q.InputZeroPoint)};");
        body.Line("const int32_t magnitude = centred < 0 ? -centred : centred;");
        if (q.Rescales)
        {
            c.Support.Use("mtvm_fixed_point");
            body.Line($"int32_t y = {CLiteral.Int(q.OutputZeroPoint)} + mtvm_mbqm(magnitude, {q.Multiplier}, {q.Shift});");
        }
        else
        {
            body.Line($"int32_t y = {CLiteral.Int(q.OutputZeroPoint)} + magnitude;");
        }

        Clamp(body, "y", QuantizedRange.Of(output.Type));
        body.Line($"{c.Output()}[i] = ({(output.Type == ElementType.Int8 ? "int8_t" : "int16_t")})y;");
    }
}
