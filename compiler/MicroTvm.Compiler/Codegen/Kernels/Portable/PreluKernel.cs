using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>PRELU with TFLite broadcasting and the arithmetic of <see cref="PreluReference"/>.</summary>
internal sealed class PreluKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (input, alpha, output) = (node.Input(0), node.Input(1), node.Output);
        if (input.Type != output.Type) return "input and output must have the same element type";
        if (BroadcastLoops.Mismatch(node) is { } mismatch) return mismatch;
        return output.Type switch
        {
            ElementType.Float32 => alpha.Type == ElementType.Float32 ? null : "alpha must be float32",
            ElementType.Int8 or ElementType.Int16 => ExpectQuantized(input, "input", output.Type) ?? ExpectQuantized(output, "output", output.Type)
                ?? ExpectQuantized(alpha, "alpha", output.Type == ElementType.Int16 ? ElementType.Int8 : output.Type),
            _ => $"element type {output.Type.DisplayName()} is not supported (float32, int8, int16 are)",
        };
    }

    public override bool CanWriteOver(Node node, int inputIndex) =>
        inputIndex == 0 && node.Input(0).Shape.SequenceEqual(node.Output.Shape);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var (input, alpha, output) = (node.Input(0), node.Input(1), node.Output);
        var body = c.Body;
        Action<string[], string> element;
        if (output.Type == ElementType.Float32)
        {
            element = (v, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const float x = {v[0]};");
                    body.Line($"{o} = x >= 0.0f ? x : x * {v[1]};");
                }
            };
        }
        else
        {
            c.Support.Use("mtvm_fixed_point");
            var q = PreluQuantization.Derive(input, alpha, output);
            element = (v, o) =>
            {
                using (body.Block(""))
                {
                    body.Line($"const int32_t x = (int32_t){v[0]}{Plus(q.InputOffset)};");
                    body.Line($"int32_t acc = (x >= 0 ? mtvm_mbqm(x, {q.Multiplier1}, {q.Shift1})");
                    body.Line($"    : mtvm_mbqm(x * ((int32_t){v[1]}{Plus(q.AlphaOffset)}), {q.Multiplier2}, {q.Shift2})){Plus(q.OutputOffset)};");
                    Clamp(body, "acc", q.Range);
                    body.Line($"{o} = ({output.Type.CType()})acc;");
                }
            };
        }

        BroadcastLoops.For(node).Emit(body, c.Output(), new[] { c.Input(0), c.Input(1) }, element);
    }
}
