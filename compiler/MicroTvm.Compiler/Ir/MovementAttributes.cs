using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>SLICE: <see cref="Size"/> elements from <see cref="Begin"/> in each dimension (size -1 resolved).</summary>
public sealed record SliceAttributes(int[] Begin, int[] Size) : OpAttributes;

/// <summary>SPLIT, SPLIT_V, UNPACK: consecutive pieces of <see cref="Sizes"/> along <see cref="Axis"/>, one per output
/// (UNPACK: pieces of 1, the axis removed from each output's shape).</summary>
public sealed record SplitAttributes(int Axis, int[] Sizes) : OpAttributes;

/// <summary>PACK: the inputs stacked along a new dimension <see cref="Axis"/> of the output.</summary>
public sealed record PackAttributes(int Axis) : OpAttributes;

/// <summary>REVERSE_V2: the order of elements reversed along each of <see cref="Axes"/>.</summary>
public sealed record ReverseAttributes(int[] Axes) : OpAttributes;

/// <summary>BROADCAST_TO: the input broadcast to <see cref="Shape"/> (TFLite's broadcasting rules).</summary>
public sealed record BroadcastToAttributes(int[] Shape) : OpAttributes;

/// <summary>DEPTH_TO_SPACE (<see cref="ToSpace"/>) and SPACE_TO_DEPTH: NHWC blocks of <see cref="BlockSize"/>².</summary>
public sealed record BlockAttributes(int BlockSize, bool ToSpace) : OpAttributes;

/// <summary>GATHER with constant indices: slices <see cref="Indices"/> of dimension <see cref="Axis"/>; the output
/// has the indices' shape <see cref="IndicesShape"/> in place of that dimension.</summary>
public sealed record GatherAttributes(int Axis, int[] Indices, int[] IndicesShape) : OpAttributes;

/// <summary>MIRROR_PAD: REFLECT (edge not repeated) or SYMMETRIC (edge repeated) padding.</summary>
public sealed record MirrorPadAttributes(int[] Before, int[] After, bool Symmetric) : OpAttributes;

/// <summary>SPACE_TO_BATCH_ND (<see cref="ToBatch"/>, padding <see cref="Before"/>/<see cref="After"/>) and
/// BATCH_TO_SPACE_ND (cropping them) on NHWC with a 2-D block (a rank-3 input has W = 1).</summary>
public sealed record SpaceBatchAttributes(int[] Block, int[] Before, int[] After, bool ToBatch) : OpAttributes;

/// <summary>FILL: the output (of <see cref="Shape"/>) filled with the value (the node's one input); ZEROS_LIKE: with zeros.</summary>
public sealed record FillAttributes(int[] Shape, bool Zeros) : OpAttributes;

