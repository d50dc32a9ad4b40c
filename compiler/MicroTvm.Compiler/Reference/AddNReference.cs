using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>ADD_N as TFLite Micro computes it: float32 0 + x0 + x1 + … in input order; int8 through
/// <see cref="AddNQuantization"/>.</summary>
internal static class AddNReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var output = node.Output;
        if (node.Inputs.Any(t => t!.Type != output.Type)) throw ReferenceErrors.Unsupported(node);
        int count = checked((int)output.ElementCount);
        switch (output.Type)
        {
            case ElementType.Float32:
            {
                var inputs = node.Inputs.Select(t => values.Floats(t!)).ToArray();
                var sum = new float[count];
                for (int i = 0; i < count; i++)
                {
                    float x = 0f;
                    foreach (var input in inputs) x += input[i];
                    sum[i] = x;
                }

                values.SetFloats(output, sum);
                break;
            }
            case ElementType.Int8:
            {
                var q = AddNQuantization.Derive(node);
                var inputs = node.Inputs.Select(t => values.Ints(t!)).ToArray();
                var sum = new int[count];
                for (int i = 0; i < count; i++)
                {
                    int x = q.Scale(0);
                    foreach (var input in inputs) x += q.Scale(input[i]);
                    sum[i] = q.Output(x);
                }

                values.SetInts(output, sum);
                break;
            }
            default:
                throw ReferenceErrors.Unsupported(node);
        }
    }
}

/// <summary>
/// int8 ADD_N (TFLite Micro's add_n.cc): each input, centred on the shared zero point and shifted left by 20, is
/// halved (the multiplier scale / (2·scale)); the sum starts from the centred zero — the scaled offset itself, not 0,
/// as TFLM's loop does — and is scaled by 2·scale / (2^20 · output scale). The int32 sum is proved not to overflow
/// for the operator's input count (MTVM2010 otherwise).
/// </summary>
internal sealed record AddNQuantization(int InputOffset, int InputMultiplier, int InputShift, int OutputOffset, int OutputMultiplier, int OutputShift)
{
    public const int LeftShift = 20;

    public static AddNQuantization Derive(Node node)
    {
        var (input, output) = (node.Input(0), node.Output);
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        double twiceInputScale = 2 * (double)qi.Scale;
        var (mi, si) = MultiplierRange.Multiplier(qi.Scale / twiceInputScale, 0, "input scale / (2 * input scale)", input);
        var (mo, so) = MultiplierRange.Multiplier(twiceInputScale / ((1 << LeftShift) * (double)qo.Scale), 0,
            $"2 * input scale / (2^{LeftShift} * output scale)", input, output);
        var q = new AddNQuantization(-qi.ZeroPoint, mi, si, qo.ZeroPoint, mo, so);
        long largest = Math.Max(Math.Abs((long)sbyte.MinValue - qi.ZeroPoint), Math.Abs((long)sbyte.MaxValue - qi.ZeroPoint));
        long bound = Math.Abs((long)q.Scale(0)) + node.Inputs.Count * Math.Abs((long)q.ScaleCentred((int)largest));
        if (bound > int.MaxValue)
            throw MultiplierRange.OutOfRange(bound, $"the int32 sum bound of {node.Inputs.Count} scaled inputs", "which exceeds 2^31 - 1: the sum could overflow", input);
        return q;
    }

    /// <summary>A stored input value on the common scale.</summary>
    public int Scale(int x) => ScaleCentred(x + InputOffset);

    private int ScaleCentred(int centred) => FixedPoint.MultiplyByQuantizedMultiplier(centred * (1 << LeftShift), InputMultiplier, InputShift);

    /// <summary>The output value of a sum, clamped to int8.</summary>
    public int Output(int sum) => QuantizedRange.Of(ElementType.Int8).Clamp(FixedPoint.MultiplyByQuantizedMultiplier(sum, OutputMultiplier, OutputShift) + OutputOffset);
}
