using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>BATCH_MATMUL (float32, int8, int16): one dot product per output element over k ascending, from 0, with the
/// arithmetic of <see cref="BatchMatMulReference"/>; the batch offsets of both operands (broadcast batches repeat
/// theirs) are constant tables.</summary>
internal sealed class BatchMatMulKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (lhs, rhs, output) = (node.Input(0), node.Input(1), node.Output);
        if (lhs.Type != rhs.Type || lhs.Type != output.Type) return "lhs, rhs and output must have the same element type";
        if (lhs.Type == ElementType.Float32) return null;
        return ExpectQuantized(lhs, "lhs", lhs.Type) ?? ExpectQuantized(rhs, "rhs", lhs.Type) ?? ExpectQuantized(output, "output", lhs.Type);
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var lhs = node.Input(0);
        var g = BatchMatMulGeometry.Of(lhs.Shape, node.Input(1).Shape, node.AttributesAs<BatchMatMulAttributes>(), out _)!;
        string lb = c.Constants.Int32($"{c.Prefix}_lhs_batch", g.LhsBatch.Select(v => checked((int)v)).ToArray(), $"operator {node.Index}: lhs offset of each output batch");
        string rb = c.Constants.Int32($"{c.Prefix}_rhs_batch", g.RhsBatch.Select(v => checked((int)v)).ToArray(), $"operator {node.Index}: rhs offset of each output batch");
        bool isFloat = lhs.Type == ElementType.Float32, int8 = lhs.Type == ElementType.Int8;
        var q = isFloat ? null : BatchMatMulQuantization.Derive(node, g.Depth);
        var body = c.Body;
        body.Line("size_t o = 0;");
        using var batchLoop = body.Block($"for (size_t b = 0; b < {g.LhsBatch.Length}; ++b)");
        using var rowLoop = body.Block($"for (size_t i = 0; i < {g.Rows}; ++i)");
        using var colLoop = body.Block($"for (size_t j = 0; j < {g.Cols}; ++j)");
        body.Line($"const {lhs.Type.CType()}* l = {c.Input(0)} + (size_t){lb}[b] + i * {g.LhsRowStride};");
        body.Line($"const {lhs.Type.CType()}* r = {c.Input(1)} + (size_t){rb}[b] + j * {g.RhsColStride};");
        string acc = isFloat ? "float" : int8 ? "int32_t" : "int64_t";
        body.Line($"{acc} total = {(isFloat ? "0.0f" : "0")};");
        using (body.Block($"for (size_t k = 0; k < {g.Depth}; ++k)"))
        {
            string left = $"l[k * {g.LhsDepthStride}]", right = $"r[k * {g.RhsDepthStride}]";
            body.Line(isFloat ? $"total += {left} * {right};"
                : int8 ? $"total += ((int32_t){left}{Minus(q!.LhsZeroPoint)}) * ((int32_t){right}{Minus(q.RhsZeroPoint)});"
                : $"total += (int64_t){left} * {right};");
        }

        if (isFloat)
        {
            body.Line($"{c.Output()}[o++] = total;");
            return;
        }

        c.Support.Use("mtvm_fixed_point");
        body.Line($"int32_t y = {(int8 ? "mtvm_mbqm" : "mtvm_mbqm64")}(total, {q!.Multiplier}, {q.Shift}){Plus(q.OutputZeroPoint)};");
        Clamp(body, "y", QuantizedRange.Of(lhs.Type));
        body.Line($"{c.Output()}[o++] = ({lhs.Type.CType()})y;");
    }
}
