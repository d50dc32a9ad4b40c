using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>MEAN over the given axes (sum in input row-major order, then divide).</summary>
internal static class MeanKernel
{
    public static void Mean(Node node, TensorValues values)
    {
        var p = node.AttributesAs<MeanAttributes>();
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16))
            throw Kernels.Unsupported(node);

        // Map each input element to its output element: the reduced axes collapse to index 0.
        int rank = input.Rank;
        var reducedShape = input.Shape.Select((d, i) => p.Axes.Contains(i) ? 1 : d).ToArray();
        var outStrides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            outStrides[d] = stride;
            stride *= reducedShape[d];
        }

        long outputs = stride;
        int count = checked((int)(input.ElementCount / Math.Max(outputs, 1)));
        var target = new long[input.ElementCount];
        var position = new int[rank];
        for (long i = 0; i < input.ElementCount; i++)
        {
            long to = 0;
            for (int d = 0; d < rank; d++) to += (p.Axes.Contains(d) ? 0 : position[d]) * outStrides[d];
            target[i] = to;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++position[d] < input.Shape[d]) break;
                position[d] = 0;
            }
        }

        if (input.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            var sums = new float[outputs];
            for (long i = 0; i < x.Length; i++) sums[target[i]] += x[i];
            for (long o = 0; o < outputs; o++) sums[o] /= count;
            values.SetFloats(output, sums);
            return;
        }

        var xi = values.Ints(input);
        var intSums = new int[outputs];
        for (long i = 0; i < xi.Length; i++) intSums[target[i]] += xi[i];
        var q = MeanQuantization.Derive(input, output, count);
        var range = QuantizedRange.Of(output.Type);
        var result = new int[outputs];
        for (long o = 0; o < outputs; o++)
            result[o] = range.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(intSums[o] - q.InputZeroPoint * count, q.Multiplier, q.Shift) + q.OutputZeroPoint);

        values.SetInts(output, result);
    }
}
