using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// CUMSUM as TensorFlow Lite Micro computes it, along one axis, forward or reversed, inclusive or exclusive. float32:
/// a running sum from 0 in the line's order. int8 (<see cref="CumSumQuantization"/>): each value minus the input zero
/// point is shifted left 20 bits and halved by a fixed-point multiply, added to a running int32 sum, which is
/// requantized to the output; like TFLite Micro the running sum starts from the input's negated zero point treated the
/// same way, not from 0.
/// </summary>
internal static class CumSumReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        var a = node.AttributesAs<CumSumAttributes>();
        var (outer, size, inner) = ArgReference.Lines(input.Shape, a.Axis);
        if (input.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            var y = new float[x.Length];
            ForEachLine(outer, size, inner, a.Reverse, line =>
            {
                float sum = 0f;
                foreach (int i in line)
                {
                    if (a.Exclusive) y[i] = sum;
                    sum += x[i];
                    if (!a.Exclusive) y[i] = sum;
                }
            });
            values.SetFloats(output, y);
            return;
        }

        if (input.Type != ElementType.Int8) throw ReferenceErrors.Unsupported(node);
        var q = CumSumQuantization.Derive(input, output, size);
        var xi = values.Ints(input);
        var yi = new int[xi.Length];
        ForEachLine(outer, size, inner, a.Reverse, line =>
        {
            int sum = q.Start;
            foreach (int i in line)
            {
                int scaled = q.Scale(xi[i]);
                if (a.Exclusive) yi[i] = q.Output(sum);
                sum += scaled;
                if (!a.Exclusive) yi[i] = q.Output(sum);
            }
        });
        values.SetInts(output, yi);
    }

    /// <summary>The element indices of every line along the axis, each in summation order.</summary>
    private static void ForEachLine(int outer, int size, int inner, bool reverse, Action<IEnumerable<int>> line)
    {
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int first = o * size * inner + i;
                line(Enumerable.Range(0, size).Select(k => first + (reverse ? size - 1 - k : k) * inner));
            }
    }
}

/// <summary>
/// int8 CUMSUM's fixed-point constants (TFLite Micro's: a left shift of 20, the input multiplier of 1/2, the output
/// multiplier of 2·input_scale / (2^20·output_scale), both applied with a right shift only). The running int32 sum of
/// a line of <c>size</c> values must stay inside int32 (in C an overflow would be undefined): proved here from the
/// zero point, else MTVM2010.
/// </summary>
internal sealed record CumSumQuantization(int InputZeroPoint, int InputMultiplier, int InputShift, int OutputMultiplier, int OutputShift, int OutputZeroPoint, int Start)
{
    public const int LeftShift = 20;

    public static CumSumQuantization Derive(Tensor input, Tensor output, int size)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        double twiceInputScale = 2 * (double)qi.Scale;
        var (im, ish) = MultiplierRange.Multiplier((double)qi.Scale / twiceInputScale, 0, "input scale / (2 * input scale)", input);
        var (om, osh) = MultiplierRange.Multiplier(twiceInputScale / ((1 << LeftShift) * (double)qo.Scale), 0, "2 * input scale / (2^20 * output scale)", input, output);
        int start = FixedPoint.MultiplyByQuantizedMultiplier(-qi.ZeroPoint * (1 << LeftShift), im, ish);
        var q = new CumSumQuantization(qi.ZeroPoint, im, ish, om, osh, qo.ZeroPoint, start);
        long largest = Enumerable.Range(-128, 256).Max(x => Math.Abs((long)q.Scale(x)));
        long bound = Math.Abs((long)start) + size * largest;
        if (bound > int.MaxValue)
            throw MultiplierRange.OutOfRange(bound, $"the int32 running sum bound of a line of {size} values", "which exceeds 2^31 - 1: the sum could overflow", input, output);
        return q;
    }

    /// <summary>A stored input value as the running sum adds it.</summary>
    public int Scale(int x) => FixedPoint.MultiplyByQuantizedMultiplier((x - InputZeroPoint) * (1 << LeftShift), InputMultiplier, InputShift);

    /// <summary>The output value of a running sum.</summary>
    public int Output(int sum) => Math.Clamp(FixedPoint.MultiplyByQuantizedMultiplier(sum, OutputMultiplier, OutputShift) + OutputZeroPoint, -128, 127);
}
