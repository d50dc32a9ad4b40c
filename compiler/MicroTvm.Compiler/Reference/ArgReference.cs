using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// ARG_MAX/ARG_MIN as TensorFlow Lite Micro computes them: along the axis the first index holding the greatest (least)
/// value wins; for float32 a NaN never replaces a number and a number always replaces a NaN (an all-NaN line gives 0).
/// int8 compares stored values (no quantization is involved).
/// </summary>
internal static class ArgReference
{
    public static void Evaluate(Node node, TensorValues values, bool max)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (output.Type != ElementType.Int32 || input.Type is not (ElementType.Float32 or ElementType.Int8)) throw ReferenceErrors.Unsupported(node);
        var (outer, size, inner) = Lines(input.Shape, node.AttributesAs<ArgAttributes>().Axis);
        var x = input.Type == ElementType.Float32 ? values.Floats(input) : Array.ConvertAll(values.Ints(input), v => (float)v);
        var result = new int[outer * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bestValue = x[o * size * inner + i];
                for (int k = 1; k < size; k++)
                {
                    float candidate = x[(o * size + k) * inner + i];
                    if (!float.IsNaN(candidate) && (float.IsNaN(bestValue) || (max ? candidate > bestValue : candidate < bestValue)))
                        (best, bestValue) = (k, candidate);
                }

                result[o * inner + i] = best;
            }
        }

        values.SetInts(output, result);
    }

    /// <summary>A shape seen as [outer, size, inner] around <paramref name="axis"/>.</summary>
    public static (int Outer, int Size, int Inner) Lines(int[] shape, int axis) =>
        (shape.Take(axis).Aggregate(1, (a, d) => a * d), shape[axis], shape.Skip(axis + 1).Aggregate(1, (a, d) => a * d));
}
