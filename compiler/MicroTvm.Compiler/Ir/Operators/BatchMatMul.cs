using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>BATCH_MATMUL (float32, int8, int16 symmetric as everywhere): [lhs, rhs], both of rank 2 to 5, batch dimensions
/// broadcast, adj_x/adj_y transposing the last two dimensions of lhs/rhs.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind BatchMatMul = new()
    {
        Name = "BATCH_MATMUL", BuiltinCode = 126,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(101 /* BatchMatMulOptions */);
            var (lhs, rhs) = (r.Required(0, "lhs"), r.Required(1, "rhs"));
            if (lhs.Rank is < 2 or > 5 || rhs.Rank is < 2 or > 5)
                throw r.Error(ErrorCodes.InvalidOperator, $"lhs {lhs} and rhs {rhs} must have rank 2 to 5");
            return (new BatchMatMulAttributes(o?.Bool(0) ?? false, o?.Bool(1) ?? false), new Tensor?[] { lhs, rhs });
        },
        InferShape = s =>
        {
            var g = BatchMatMulGeometry.Of(s.Input(0).Shape, s.Input(1).Shape, s.Attributes<BatchMatMulAttributes>(), out var problem);
            if (problem is not null) throw s.Fail(ErrorCodes.InvalidShape, problem);
            return g!.OutputShape;
        },
        Macs = node =>
        {
            var g = BatchMatMulGeometry.Of(node.Input(0).Shape, node.Input(1).Shape, node.AttributesAs<BatchMatMulAttributes>(), out _)!;
            return (long)g.LhsBatch.Length * g.Rows * g.Cols * g.Depth;
        },
        Evaluate = BatchMatMulReference.Evaluate,
        Kernel = new BatchMatMulKernel(),
    };
}

/// <summary>BATCH_MATMUL. Inputs: [lhs, rhs].</summary>
public sealed record BatchMatMulAttributes(bool AdjX, bool AdjY) : OpAttributes
{
    public override string Describe() => AttributeText.Join(AdjX ? "adj_x" : "", AdjY ? "adj_y" : "");
}
