using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>CUMSUM (float32, int8) along one axis: one running sum per line, in the order and with the arithmetic of
/// <see cref="CumSumReference"/>.</summary>
internal sealed class CumSumKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        if (input.Type != node.Output.Type) return "input and output must have the same element type";
        if (input.Type == ElementType.Float32) return null;
        if (input.Type != ElementType.Int8) return $"element type {input.Type.DisplayName()} is not supported (float32, int8 are)";
        return ExpectQuantized(input, "input", input.Type) ?? ExpectQuantized(node.Output, "output", input.Type);
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        var a = node.AttributesAs<CumSumAttributes>();
        var (outer, size, inner) = ArgReference.Lines(input.Shape, a.Axis);
        bool isFloat = input.Type == ElementType.Float32;
        var q = isFloat ? null : CumSumQuantization.Derive(input, node.Output, size);
        var body = c.Body;
        using var outerLoop = body.Block($"for (size_t o = 0; o < {outer}; ++o)");
        using var innerLoop = body.Block($"for (size_t i = 0; i < {inner}; ++i)");
        body.Line($"const size_t first = o * {(long)size * inner} + i;");
        body.Line(isFloat ? "float sum = 0.0f;" : $"int32_t sum = {q!.Start};");
        using (body.Block($"for (size_t k = 0; k < {size}; ++k)"))
        {
            body.Line($"const size_t at = first + {(a.Reverse ? $"({size - 1} - k)" : "k")} * {inner};");
            if (isFloat)
            {
                if (a.Exclusive) body.Line($"{c.Output()}[at] = sum;");
                body.Line($"sum += {c.Input(0)}[at];");
                if (!a.Exclusive) body.Line($"{c.Output()}[at] = sum;");
                return;
            }

            c.Support.Use("mtvm_fixed_point");
            body.Line($"const int32_t scaled = mtvm_mbqm((int32_t)((uint32_t)((int32_t){c.Input(0)}[at]{Minus(q!.InputZeroPoint)}) << {CumSumQuantization.LeftShift}), {q.InputMultiplier}, {q.InputShift});");
            if (!a.Exclusive) body.Line("sum += scaled;");
            body.Line($"int32_t y = mtvm_mbqm(sum, {q.OutputMultiplier}, {q.OutputShift}){Plus(q.OutputZeroPoint)};");
            Clamp(body, "y", -128, 127);
            body.Line($"{c.Output()}[at] = (int8_t)y;");
            if (a.Exclusive) body.Line("sum += scaled;");
        }
    }
}
