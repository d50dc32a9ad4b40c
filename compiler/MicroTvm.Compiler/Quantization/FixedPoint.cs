namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// The fixed-point arithmetic of TensorFlow Lite's quantized reference kernels, in one place: the compiler folds
/// multipliers with it, the reference evaluator computes with it, and the generated C mirrors it. Every rule here
/// (rounding of the doubling high multiply, round-half-away in the power-of-two divide, how a real multiplier is
/// split) must match TFLite bit for bit.
/// </summary>
public static class FixedPoint
{
    /// <summary>
    /// Splits a positive real multiplier into a Q31 mantissa in [2^30, 2^31) and a power-of-two exponent, so that
    /// real ≈ multiplier * 2^(shift - 31). Zero maps to (0, 0); exponents below -31 flush to zero.
    /// </summary>
    public static (int Multiplier, int Shift) QuantizeMultiplier(double real)
    {
        if (real == 0.0) return (0, 0);
        int shift = Math.ILogB(real) + 1;                 // frexp: real = q * 2^shift, |q| in [0.5, 1)
        double q = Math.ScaleB(real, -shift);
        long qFixed = (long)Math.Round(q * (1L << 31), MidpointRounding.AwayFromZero);
        if (qFixed == 1L << 31)
        {
            qFixed /= 2;
            shift++;
        }

        if (shift < -31)
        {
            shift = 0;
            qFixed = 0;
        }

        return ((int)qFixed, shift);
    }

    /// <summary>(a * b * 2) / 2^32 rounded to nearest (gemmlowp's nudge: a positive tie rounds up, a negative tie
    /// toward zero), saturating the one overflow case.</summary>
    public static int SaturatingRoundingDoublingHighMul(int a, int b)
    {
        if (a == b && a == int.MinValue) return int.MaxValue;
        long ab = (long)a * b;
        long nudge = ab >= 0 ? 1L << 30 : 1 - (1L << 30);
        return (int)((ab + nudge) / (1L << 31));
    }

    /// <summary>x / 2^exponent rounded to nearest, ties away from zero (arithmetic shift plus a correction).</summary>
    public static int RoundingDivideByPOT(int x, int exponent)
    {
        int mask = (int)((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /// <summary>x * multiplier * 2^(shift - 31) with TFLite's double rounding (int32 accumulators).</summary>
    public static int MultiplyByQuantizedMultiplier(int x, int multiplier, int shift)
    {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(unchecked(x * (1 << leftShift)), multiplier), rightShift);
    }

    /// <summary>
    /// The int64-accumulator variant TFLite uses for 16x8 convolutions: the multiplier is reduced to 16 bits and a
    /// single rounding shift is applied.
    /// </summary>
    public static int MultiplyByQuantizedMultiplier(long x, int multiplier, int shift)
    {
        int reducedMultiplier = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
        int totalShift = 15 - shift;
        long round = 1L << (totalShift - 1);
        long result = (x * reducedMultiplier + round) >> totalShift;
        return (int)result;
    }

    /// <summary>x * multiplier * 2^leftShift for multipliers above one (softmax's input scaling): a saturating
    /// doubling high multiply of the pre-shifted value, with no final right shift.</summary>
    public static int MultiplyByQuantizedMultiplierGreaterThanOne(int x, int multiplier, int leftShift) =>
        SaturatingRoundingDoublingHighMul(unchecked(x * (1 << leftShift)), multiplier);

    /// <summary>x * 2^exponent: a saturating left shift for positive exponents, a rounding divide for negative ones.</summary>
    public static int SaturatingRoundingMultiplyByPOT(int x, int exponent)
    {
        if (exponent == 0) return x;
        if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
        int threshold = (int)((1L << (31 - exponent)) - 1);
        if (x > threshold) return int.MaxValue;
        if (x < -threshold) return int.MinValue;
        return x << exponent;
    }

    /// <summary>(a + b) / 2 rounded half away from zero, without overflow.</summary>
    public static int RoundingHalfSum(int a, int b)
    {
        long sum = (long)a + b;
        long sign = sum >= 0 ? 1 : -1;
        return (int)((sum + sign) / 2);
    }

    /// <summary>Number of leading zero bits of x as a 32-bit unsigned value (32 for zero).</summary>
    public static int CountLeadingZeros(uint x) => System.Numerics.BitOperations.LeadingZeroCount(x);

    // ---- Fixed-point transcendental functions (gemmlowp's Q-format algorithms that TFLite's integer softmax,
    // logistic and tanh use). A "Qk" value is an int32 with k integer bits and 31-k fractional bits; products of
    // Qa and Qb values are Q(a+b), computed with the rounding doubling high multiply.

    private const int OneQ0 = int.MaxValue;        // 1.0 in Q0 saturates to the largest raw value
    private const int OneQ2 = 1 << 29;             // 1.0 in Q2

    /// <summary>exp(a) for a in [-1/4, 0), a and the result in Q0: Taylor series around -1/8 to the fourth order.</summary>
    public static int ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int a)
    {
        const int expMinusOneEighth = 1895147668;   // exp(-1/8) in Q0
        const int oneThird = 715827883;             // 1/3 in Q0
        int x = unchecked(a + (1 << 28));            // x = a + 1/8
        int x2 = SaturatingRoundingDoublingHighMul(x, x);
        int x3 = SaturatingRoundingDoublingHighMul(x2, x);
        int x4 = SaturatingRoundingDoublingHighMul(x2, x2);
        int x4Over4 = SaturatingRoundingMultiplyByPOT(x4, -2);
        int polynomial = SaturatingRoundingMultiplyByPOT(
            unchecked(SaturatingRoundingDoublingHighMul(unchecked(x4Over4 + x3), oneThird) + x2), -1);
        return unchecked(expMinusOneEighth + SaturatingRoundingDoublingHighMul(expMinusOneEighth, unchecked(x + polynomial)));
    }

    /// <summary>
    /// exp(a) for a ≤ 0 given in Q<paramref name="integerBits"/> (0..5), result in Q0: exp of a's remainder modulo
    /// 1/4 by the series, then one multiplication by exp(-2^k) for every set bit k of the rest.
    /// </summary>
    public static int ExpOnNegativeValues(int a, int integerBits)
    {
        if (integerBits < 0 || integerBits > 5) throw new ArgumentOutOfRangeException(nameof(integerBits));
        int fractionalBits = 31 - integerBits;
        int oneQuarter = 1 << (fractionalBits - 2);
        int mask = oneQuarter - 1;
        int aModQuarterMinusOneQuarter = unchecked((a & mask) - oneQuarter);
        int result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
            SaturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, integerBits));
        int remainder = unchecked(aModQuarterMinusOneQuarter - a);

