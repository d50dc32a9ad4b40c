using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// MEAN, SUM, REDUCE_MAX and REDUCE_MIN as TensorFlow Lite Micro's shared reduce code computes them: the input is read
/// in row-major order and each element is combined into the output element it reduces to (for float32 that fixes the
/// order of the additions). MEAN and SUM accumulate int8/int16 in int32 and requantize (<see cref="MeanQuantization"/>);
/// MAX/MIN start from the type's lowest/highest value (float32: ∓FLT_MAX, so an all -inf input gives -FLT_MAX, as in
/// TFLite Micro) and replace it only when the new value compares greater/less (a NaN never replaces).
/// </summary>
internal static class ReduceReference
{
    public static void Evaluate(Node node, TensorValues values, ReduceOperation operation)
    {
        var p = node.AttributesAs<MeanAttributes>();
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var (target, outputs, count) = Map(input.Shape, p.Axes);
        if (input.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            float start = operation switch { ReduceOperation.Max => float.MinValue, ReduceOperation.Min => float.MaxValue, _ => 0f };
            var y = Enumerable.Repeat(start, outputs).ToArray();
            for (long i = 0; i < x.Length; i++)
            {
                ref float acc = ref y[target[i]];
                acc = operation switch
                {
                    ReduceOperation.Max => x[i] > acc ? x[i] : acc,
                    ReduceOperation.Min => x[i] < acc ? x[i] : acc,
                    _ => acc + x[i],
                };
            }

            if (operation == ReduceOperation.Mean)
                for (int o = 0; o < outputs; o++) y[o] /= count;
            values.SetFloats(output, y);
            return;
        }

        if (input.Type is not (ElementType.Int8 or ElementType.Int16)) throw ReferenceErrors.Unsupported(node);
        var xi = values.Ints(input);
        if (operation is ReduceOperation.Max or ReduceOperation.Min)
        {
            var range = QuantizedRange.Of(input.Type);
            var m = Enumerable.Repeat(operation == ReduceOperation.Max ? range.Min : range.Max, outputs).ToArray();
            for (long i = 0; i < xi.Length; i++)
                m[target[i]] = operation == ReduceOperation.Max ? Math.Max(m[target[i]], xi[i]) : Math.Min(m[target[i]], xi[i]);
            values.SetInts(output, m);
            return;
        }

        var q = operation == ReduceOperation.Mean ? MeanQuantization.Derive(input, output, count) : MeanQuantization.DeriveSum(input, output, count);
        var sums = new int[outputs];
        for (long i = 0; i < xi.Length; i++) sums[target[i]] += xi[i];
        var outputRange = QuantizedRange.Of(output.Type);
        values.SetInts(output, Array.ConvertAll(sums, s => q.Requantize(s, outputRange)));
    }

    /// <summary>For each input element in row-major order, the output element it reduces into (the reduced axes
    /// collapse to index 0); the output count; and how many input elements reduce into each.</summary>
    public static (int[] Target, int Outputs, int Count) Map(int[] shape, int[] axes)
    {
        int rank = shape.Length;
        var outStrides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            outStrides[d] = stride;
            if (!axes.Contains(d)) stride *= shape[d];
        }

        long elements = shape.Aggregate(1L, (a, d) => a * d);
        var target = new int[elements];
        var position = new int[rank];
        for (long i = 0; i < elements; i++)
        {
            int to = 0;
            for (int d = 0; d < rank; d++) to += axes.Contains(d) ? 0 : position[d] * outStrides[d];
            target[i] = to;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++position[d] < shape[d]) break;
                position[d] = 0;
            }
        }

        return (target, stride, checked((int)(elements / Math.Max(stride, 1))));
    }
}
