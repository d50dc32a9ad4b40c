using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// BATCH_MATMUL as TensorFlow Lite Micro computes it: out[b, i, j] = Σ_k lhs[b, i, k] · rhs[b, k, j], k ascending, from 0
/// (float32: that order of additions). int8: Σ (lhs - zl)(rhs - zr) in int32, requantized by lhs_scale·rhs_scale/
/// output_scale (double) with the 32-bit multiply; int16 (zero points 0): in int64, with the 64-bit multiply.
/// </summary>
internal static class BatchMatMulReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (lhs, rhs, output) = (node.Input(0), node.Input(1), node.Output);
        if (lhs.Type != rhs.Type || lhs.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var g = BatchMatMulGeometry.Of(lhs.Shape, rhs.Shape, node.AttributesAs<BatchMatMulAttributes>(), out _)!;
        int count = g.LhsBatch.Length * g.Rows * g.Cols;
        if (lhs.Type == ElementType.Float32)
        {
            var (l, r) = (values.Floats(lhs), values.Floats(rhs));
            var y = new float[count];
            g.ForEach((o, lAt, rAt) =>
            {
                float total = 0f;
                for (int k = 0; k < g.Depth; k++) total += l[lAt(k)] * r[rAt(k)];
                y[o] = total;
            });
            values.SetFloats(output, y);
            return;
        }

        var q = BatchMatMulQuantization.Derive(node, g.Depth);
        var (li, ri) = (values.Ints(lhs), values.Ints(rhs));
        var range = QuantizedRange.Of(output.Type);
        var yi = new int[count];
        g.ForEach((o, lAt, rAt) =>
        {
            long total = 0;
            for (int k = 0; k < g.Depth; k++) total += (long)(li[lAt(k)] - q.LhsZeroPoint) * (ri[rAt(k)] - q.RhsZeroPoint);
            int scaled = lhs.Type == ElementType.Int8
                ? FixedPoint.MultiplyByQuantizedMultiplier(checked((int)total), q.Multiplier, q.Shift)
                : FixedPoint.MultiplyByQuantizedMultiplier(total, q.Multiplier, q.Shift);
            yi[o] = range.Clamp(scaled + q.OutputZeroPoint);
        });
        values.SetInts(output, yi);
    }
}

/// <summary>The operands of one BATCH_MATMUL: per output batch the element offsets of its lhs and rhs matrices, and
/// each matrix's element strides (adj_x/adj_y swap them).</summary>
internal sealed record BatchMatMulGeometry(int[] OutputShape, int Rows, int Cols, int Depth, long[] LhsBatch, long[] RhsBatch,
    long LhsRowStride, long LhsDepthStride, long RhsDepthStride, long RhsColStride)
{
    public static BatchMatMulGeometry? Of(int[] lhs, int[] rhs, BatchMatMulAttributes a, out string? problem)
    {
        problem = null;
        int rank = Math.Max(lhs.Length, rhs.Length);
        var le = Enumerable.Repeat(1, rank - lhs.Length).Concat(lhs).ToArray();
        var re = Enumerable.Repeat(1, rank - rhs.Length).Concat(rhs).ToArray();
        int rows = a.AdjX ? le[^1] : le[^2], depth = a.AdjX ? le[^2] : le[^1];
        int rDepth = a.AdjY ? re[^1] : re[^2], cols = a.AdjY ? re[^2] : re[^1];
        if (depth != rDepth)
        {
            problem = $"lhs {ShapeInference.Text(lhs)} and rhs {ShapeInference.Text(rhs)} accumulate over {depth} and {rDepth} values";
            return null;
        }

        var batch = new int[rank - 2];
        for (int d = 0; d < rank - 2; d++)
        {
            if (le[d] != re[d] && le[d] != 1 && re[d] != 1)
            {
                problem = $"batch dimension {d} of lhs {ShapeInference.Text(lhs)} and rhs {ShapeInference.Text(rhs)} do not broadcast";
                return null;
            }

            batch[d] = Math.Max(le[d], re[d]);
        }

        int batches = batch.Aggregate(1, (x, n) => x * n);
        var lb = new long[batches];
        var rb = new long[batches];
        var index = new int[batch.Length];
        for (int b = 0; b < batches; b++)
        {
            long lo = 0, ro = 0, ls = (long)rows * depth, rs = (long)depth * cols;
            for (int d = batch.Length - 1; d >= 0; d--)
            {
                if (le[d] != 1) lo += index[d] * ls;
                if (re[d] != 1) ro += index[d] * rs;
                ls *= le[d];
                rs *= re[d];
            }

            (lb[b], rb[b]) = (lo, ro);
            for (int d = batch.Length - 1; d >= 0; d--)
            {
                if (++index[d] < batch[d]) break;
                index[d] = 0;
            }
        }

        return new BatchMatMulGeometry(batch.Append(rows).Append(cols).ToArray(), rows, cols, depth, lb, rb,
            a.AdjX ? 1 : depth, a.AdjX ? rows : 1, a.AdjY ? 1 : cols, a.AdjY ? depth : 1);
    }

    /// <summary>Every output element in row-major order, with the lhs and rhs element offsets of its k-th product.</summary>
    public void ForEach(Action<int, Func<int, long>, Func<int, long>> element)
    {
        int o = 0;
        for (int b = 0; b < LhsBatch.Length; b++)
            for (int i = 0; i < Rows; i++)
                for (int j = 0; j < Cols; j++)
                {
                    long lBase = LhsBatch[b] + i * LhsRowStride, rBase = RhsBatch[b] + j * RhsColStride;
                    element(o++, k => lBase + k * LhsDepthStride, k => rBase + k * RhsDepthStride);
                }
    }
}

/// <summary>Quantized BATCH_MATMUL's constants. The int8 accumulator is int32: depth · 255 · 255 above 2^31 - 1 could
/// overflow (undefined in C) and is MTVM2010.</summary>
internal sealed record BatchMatMulQuantization(int LhsZeroPoint, int RhsZeroPoint, int OutputZeroPoint, int Multiplier, int Shift)
{
    public static BatchMatMulQuantization Derive(Node node, int depth)
    {
        var (lhs, rhs, output) = (node.Input(0), node.Input(1), node.Output);
        var (ql, qr, qo) = (ConvQuantization.Require(lhs), ConvQuantization.Require(rhs), ConvQuantization.Require(output));
        bool int8 = lhs.Type == ElementType.Int8;
        if (int8 && (long)depth * 255 * 255 > int.MaxValue)
            throw MultiplierRange.OutOfRange((double)depth * 255 * 255, $"the int32 accumulator bound of {depth} products (depth * 255 * 255)", "which exceeds 2^31 - 1: the sum could overflow", lhs, rhs);
        var (m, s) = MultiplierRange.Multiplier((double)ql.Scale * qr.Scale / qo.Scale, int8 ? MultiplierRange.MaxShift : MultiplierRange.MaxShift64,
            "lhs scale * rhs scale / output scale", lhs, rhs, output);
        return new BatchMatMulQuantization(ql.ZeroPoint, qr.ZeroPoint, qo.ZeroPoint, m, s);
    }
}
