namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// TFLite's GetInvSqrtQuantizedMultiplierExp (kernels/internal/common.h): 1/sqrt(x) of a positive integer as a Q31
/// multiplier and a shift, by five Newton-Raphson steps in Q3 fixed point from 1. Inputs 0 and 1 give the largest
/// multiplier and shift 0. Used by RSQRT int8 and L2_NORMALIZATION int8; mtvm_inv_sqrt (mtvm_fixed_point.h) is the
/// same arithmetic in C.
/// </summary>
public static class InverseSqrt
{
    /// <summary>The multiplier and the shift, already negated as TFLite's reverse shift (-1) does.</summary>
    public static (int Multiplier, int Shift) Of(int input)
    {
        if (input <= 1) return (int.MaxValue, 0);
        int shift = 11;
        while (input >= 1 << 29)
        {
            input /= 4;
            shift++;
        }

        int pairs = (FixedPoint.CountLeadingZeros((uint)input) - 1) / 2 - 1;
        shift -= pairs;
        input <<= 2 * pairs;
        // Q3: raw values scaled by 2^28; products of two Q3 numbers are Q6, of three Q9.
        int halfInput = FixedPoint.SaturatingRoundingMultiplyByPOT(input >> 1, -1);
        const int halfThree = (1 << 28) + (1 << 27);
        int x = 1 << 28;
        for (int i = 0; i < 5; i++)
        {
            int cube = FixedPoint.SaturatingRoundingMultiplyByPOT(FixedPoint.SaturatingRoundingDoublingHighMul(FixedPoint.SaturatingRoundingDoublingHighMul(x, x), x), 6);
            int q6 = unchecked(FixedPoint.SaturatingRoundingDoublingHighMul(halfThree, x) - FixedPoint.SaturatingRoundingDoublingHighMul(halfInput, cube));
            x = FixedPoint.SaturatingRoundingMultiplyByPOT(q6, 3);
        }

        int multiplier = FixedPoint.SaturatingRoundingDoublingHighMul(x, 1518500250);   // sqrt(2)/2 in Q0
        if (shift < 0)
        {
            multiplier = unchecked(multiplier << -shift);
            shift = 0;
        }

        return (multiplier, -shift);
    }
}