/// <summary>The strided copies that produce each output of a data-movement node (see <see cref="MoveView"/>).</summary>
internal static class MovementAttributes
{
    public static IReadOnlyList<MovePlan> Plans(Node node)
    {
        var input = node.Input(0);
        var inShape = input.Shape;
        var inStrides = ShapeInference.RowMajorStrides(inShape);
        var output = node.Output;
        var outStrides = ShapeInference.RowMajorStrides(output.Shape);
        MovePlan One(params MoveView[] views) => new(0, null, views);
        MoveView Dense(int inputIndex, int[] counts, long[] strides, long offset) =>
            new(inputIndex, counts, strides, offset, ShapeInference.RowMajorStrides(counts), 0);

        switch (node.Attributes)
        {
            case SliceAttributes s:
                return new[] { One(Dense(0, s.Size, inStrides, s.Begin.Select((b, d) => b * inStrides[d]).Sum())) };

            case SplitAttributes s:
            {
                var plans = new List<MovePlan>();
                int start = 0;
                for (int k = 0; k < s.Sizes.Length; k++)
                {
                    var counts = (int[])inShape.Clone();
                    counts[s.Axis] = s.Sizes[k];
                    plans.Add(new MovePlan(k, null, new[] { Dense(0, counts, inStrides, start * inStrides[s.Axis]) }));
                    start += s.Sizes[k];
                }

                return plans;
            }

            case PackAttributes p:
            {
                var skip = outStrides.Where((_, d) => d != p.Axis).ToArray();
                return new[] { One(node.Inputs.Select((_, k) => new MoveView(k, inShape, inStrides, 0, skip, k * outStrides[p.Axis])).ToArray()) };
            }

            case ReverseAttributes r:
            {
                var strides = inStrides.Select((s, d) => r.Axes.Contains(d) ? -s : s).ToArray();
                long offset = r.Axes.Sum(d => (inShape[d] - 1) * inStrides[d]);
                return new[] { One(Dense(0, inShape, strides, offset)) };
            }

            case BroadcastToAttributes b:
            {
                int extra = b.Shape.Length - inShape.Length;
                var strides = b.Shape.Select((n, d) => d < extra || inShape[d - extra] == 1 ? 0 : inStrides[d - extra]).ToArray();
                return new[] { One(Dense(0, b.Shape, strides, 0)) };
            }

            case BlockAttributes b:
            {
                int s = b.BlockSize;
                if (b.ToSpace)
                {
                    // out[n, h·s + i, w·s + j, c] = in[n, h, w, (i·s + j)·C' + c]: loops n, h, i, w, j, c.
                    int c = output.Shape[3];
                    var counts = new[] { inShape[0], inShape[1], s, inShape[2], s, c };
                    var strides = new[] { inStrides[0], inStrides[1], (long)s * c, inStrides[2], c, 1L };
                    return new[] { One(Dense(0, counts, strides, 0)) };
                }
                else
                {
                    // out[n, h, w, (i·s + j)·C + c] = in[n, h·s + i, w·s + j, c]: loops n, h, w, i, j, c.
                    var counts = new[] { inShape[0], inShape[1] / s, inShape[2] / s, s, s, inShape[3] };
                    var strides = new[] { inStrides[0], s * inStrides[1], s * inStrides[2], inStrides[1], inStrides[2], 1L };
                    return new[] { One(Dense(0, counts, strides, 0)) };
                }
            }

            case GatherAttributes g:
            {
                long outer = inShape.Take(g.Axis).Aggregate(1L, (a, n) => a * n);
                long inner = inShape.Skip(g.Axis + 1).Aggregate(1L, (a, n) => a * n);
                int count = g.Indices.Length;
                var views = g.Indices.Select((index, j) => new MoveView(0, new[] { (int)outer, (int)inner },
                    new[] { inShape[g.Axis] * inner, 1L }, index * inner, new[] { count * inner, 1L }, j * inner)).ToArray();
                return new[] { One(views) };
            }

            case MirrorPadAttributes m:
                return new[] { One(MirrorPadViews(m, inShape, inStrides, outStrides).ToArray()) };

            case SpaceBatchAttributes sb:
                return new[] { new MovePlan(0, sb.ToBatch ? new byte[output.Type.SizeInBytes()] : null, SpaceBatchViews(sb, inShape, output.Shape).ToArray()) };

            case FillAttributes f:
                return f.Zeros
                    ? new[] { new MovePlan(0, new byte[output.Type.SizeInBytes()], Array.Empty<MoveView>()) }
                    : new[] { One(Dense(0, f.Shape, new long[f.Shape.Length], 0)) };

            default:
                throw new InvalidOperationException($"{node} is not a data-movement operator");
        }
    }

