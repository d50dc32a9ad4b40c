using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// Computes every node's output shape from its input shapes and attributes, with TFLite's rules, and checks it
/// against the shape the model declares. Also checks the attributes shape arithmetic depends on (strides,
/// dilations, axes, permutations), and that no tensor is too large to address with 32-bit sizes.
/// </summary>
public static class ShapeInference
{
    /// <summary>The largest rank the compiler accepts (TFLite kernels stop at 6; a little headroom costs nothing).</summary>
    public const int MaxRank = 8;

    /// <summary>Checks every node of <paramref name="graph"/> (in its execution order).</summary>
    public static void Run(Graph graph)
    {
        foreach (var tensor in graph.Tensors)
            CheckShape(tensor, graph.SourcePath, null);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
                if (input is not null) CheckShape(input, graph.SourcePath, node);
            var inferred = InferOutputShape(node, graph.SourcePath);
            var output = node.Output;
            CheckShape(output, graph.SourcePath, node);
            if (!inferred.AsSpan().SequenceEqual(output.Shape))
                throw Error(ErrorCodes.InvalidShape, graph.SourcePath, node,
                    $"output {output} is declared with shape {Text(output.Shape)}, but its inputs and options give {Text(inferred)}");
        }
    }

    /// <summary>Checks that a shape has non-negative dimensions, a supported rank, and a byte size that fits in an int.</summary>
    public static void CheckShape(Tensor tensor, string? file, Node? node)
    {
        if (tensor.Shape.Length > MaxRank)
            throw Error(ErrorCodes.InvalidShape, file, node, $"{tensor} has rank {tensor.Shape.Length}; at most {MaxRank} is supported");
        long count = 1;
        foreach (int dim in tensor.Shape)
        {
            if (dim < 0)
                throw Error(ErrorCodes.InvalidShape, file, node, $"{tensor} has a negative (dynamic) dimension; only static shapes are supported");
            if (dim == 0)
                throw Error(ErrorCodes.InvalidShape, file, node, $"{tensor} has a zero-sized dimension; empty tensors are not supported");
            count *= dim;
            if (count > int.MaxValue)
                throw Error(ErrorCodes.InvalidShape, file, node, $"tensor t{tensor.Id} '{tensor.Name}' has more than {int.MaxValue} elements (shape overflows)");
        }

        if (count * tensor.Type.SizeInBytes() > int.MaxValue)
            throw Error(ErrorCodes.InvalidShape, file, node, $"tensor t{tensor.Id} '{tensor.Name}' is larger than {int.MaxValue} bytes");
    }

    /// <summary>The shape <paramref name="node"/>'s first output must have.</summary>
    public static int[] InferOutputShape(Node node, string? file = null)
    {
        CompilerException Fail(string code, string message) => Error(code, file, node, message);
        Tensor Input(int i) => i < node.Inputs.Count && node.Inputs[i] is { } t ? t : throw Fail(ErrorCodes.InvalidOperator, $"operand {i} is missing");

        if (node.Outputs.Count != 1)
            throw Fail(ErrorCodes.InvalidOperator, $"has {node.Outputs.Count} outputs, expected 1");

        switch (node.Attributes)
        {
            case ElementwiseAttributes:
                return Broadcast(Input(0).Shape, Input(1).Shape) ?? throw Fail(ErrorCodes.InvalidShape,
                    $"cannot broadcast {Text(Input(0).Shape)} with {Text(Input(1).Shape)}");

            case Conv2DAttributes conv:
            {
                var (input, filter) = (Rank(Input(0), 4, Fail), Rank(Input(1), 4, Fail));
                CheckWindow(conv.StrideH, conv.StrideW, conv.DilationH, conv.DilationW, Fail);
                if (filter[3] != input[3])
                    throw Fail(ErrorCodes.InvalidShape, $"filter {Text(filter)} has {filter[3]} input channels, the input {Text(input)} has {input[3]} (grouped convolution is not supported)");
                CheckBias(node, filter[0], Fail);
                return new[]
                {
                    input[0],
                    Spatial(input[1], filter[1], conv.StrideH, conv.DilationH, conv.Padding, Fail),
                    Spatial(input[2], filter[2], conv.StrideW, conv.DilationW, conv.Padding, Fail),
                    filter[0],
                };
            }

            case DepthwiseConv2DAttributes dw:
            {
                var (input, filter) = (Rank(Input(0), 4, Fail), Rank(Input(1), 4, Fail));
                CheckWindow(dw.StrideH, dw.StrideW, dw.DilationH, dw.DilationW, Fail);
                if (filter[0] != 1)
                    throw Fail(ErrorCodes.InvalidShape, $"depthwise filter {Text(filter)} must have shape [1, height, width, channels]");
                if (dw.DepthMultiplier < 1 || (long)input[3] * dw.DepthMultiplier != filter[3])
                    throw Fail(ErrorCodes.InvalidShape, $"filter {Text(filter)} has {filter[3]} channels, but the input has {input[3]} channels and the depth multiplier is {dw.DepthMultiplier}");
                CheckBias(node, filter[3], Fail);
                return new[]
                {
                    input[0],
                    Spatial(input[1], filter[1], dw.StrideH, dw.DilationH, dw.Padding, Fail),
                    Spatial(input[2], filter[2], dw.StrideW, dw.DilationW, dw.Padding, Fail),
                    filter[3],
                };
            }

            case TransposeConvAttributes tc:
            {
                var (input, filter) = (Rank(Input(0), 4, Fail), Rank(Input(1), 4, Fail));
                CheckWindow(tc.StrideH, tc.StrideW, 1, 1, Fail);
                if (filter[3] != input[3])
                    throw Fail(ErrorCodes.InvalidShape, $"filter {Text(filter)} has {filter[3]} input channels, the input {Text(input)} has {input[3]}");
                var shape = tc.OutputShape;
                if (shape.Length != 4 || shape[0] != input[0] || shape[3] != filter[0] || shape[1] < 1 || shape[2] < 1)
                    throw Fail(ErrorCodes.InvalidShape, $"output shape {Text(shape)} does not fit input {Text(input)} and filter {Text(filter)}");
                CheckBias(node, filter[0], Fail);
                return (int[])shape.Clone();
            }

            case FullyConnectedAttributes fc:
            {
                var input = Input(0).Shape;
                var weights = Rank(Input(1), 2, Fail);
                int units = weights[0], depth = weights[1];
                long count = Input(0).ElementCount;
                if (depth <= 0 || count % depth != 0)
                    throw Fail(ErrorCodes.InvalidShape, $"input {Text(input)} cannot be split into rows of the weights' depth {depth}");
                CheckBias(node, units, Fail);
                if (!fc.KeepNumDims)
                    return new[] { (int)(count / depth), units };
                if (input.Length == 0 || input[^1] != depth)
                    throw Fail(ErrorCodes.InvalidShape, $"with keep_num_dims the input's last dimension must equal the weights' depth {depth}, input is {Text(input)}");
                var result = (int[])input.Clone();
                result[^1] = units;
                return result;
            }

            case Pool2DAttributes pool:
            {
                var input = Rank(Input(0), 4, Fail);
                CheckWindow(pool.StrideH, pool.StrideW, 1, 1, Fail);
                if (pool.FilterH < 1 || pool.FilterW < 1)
                    throw Fail(ErrorCodes.InvalidOperator, $"filter size {pool.FilterH}x{pool.FilterW} must be at least 1x1");
                return new[]
                {
                    input[0],
                    Spatial(input[1], pool.FilterH, pool.StrideH, 1, pool.Padding, Fail),
                    Spatial(input[2], pool.FilterW, pool.StrideW, 1, pool.Padding, Fail),
                    input[3],
                };
            }

            case ReshapeAttributes reshape:
            {
                long count = 1;
                foreach (int dim in reshape.NewShape)
                {
                    if (dim < 0) throw Fail(ErrorCodes.InvalidShape, $"new shape {Text(reshape.NewShape)} has a negative dimension");
                    count = Math.Min(count * dim, (long)int.MaxValue + 1);
                }

                if (reshape.NewShape.Length > MaxRank || count != Input(0).ElementCount)
                    throw Fail(ErrorCodes.InvalidShape, $"cannot reshape {Text(Input(0).Shape)} ({Input(0).ElementCount} elements) to {Text(reshape.NewShape)}");
                return (int[])reshape.NewShape.Clone();
            }

            case SoftmaxAttributes:
                if (Input(0).Rank == 0)
                    throw Fail(ErrorCodes.InvalidShape, $"input {Input(0)} is a scalar; softmax needs at least one dimension");
                return (int[])Input(0).Shape.Clone();

            case LeakyReluAttributes or NoAttributes:
                return (int[])Input(0).Shape.Clone();

            case ConcatenationAttributes concat:
            {
                var first = Input(0).Shape;
                if (concat.Axis < 0 || concat.Axis >= first.Length)
                    throw Fail(ErrorCodes.InvalidOperator, $"axis {concat.Axis} is outside the input rank {first.Length}");
                long total = 0;
                for (int i = 0; i < node.Inputs.Count; i++)
                {
                    var shape = Input(i).Shape;
                    bool compatible = shape.Length == first.Length;
                    for (int d = 0; compatible && d < shape.Length; d++)
                        compatible = d == concat.Axis || shape[d] == first[d];
                    if (!compatible)
                        throw Fail(ErrorCodes.InvalidShape, $"input {i} {Text(shape)} does not match input 0 {Text(first)} outside axis {concat.Axis}");
                    total += shape[concat.Axis];
                }

                var result = (int[])first.Clone();
                result[concat.Axis] = Narrow(total, Fail);
                return result;
            }

            case PadAttributes pad:
            {
                var input = Input(0).Shape;
                if (pad.Before.Length != input.Length || pad.After.Length != input.Length)
                    throw Fail(ErrorCodes.InvalidOperator, $"paddings have {pad.Before.Length} rows, the input {Text(input)} has rank {input.Length}");
                if (node.Kind == OpKind.PadV2 && node.Inputs.Count > 1 && node.Inputs[1] is { } value && value.ElementCount != 1)
                    throw Fail(ErrorCodes.InvalidOperator, $"the padding value {value} must be a single element");
                var result = new int[input.Length];
                for (int d = 0; d < input.Length; d++)
                {
                    if (pad.Before[d] < 0 || pad.After[d] < 0)
                        throw Fail(ErrorCodes.InvalidOperator, $"padding of dimension {d} is negative ({pad.Before[d]}, {pad.After[d]})");
                    result[d] = Narrow((long)input[d] + pad.Before[d] + pad.After[d], Fail);
                }

                return result;
            }

            case MeanAttributes mean:
            {
                var input = Input(0).Shape;
                var result = new List<int>();
                foreach (int axis in mean.Axes)
                    if (axis < 0 || axis >= input.Length)
                        throw Fail(ErrorCodes.InvalidOperator, $"axis {axis} is outside the input rank {input.Length}");
                for (int d = 0; d < input.Length; d++)
                {
                    if (!mean.Axes.Contains(d)) result.Add(input[d]);
                    else if (mean.KeepDims) result.Add(1);
                }

                return result.ToArray();
            }

            case StridedSliceAttributes slice:
                return StridedSliceShape(Input(0).Shape, slice, Fail);

            case TransposeAttributes transpose:
            {
                var input = Input(0).Shape;
                var perm = transpose.Permutation;
                if (perm.Length != input.Length || perm.Any(p => p < 0 || p >= input.Length) || perm.Distinct().Count() != perm.Length)
                    throw Fail(ErrorCodes.InvalidOperator, $"permutation {Text(perm)} is not a permutation of the input's {input.Length} dimensions");
                return perm.Select(p => input[p]).ToArray();
            }

            default:
                throw Fail(ErrorCodes.InvalidOperator, $"has attributes {node.Attributes.GetType().Name}, which shape inference does not know");
        }
    }

    /// <summary>Row-major strides of a shape, in elements.</summary>
    public static long[] RowMajorStrides(int[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }

        return strides;
    }

    /// <summary>Numpy/TFLite broadcasting of two shapes; null when they are incompatible.</summary>
    public static int[]? Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            result[i] = da == 1 ? db : da;
        }

        return result;
    }

    private static int Spatial(int input, int filter, int stride, int dilation, Padding padding, Func<string, string, CompilerException> fail)
    {
        if (filter < 1)
            throw fail(ErrorCodes.InvalidShape, $"filter size {filter} must be at least 1");
        int size = Reference.ConvGeometry.OutputSize(padding, input, filter, stride, dilation);
        if (size < 1)
            throw fail(ErrorCodes.InvalidShape, $"the window ({filter} taps, dilation {dilation}) is larger than the input dimension {input} with VALID padding");
        return size;
    }

    private static void CheckWindow(int strideH, int strideW, int dilationH, int dilationW, Func<string, string, CompilerException> fail)
    {
        if (strideH < 1 || strideW < 1)
            throw fail(ErrorCodes.InvalidOperator, $"strides ({strideH}, {strideW}) must be at least 1");
        if (dilationH < 1 || dilationW < 1)
            throw fail(ErrorCodes.InvalidOperator, $"dilations ({dilationH}, {dilationW}) must be at least 1");
    }

    private static void CheckBias(Node node, int channels, Func<string, string, CompilerException> fail)
    {
        if (node.Bias is { } bias && bias.ElementCount != channels)
            throw fail(ErrorCodes.InvalidShape, $"bias {bias} has {bias.ElementCount} elements, expected one per output channel ({channels})");
    }

    private static int[] Rank(Tensor tensor, int rank, Func<string, string, CompilerException> fail) =>
        tensor.Rank == rank ? tensor.Shape : throw fail(ErrorCodes.InvalidShape, $"{tensor} must have rank {rank}");

    private static int Narrow(long value, Func<string, string, CompilerException> fail) =>
        value <= int.MaxValue ? (int)value : throw fail(ErrorCodes.InvalidShape, $"an output dimension ({value}) overflows");

    private static int[] StridedSliceShape(int[] input, StridedSliceAttributes s, Func<string, string, CompilerException> fail)
    {
        if (s.EllipsisMask != 0 || s.NewAxisMask != 0)
            throw fail(ErrorCodes.InvalidOperator, "ellipsis_mask and new_axis_mask are not supported");
        int rank = input.Length;
        if (s.Begin.Length != rank || s.End.Length != rank || s.Strides.Length != rank)
            throw fail(ErrorCodes.InvalidOperator, $"begin/end/strides have {s.Begin.Length}/{s.End.Length}/{s.Strides.Length} entries, the input has rank {rank}");
        var result = new List<int>();
        for (int d = 0; d < rank; d++)
        {
            var (start, stop, stride) = StridedSliceRange(input, s, d);
            if (stride == 0) throw fail(ErrorCodes.InvalidOperator, $"stride of dimension {d} is 0");
            if ((s.ShrinkAxisMask & (1 << d)) != 0)
            {
                if (start < 0 || start >= input[d])
                    throw fail(ErrorCodes.InvalidOperator, $"shrinks dimension {d} at index {s.Begin[d]}, outside its size {input[d]}");
                continue;
            }

            long size = stride > 0 ? (stop - start + stride - 1) / stride : (start - stop + (-stride) - 1) / -stride;
            result.Add((int)Math.Max(0, size));
        }

        return result.ToArray();
    }

    /// <summary>
    /// TFLite's normalisation of one strided-slice dimension: the first index, the (exclusive) stop and the stride,
    /// with masks, negative indices, offset mode and clamping applied. Shared by shape inference and evaluators.
    /// </summary>
    public static (long Start, long Stop, long Stride) StridedSliceRange(int[] input, StridedSliceAttributes s, int d)
    {
        long dim = input[d];
        long stride = s.Strides[d];
        if (stride == 0) return (0, 0, 0);
        long start;
        if ((s.BeginMask & (1 << d)) != 0)
            start = stride > 0 ? 0 : dim - 1;
        else
        {
            start = s.Begin[d];
            if (start < 0) start += dim;
            start = stride > 0 ? Math.Clamp(start, 0, dim) : Math.Clamp(start, -1, dim - 1);
        }

        long stop;
        if ((s.ShrinkAxisMask & (1 << d)) != 0)
            stop = start + 1;
        else if ((s.EndMask & (1 << d)) != 0)
            stop = stride > 0 ? dim : -1;
        else
        {
            stop = s.Offset ? start + s.End[d] : s.End[d];
            if (!s.Offset && stop < 0) stop += dim;
            stop = stride > 0 ? Math.Clamp(stop, 0, dim) : Math.Clamp(stop, -1, dim - 1);
        }

        return (start, stop, stride);
    }

    private static string Text(int[] shape) => "[" + string.Join(",", shape) + "]";

    private static CompilerException Error(string code, string? file, Node? node, string message) => node is null
        ? new CompilerException(code, message) { File = file }
        : new CompilerException(code, $"{node}: {message}") { File = file, OperatorIndex = node.Index, OperatorName = node.Kind.TfliteName() };
}
