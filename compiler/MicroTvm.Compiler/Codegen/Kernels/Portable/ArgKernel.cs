using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>ARG_MAX/ARG_MIN (float32, int8 → int32): one pass along the axis per output element, the comparison of
/// <see cref="ArgReference"/> (a float NaN is x != x).</summary>
internal sealed class ArgKernel(bool max) : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Input(0).Type is ElementType.Float32 or ElementType.Int8 && node.Output.Type == ElementType.Int32 ? null : "float32 or int8 input and int32 output are supported";

    public override void Emit(EmitContext c)
    {
        var input = c.Node.Input(0);
        var (outer, size, inner) = ArgReference.Lines(input.Shape, c.Node.AttributesAs<ArgAttributes>().Axis);
        string type = input.Type.CType(), x = c.Input(0), op = max ? ">" : "<";
        var body = c.Body;
        using var outerLoop = body.Block($"for (size_t o = 0; o < {outer}; ++o)");
        using var innerLoop = body.Block($"for (size_t i = 0; i < {inner}; ++i)");
        body.Line($"const {type}* line = {x} + o * {(long)size * inner} + i;");
        body.Line("int32_t best = 0;");
        body.Line($"{type} best_value = line[0];");
        using (body.Block($"for (int32_t k = 1; k < {size}; ++k)"))
        {
            body.Line($"const {type} candidate = line[(size_t)k * {inner}];");
            string better = input.Type == ElementType.Float32
                ? $"candidate == candidate && (best_value != best_value || candidate {op} best_value)"
                : $"candidate {op} best_value";
            using (body.Block($"if ({better})"))
            {
                body.Line("best = k;");
                body.Line("best_value = candidate;");
            }
        }

        body.Line($"{c.Output()}[o * {inner} + i] = best;");
    }
}