    /// <summary>Each dimension splits into mirrored-before, middle and mirrored-after pieces; every combination of
    /// pieces is one box, mirrored pieces read backwards.</summary>
    private static IEnumerable<MoveView> MirrorPadViews(MirrorPadAttributes m, int[] inShape, long[] inStrides, long[] outStrides)
    {
        int rank = inShape.Length;
        int edge = m.Symmetric ? 0 : 1;
        var pieces = Enumerable.Range(0, rank).Select(d =>
        {
            int n = inShape[d];
            // (count, first input index, step, first output index)
            return new[]
            {
                (m.Before[d], m.Before[d] - 1 + edge, -1, 0),
                (n, 0, 1, m.Before[d]),
                (m.After[d], n - 1 - edge, -1, m.Before[d] + n),
            }.Where(p => p.Item1 > 0).ToArray();
        }).ToArray();
        var choice = new int[rank];
        while (true)
        {
            var counts = new int[rank];
            var from = new long[rank];
            long inOffset = 0, outOffset = 0;
            for (int d = 0; d < rank; d++)
            {
                var (count, first, step, at) = pieces[d][choice[d]];
                counts[d] = count;
                from[d] = step * inStrides[d];
                inOffset += first * inStrides[d];
                outOffset += at * outStrides[d];
            }

            yield return new MoveView(0, counts, from, inOffset, outStrides, outOffset);
            int k = rank - 1;
            while (k >= 0 && ++choice[k] == pieces[k].Length) choice[k--] = 0;
            if (k < 0) yield break;
        }
    }

    /// <summary>
    /// SPACE_TO_BATCH_ND: output batch (sh·bw + sw)·N + n holds input rows h·bh + sh − top and columns
    /// w·bw + sw − left where those exist (the rest stays padding); BATCH_TO_SPACE_ND is the inverse with crops.
    /// </summary>
    private static IEnumerable<MoveView> SpaceBatchViews(SpaceBatchAttributes a, int[] inShape, int[] outShape)
    {
        // A rank-3 tensor is NHC: W = 1 with block width 1.
        int[] Nhwc(int[] s) => s.Length == 3 ? new[] { s[0], s[1], 1, s[2] } : s;
        var (space, batch) = a.ToBatch ? (Nhwc(inShape), Nhwc(outShape)) : (Nhwc(outShape), Nhwc(inShape));
        int bh = a.Block[0], bw = a.Block.Length > 1 ? a.Block[1] : 1;
        int top = a.Before[0], left = a.Before.Length > 1 ? a.Before[1] : 0;
        int n = space[0], c = space[3];
        var spaceStrides = ShapeInference.RowMajorStrides(space);
        var batchStrides = ShapeInference.RowMajorStrides(batch);
        static (int First, int Count) Range(int shift, int block, int offset, int batchSize, int spaceSize)
        {
            // batch index b maps to space index b·block + shift − offset; keep those inside [0, spaceSize).
            int first = Math.Max(0, (offset - shift + block - 1) / block);
            if (offset - shift < 0) first = 0;
            int last = Math.Min(batchSize - 1, (spaceSize - 1 + offset - shift) / block);
            if (spaceSize - 1 + offset - shift < 0) last = -1;
            return (first, Math.Max(0, last - first + 1));
        }

        for (int sh = 0; sh < bh; sh++)
        for (int sw = 0; sw < bw; sw++)
        for (int b = 0; b < n; b++)
        {
            int batchIndex = (sh * bw + sw) * n + b;
            var (h0, hn) = Range(sh, bh, top, batch[1], space[1]);
            var (w0, wn) = Range(sw, bw, left, batch[2], space[2]);
            if (hn == 0 || wn == 0) continue;
            long batchOffset = batchIndex * batchStrides[0] + h0 * batchStrides[1] + w0 * batchStrides[2];
            long spaceOffset = b * spaceStrides[0] + (h0 * bh + sh - top) * spaceStrides[1] + (w0 * bw + sw - left) * spaceStrides[2];
            var counts = new[] { hn, wn, c };
            var batchStep = new[] { batchStrides[1], batchStrides[2], 1L };
            var spaceStep = new[] { bh * spaceStrides[1], bw * spaceStrides[2], 1L };
            yield return a.ToBatch
                ? new MoveView(0, counts, spaceStep, spaceOffset, batchStep, batchOffset)
                : new MoveView(0, counts, batchStep, batchOffset, spaceStep, spaceOffset);
        }
    }
}
