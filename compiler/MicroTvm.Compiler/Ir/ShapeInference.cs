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
            var shapes = InferOutputShapes(node, graph.SourcePath);
            for (int k = 0; k < node.Outputs.Count; k++)
            {
                var (output, inferred) = (node.Outputs[k], shapes[k]);
                CheckShape(output, graph.SourcePath, node);
                if (!inferred.AsSpan().SequenceEqual(output.Shape))
                    throw Error(ErrorCodes.InvalidShape, graph.SourcePath, node,
                        $"output {output} is declared with shape {Text(output.Shape)}, but its inputs and options give {Text(inferred)}");
            }
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

    /// <summary>The shape <paramref name="node"/>'s first output must have (its operator's rule).</summary>
    public static int[] InferOutputShape(Node node, string? file = null) => InferOutputShapes(node, file)[0];

    /// <summary>The shapes every output of <paramref name="node"/> must have.</summary>
    public static int[][] InferOutputShapes(Node node, string? file = null)
    {
        var context = new ShapeContext(node, file);
        if (node.Kind.InferShapes is { } several)
        {
            var shapes = several(context);
            if (shapes.Length != node.Outputs.Count)
                throw context.Fail(ErrorCodes.InvalidOperator, $"has {node.Outputs.Count} outputs; its inputs and options give {shapes.Length}");
            return shapes;
        }

        if (node.Outputs.Count != 1)
            throw context.Fail(ErrorCodes.InvalidOperator, $"has {node.Outputs.Count} outputs, expected 1");
        return new[] { node.Kind.InferShape(context) };
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

    internal static string Text(int[] shape) => "[" + string.Join(",", shape) + "]";

    internal static CompilerException Error(string code, string? file, Node? node, string message) => node is null
        ? new CompilerException(code, message) { File = file }
        : new CompilerException(code, $"{node}: {message}") { File = file, OperatorIndex = node.Index, OperatorName = node.Kind.Name };
}

/// <summary>What an operator's shape rule (<see cref="OpKind"/>) works with: the node, its inputs, the error to
/// throw, and the checks several operators share.</summary>
internal sealed class ShapeContext
{
    private readonly string? _file;

    public ShapeContext(Node node, string? file)
    {
        Node = node;
        _file = file;
    }

    public Node Node { get; }

    public CompilerException Fail(string code, string message) => ShapeInference.Error(code, _file, Node, message);

    /// <summary>Input <paramref name="i"/>, which must be present.</summary>
    public Tensor Input(int i) =>
        i < Node.Inputs.Count && Node.Inputs[i] is { } t ? t : throw Fail(ErrorCodes.InvalidOperator, $"operand {i} is missing");

    public TAttributes Attributes<TAttributes>() where TAttributes : OpAttributes => Node.AttributesAs<TAttributes>();

    /// <summary>The input's shape, which must have rank <paramref name="rank"/>.</summary>
    public int[] Rank(Tensor tensor, int rank) =>
        tensor.Rank == rank ? tensor.Shape : throw Fail(ErrorCodes.InvalidShape, $"{tensor} must have rank {rank}");

    /// <summary>One spatial output dimension of a window operator (<see cref="Reference.ConvGeometry.OutputSize"/>).</summary>
    public int Spatial(int input, int filter, int stride, int dilation, Padding padding)
    {
        if (filter < 1)
            throw Fail(ErrorCodes.InvalidShape, $"filter size {filter} must be at least 1");
        int size = Reference.ConvGeometry.OutputSize(padding, input, filter, stride, dilation);
        if (size < 1)
            throw Fail(ErrorCodes.InvalidShape, $"the window ({filter} taps, dilation {dilation}) is larger than the input dimension {input} with VALID padding");
        return size;
    }

    public void CheckWindow(int strideH, int strideW, int dilationH, int dilationW)
    {
        if (strideH < 1 || strideW < 1)
            throw Fail(ErrorCodes.InvalidOperator, $"strides ({strideH}, {strideW}) must be at least 1");
        if (dilationH < 1 || dilationW < 1)
            throw Fail(ErrorCodes.InvalidOperator, $"dilations ({dilationH}, {dilationW}) must be at least 1");
    }

    /// <summary>The optional bias has one element per output channel.</summary>
    public void CheckBias(int channels)
    {
        if (Node.Bias is { } bias && bias.ElementCount != channels)
            throw Fail(ErrorCodes.InvalidShape, $"bias {bias} has {bias.ElementCount} elements, expected one per output channel ({channels})");
    }

    /// <summary>An output dimension, which must fit in an int.</summary>
    public int Narrow(long value) =>
        value <= int.MaxValue ? (int)value : throw Fail(ErrorCodes.InvalidShape, $"an output dimension ({value}) overflows");

    /// <summary>The first input's shape, unchanged (element-wise operators).</summary>
    public int[] SameAsInput() => (int[])Input(0).Shape.Clone();

    public static string Text(int[] shape) => ShapeInference.Text(shape);
}