        // exp(-2^k) in Q0 for k = -2..4.
        ReadOnlySpan<int> expOfMinusPowerOfTwo = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];
        for (int k = -2; k <= 4; k++)
        {
            if (integerBits > k && (remainder & (1 << (fractionalBits + k))) != 0)
                result = SaturatingRoundingDoublingHighMul(result, expOfMinusPowerOfTwo[k + 2]);
        }

        return a == 0 ? OneQ0 : result;
    }

    /// <summary>1 / (1 + a) for a in [0, 1] in Q0 (result in Q0): three Newton-Raphson steps on the half denominator.</summary>
    public static int OneOverOnePlusXForXIn01(int a)
    {
        int x = NewtonReciprocalOfHalfDenominator(a, out _);
        return SaturatingRoundingMultiplyByPOT(x, 1);   // x is 1/(1+a) * 2 in Q2; halve it and rescale Q1 → Q0
    }

    /// <summary>(1 - a) / (1 + a) for a in [0, 1] in Q0 (result in Q0).</summary>
    public static int OneMinusXOverOnePlusXForXIn01(int a)
    {
        int x = NewtonReciprocalOfHalfDenominator(a, out _);
        return SaturatingRoundingMultiplyByPOT(unchecked(x - OneQ2), 2);
    }

    /// <summary>Returns x ≈ 1 / halfDenominator in Q2, where halfDenominator = (1 + a) / 2 in Q0.</summary>
    private static int NewtonReciprocalOfHalfDenominator(int a, out int halfDenominator)
    {
        const int fortyEightOverSeventeen = 1515870810;        // 48/17 in Q2
        const int minusThirtyTwoOverSeventeen = -1010580540;   // -32/17 in Q2
        halfDenominator = RoundingHalfSum(a, OneQ0);
        int x = unchecked(fortyEightOverSeventeen + SaturatingRoundingDoublingHighMul(halfDenominator, minusThirtyTwoOverSeventeen));
        for (int i = 0; i < 3; i++)
        {
            int halfDenominatorTimesX = SaturatingRoundingDoublingHighMul(halfDenominator, x);      // Q2
            int oneMinusHalfDenominatorTimesX = unchecked(OneQ2 - halfDenominatorTimesX);           // Q2
            int correction = SaturatingRoundingDoublingHighMul(x, oneMinusHalfDenominatorTimesX);  // Q4
            x = unchecked(x + SaturatingRoundingMultiplyByPOT(correction, 2));                     // Q4 → Q2
        }

        return x;
    }

    /// <summary>
    /// 1 / x for a positive x in Q<paramref name="integerBits"/>, as a Q0 mantissa of 1/(x normalised to [1, 2)) and
    /// the number of bits x had above one (the caller divides by 2^<paramref name="bitsOverUnit"/>).
    /// </summary>
    public static int GetReciprocal(int x, int integerBits, out int bitsOverUnit)
    {
        int headroomPlusOne = CountLeadingZeros((uint)x);
        bitsOverUnit = integerBits - headroomPlusOne;
        int shiftedSumMinusOne = unchecked((int)(((uint)x << headroomPlusOne) - (1u << 31)));
        return OneOverOnePlusXForXIn01(shiftedSumMinusOne);
    }

    /// <summary>logistic(a) for a in Q<paramref name="integerBits"/>, result in Q0.</summary>
    public static int Logistic(int a, int integerBits)
    {
        if (a == 0) return 1 << 30;   // one half
        int absA = a > 0 ? a : unchecked(-a);
        int resultIfPositive = OneOverOnePlusXForXIn01(ExpOnNegativeValues(unchecked(-absA), integerBits));
        return a > 0 ? resultIfPositive : unchecked(OneQ0 - resultIfPositive);
    }

    /// <summary>tanh(a) for a in Q<paramref name="integerBits"/> (at most 4), result in Q0.</summary>
    public static int Tanh(int a, int integerBits)
    {
        if (a == 0) return 0;
        int negativeA = a < 0 ? a : unchecked(-a);
        // The same raw value read with one more integer bit is 2a: tanh(a) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)).
        int t = OneMinusXOverOnePlusXForXIn01(ExpOnNegativeValues(negativeA, integerBits + 1));
        return a < 0 ? unchecked(-t) : t;
    }
}
