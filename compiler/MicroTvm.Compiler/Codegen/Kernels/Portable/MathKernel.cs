using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The element-wise math operators (<see cref="MathReference"/>): float32 with mtvm_float_math.h's functions, the ones
/// the evaluator mirrors; int8 (RSQRT, ELU) as a 256-entry table the evaluator computes. May write over its input.
/// </summary>
internal sealed class MathKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.ElementCount != output.ElementCount) return "input and output must have the same type and size";
        if (input.Type == ElementType.Float32) return null;
        if (input.Type == ElementType.Int8 && node.Kind.Types.Contains(ElementType.Int8))
            return ExpectQuantized(input, "input", input.Type) ?? ExpectQuantized(output, "output", input.Type);
        return $"element type {input.Type.DisplayName()} is not supported ({node.Kind.TypesText} is)";
    }

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        if (c.Node.Input(0).Type == ElementType.Int8)
        {
            UnaryKernel.EmitTable(c);
            return;
        }

        var kind = c.Node.Kind;
        string value =
            kind == OpKind.Square ? "x * x"
            : kind == OpKind.Rsqrt ? "1.0f / mtvm_sqrt_f32(x)"
            : kind == OpKind.Elu ? "x < 0.0f ? mtvm_expm1_f32(x) : x"
            : $"{FloatFunction(kind)}(x)";
        if (kind != OpKind.Square) c.Support.Use("mtvm_float_math");
        var body = c.Body;
        using var loop = body.Block($"for (size_t i = 0; i < {c.Node.Output.ElementCount}; ++i)");
        body.Line($"const float x = {c.Input(0)}[i];");
        body.Line($"{c.Output()}[i] = {value};");
    }

    private static string FloatFunction(OpKind kind) =>
        kind == OpKind.Exp ? "mtvm_exp_f32"
        : kind == OpKind.Log ? "mtvm_log_f32"
        : kind == OpKind.Sqrt ? "mtvm_sqrt_f32"
        : kind == OpKind.Sin ? "mtvm_sin_f32"
        : kind == OpKind.Cos ? "mtvm_cos_f32"
        : kind == OpKind.Floor ? "mtvm_floor_f32"
        : kind == OpKind.Ceil ? "mtvm_ceil_f32"
        : kind == OpKind.Round ? "mtvm_round_half_even_f32"
        : throw new ArgumentOutOfRangeException(nameof(kind), kind.Name, "not an element-wise math operator");
}
