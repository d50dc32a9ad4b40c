namespace MicroTvm.Compiler.Reference;

/// <summary>NumPy/TFLite broadcasting: shapes align at the last dimension, size-1 (or missing) dimensions repeat.</summary>
internal static class Broadcast
{
    /// <summary>For every element of <paramref name="outputShape"/> (row-major), the flat index of the input element it reads.</summary>
    public static int[] SourceIndices(int[] inputShape, int[] outputShape)
    {
        int rank = outputShape.Length;
        var inputStrides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int inputDim = d - (rank - inputShape.Length);
            int size = inputDim >= 0 ? inputShape[inputDim] : 1;
            inputStrides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }

        int count = 1;
        foreach (var dim in outputShape) count *= dim;
        var indices = new int[count];
        var position = new int[rank];
        for (int i = 0; i < count; i++)
        {
            int source = 0;
            for (int d = 0; d < rank; d++) source += position[d] * inputStrides[d];
            indices[i] = source;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++position[d] < outputShape[d]) break;
                position[d] = 0;
            }
        }

        return indices;
    }

    /// <summary><paramref name="values"/> (of <paramref name="inputShape"/>) broadcast to <paramref name="outputShape"/>.</summary>
    public static T[] To<T>(T[] values, int[] inputShape, int[] outputShape) =>
        Array.ConvertAll(SourceIndices(inputShape, outputShape), i => values[i]);
}
