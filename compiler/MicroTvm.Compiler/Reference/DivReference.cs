using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// DIV as TFLite Micro computes it, with broadcasting and the fused activation: float32 a / b; int32 truncating
/// a / b; int8 through a fixed-point reciprocal of the divisor (<see cref="DivQuantization"/>). Where TFLite Micro's
/// result is undefined (it divides by zero, or int32 MIN / -1), ours is what a Cortex-M's SDIV gives for int32
/// (x / 0 = 0, MIN / -1 = MIN), and for int8 the activation's bound by the dividend's sign (0 / 0: the output zero point).
/// </summary>
internal static class DivReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var (a, b, output) = (node.Input(0), node.Input(1), node.Output);
        var activation = node.AttributesAs<ElementwiseAttributes>().Activation;
        if (a.Type != output.Type || b.Type != output.Type) throw ReferenceErrors.Unsupported(node);
        var shape = output.Shape;
        switch (output.Type)
        {
            case ElementType.Float32:
            {
                var range = ActivationRange.Float(activation);
                var (x, y) = (Broadcast.To(values.Floats(a), a.Shape, shape), Broadcast.To(values.Floats(b), b.Shape, shape));
                values.SetFloats(output, Enumerable.Range(0, x.Length).Select(i => range.Clamp(x[i] / y[i])).ToArray());
                break;
            }
            case ElementType.Int32:
            {
                var range = ActivationRange.Int32(activation);
                var (x, y) = (Broadcast.To(values.Ints(a), a.Shape, shape), Broadcast.To(values.Ints(b), b.Shape, shape));
                values.SetInts(output, Enumerable.Range(0, x.Length).Select(i => range.Clamp(TruncatingDivide(x[i], y[i]))).ToArray());
                break;
            }
            case ElementType.Int8:
            {
                var q = DivQuantization.Derive(a, b, output, activation);
                var (x, y) = (Broadcast.To(values.Ints(a), a.Shape, shape), Broadcast.To(values.Ints(b), b.Shape, shape));
                values.SetInts(output, Enumerable.Range(0, x.Length).Select(i => q.Apply(x[i], y[i])).ToArray());
                break;
            }
            default:
                throw ReferenceErrors.Unsupported(node);
        }
    }

    /// <summary>a / b rounded toward zero; x / 0 = 0 and MIN / -1 = MIN, as the Cortex-M's SDIV.</summary>
    public static int TruncatingDivide(int a, int b) => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b;
}

/// <summary>
/// int8 DIV (TFLite Micro's DivElementwise): both operands centred on their zero points, the divisor's sign moved to
/// the dividend, the dividend normalised (its leading sign bits counted), multiplied by the divisor's reciprocal
/// (1/(1+x) in Q0.31 after normalising, gemmlowp's Newton-Raphson), and the quotient scaled by
/// a_scale / (b_scale · out_scale) — computed in float, then widened — with the shifts of both normalisations.
/// </summary>
internal sealed record DivQuantization(int Offset1, int Offset2, int OutputOffset, int Multiplier, int Shift, QuantizedRange Activation)
{
    /// <summary>The output shift must leave a right shift for every pair of operands: the smallest is 23 (a dividend of
    /// magnitude 255, a divisor of 1) minus the shift, so ratios of 2^23 or more are refused (MTVM2010).</summary>
    public const int MaxShift = 23;

    public static DivQuantization Derive(Tensor a, Tensor b, Tensor output, FusedActivation activation)
    {
        var (qa, qb, qo) = (ConvQuantization.Require(a), ConvQuantization.Require(b), ConvQuantization.Require(output));
        float ratio = qa.Scale / (qb.Scale * qo.Scale);
        var (m, s) = MultiplierRange.Multiplier(ratio, MaxShift, "input 1 scale / (input 2 scale * output scale)", a, b, output);
        return new DivQuantization(-qa.ZeroPoint, -qb.ZeroPoint, qo.ZeroPoint, m, s, ActivationRange.Quantized(activation, output));
    }

    public int Apply(int x, int y)
    {
        int v1 = x + Offset1, v2 = y + Offset2;
        if (v2 == 0) return v1 > 0 ? Activation.Max : v1 < 0 ? Activation.Min : Activation.Clamp(OutputOffset);
        if (v2 < 0) (v1, v2) = (-v1, -v2);
        int reciprocal = FixedPoint.GetReciprocal(v2, 31, out int reciprocalShift);
        int headroom = CountLeadingSignBits(v1);
        int quotient = FixedPoint.MultiplyByQuantizedMultiplierGreaterThanOne(v1, reciprocal, headroom);
        int exponent = reciprocalShift + headroom - Shift;
        // A right shift of 32 or more leaves nothing of an int32 (TFLite's shift would be undefined there).
        int scaled = exponent > 31 ? 0 : FixedPoint.RoundingDivideByPOT(FixedPoint.SaturatingRoundingDoublingHighMul(quotient, Multiplier), exponent);
        return Activation.Clamp(OutputOffset + scaled);
    }

    /// <summary>Redundant sign bits below the top bit (31 for 0), as gcc's __builtin_clrsb.</summary>
    public static int CountLeadingSignBits(int x) => FixedPoint.CountLeadingZeros((uint)(x < 0 ? ~x : x)) - 1;
}
