using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Moving integer values from one quantization to another (QUANTIZE int→int, and wherever TFLite rescales an
/// operand): out = clamp(MBQM(x - InputZeroPoint, Multiplier, Shift) + OutputZeroPoint), with the real multiplier
/// input_scale/output_scale computed in double.
/// </summary>
public sealed record RequantizeQuantization(int InputZeroPoint, int OutputZeroPoint, int Multiplier, int Shift)
{
    public static RequantizeQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        var (m, s) = MultiplierRange.Multiplier((double)qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        return new RequantizeQuantization(qi.ZeroPoint, qo.ZeroPoint, m, s);
    }

    public int Apply(int x) => unchecked(FixedPoint.MultiplyByQuantizedMultiplier(x - InputZeroPoint, Multiplier, Shift) + OutputZeroPoint);
}
