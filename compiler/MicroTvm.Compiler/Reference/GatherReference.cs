using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// GATHER with indices read at run time and GATHER_ND, copying stored values as TensorFlow Lite Micro does. TFLite
/// Micro's release build does not check GATHER's indices (a debug check only: an index outside the axis reads out of
/// bounds); GATHER_ND fails when a slice's flat position falls outside the params. Both fail here (MTVM2070) and in the
/// generated C (the run returns -2) instead of reading out of bounds: GATHER for an index outside [0, axis size),
/// GATHER_ND where TFLite Micro fails.
/// </summary>
internal static class GatherReference
{
    public static void Gather(Node node, TensorValues values)
    {
        var (input, indices, output) = (node.Input(0), node.Input(1), node.Output);
        var g = GatherGeometry.Of(node);
        var index = values.Ints(indices);
        var bytes = values.Bytes(input);
        int size = input.Type.SizeInBytes();
        var result = new byte[output.ByteSize];
        for (long b = 0; b < g.Batches; b++)
            for (long o = 0; o < g.Outer; o++)
                for (long k = 0; k < g.Coordinates; k++)
                {
                    int at = index[b * g.Coordinates + k];
                    if (at < 0 || at >= g.AxisSize)
                        throw OutOfRange(node, $"index {at} (element {b * g.Coordinates + k} of the indices) is outside dimension {node.AttributesAs<IndexedGatherAttributes>().Axis} of size {g.AxisSize}");
                    Array.Copy(bytes, ((b * g.Outer + o) * g.AxisSize + at) * g.Inner * size, result, ((b * g.Outer + o) * g.Coordinates + k) * g.Inner * size, g.Inner * size);
                }

        values.SetBytes(output, result);
    }

    public static void GatherNd(Node node, TensorValues values)
    {
        var (input, indices, output) = (node.Input(0), node.Input(1), node.Output);
        var g = GatherNdGeometry.Of(node);
        var index = values.Ints(indices);
        var bytes = values.Bytes(input);
        int size = input.Type.SizeInBytes();
        var result = new byte[output.ByteSize];
        for (long i = 0; i < g.Slices; i++)
        {
            long from = 0;
            for (int j = 0; j < g.Strides.Length; j++) from += index[i * g.Strides.Length + j] * g.Strides[j];
            if (from < 0 || from + g.SliceSize > input.ElementCount)
                throw OutOfRange(node, $"slice {i} starts at flat position {from}, outside the params' {input.ElementCount} elements");
            Array.Copy(bytes, from * size, result, i * g.SliceSize * size, g.SliceSize * size);
        }

        values.SetBytes(output, result);
    }

    private static CompilerException OutOfRange(Node node, string message) =>
        new(ErrorCodes.IndexOutOfRange, $"{node}: {message} (the generated C returns -2 from its run)") { OperatorIndex = node.Index, OperatorName = node.Kind.Name };
}

/// <summary>Run-time GATHER as [batches, outer, axis, inner] gathering [batches, coordinates] indices.</summary>
internal sealed record GatherGeometry(long Batches, long Outer, int AxisSize, long Inner, long Coordinates)
{
    public static GatherGeometry Of(Node node)
    {
        var a = node.AttributesAs<IndexedGatherAttributes>();
        var (shape, indices) = (node.Input(0).Shape, node.Input(1).Shape);
        long Product(IEnumerable<int> dims) => dims.Aggregate(1L, (x, d) => x * d);
        return new GatherGeometry(Product(shape.Take(a.BatchDims)), Product(shape.Take(a.Axis).Skip(a.BatchDims)), shape[a.Axis],
            Product(shape.Skip(a.Axis + 1)), Product(indices.Skip(a.BatchDims)));
    }
}

/// <summary>GATHER_ND: slices of <see cref="SliceSize"/> elements, each at Σ index_j · stride_j of the params.</summary>
internal sealed record GatherNdGeometry(long Slices, long SliceSize, long[] Strides)
{
    public static GatherNdGeometry Of(Node node)
    {
        var (shape, indices) = (node.Input(0).Shape, node.Input(1).Shape);
        int nd = indices[^1];
        var strides = ShapeInference.RowMajorStrides(shape).Take(nd).ToArray();
        long slices = indices.Take(indices.Length - 1).Aggregate(1L, (x, d) => x * d);
        return new GatherNdGeometry(slices, shape.Skip(nd).Aggregate(1L, (x, d) => x * d), strides);
    }
}
