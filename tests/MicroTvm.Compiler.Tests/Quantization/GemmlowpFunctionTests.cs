using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Tests.Quantization;

/// <summary>
/// The fixed-point transcendental functions against double-precision math: bit-exactness with TFLite is shown by the
/// whole-model tests (int8 SOFTMAX uses every one of them); these pin down their accuracy and edge cases.
/// </summary>
public class GemmlowpFunctionTests
{
    private const double Q31 = 2147483648.0;

    [Fact]
    public void ExpOnNegativeValues_is_accurate_to_a_few_ulps_of_Q0()
    {
        for (int integerBits = 0; integerBits <= 5; integerBits++)
        {
            var random = new Random(integerBits);
            for (int i = 0; i < 2000; i++)
            {
                int a = -random.Next(0, int.MaxValue);
                double x = a / Math.Pow(2, 31 - integerBits);
                double expected = Math.Exp(x) * Q31;
                Assert.True(Math.Abs(FixedPoint.ExpOnNegativeValues(a, integerBits) - expected) < 1e-6 * Q31,
                    $"exp({x}) with {integerBits} integer bits");
            }
        }

        Assert.Equal(int.MaxValue, FixedPoint.ExpOnNegativeValues(0, 5));
    }

    [Fact]
    public void OneOverOnePlusX_and_OneMinusXOverOnePlusX_are_accurate()
    {
        var random = new Random(2);
        for (int i = 0; i < 2000; i++)
        {
            int a = random.Next(0, int.MaxValue);
            double x = a / Q31;
            Assert.True(Math.Abs(FixedPoint.OneOverOnePlusXForXIn01(a) - Q31 / (1 + x)) < 1e-7 * Q31, $"1/(1+{x})");
            Assert.True(Math.Abs(FixedPoint.OneMinusXOverOnePlusXForXIn01(a) - Q31 * (1 - x) / (1 + x)) < 1e-7 * Q31, $"(1-x)/(1+x), x={x}");
        }
    }

    [Fact]
    public void GetReciprocal_normalises_and_inverts()
    {
        foreach (int x in new[] { 1 << 19, 3 << 19, 10 << 19, 123456789, int.MaxValue })
        {
            int mantissa = FixedPoint.GetReciprocal(x, 12, out int bitsOverUnit);
            double reciprocal = mantissa / Q31 / Math.Pow(2, bitsOverUnit);   // Q12.19 input: value = x / 2^19
            Assert.True(Math.Abs(reciprocal - Math.Pow(2, 19) / x) < 1e-6 * Math.Pow(2, 19) / x, $"1/{x / Math.Pow(2, 19)}");
        }
    }

    [Fact]
    public void Logistic_and_Tanh_in_Q4_are_accurate_and_symmetric()
    {
        var random = new Random(4);
        for (int i = 0; i < 2000; i++)
        {
            int a = random.Next(int.MinValue + 1, int.MaxValue);
            double x = a / Math.Pow(2, 27);
            Assert.True(Math.Abs(FixedPoint.Logistic(a, 4) - Q31 / (1 + Math.Exp(-x))) < 1e-6 * Q31, $"logistic({x})");
            Assert.True(Math.Abs(FixedPoint.Tanh(a, 4) - Q31 * Math.Tanh(x)) < 2e-6 * Q31, $"tanh({x})");
            Assert.Equal(-FixedPoint.Tanh(a, 4), FixedPoint.Tanh(-a, 4));
        }

        Assert.Equal(1 << 30, FixedPoint.Logistic(0, 4));
        Assert.Equal(0, FixedPoint.Tanh(0, 4));
    }

    [Theory]
    [InlineData(5 << 28, 3, int.MaxValue)]      // saturates: 5·2^31 > 2^31 - 1
    [InlineData(-5, 29, int.MinValue)]
    [InlineData(3, 4, 48)]
    [InlineData(6, -2, 2)]                      // 1.5 → 2 (a rounding right shift)
    public void SaturatingRoundingMultiplyByPOT(int x, int exponent, int expected)
    {
        Assert.Equal(expected, FixedPoint.SaturatingRoundingMultiplyByPOT(x, exponent));
    }

    [Theory]
    [InlineData(1, 2, 2)]          // 1.5 → 2
    [InlineData(-1, -2, -2)]       // -1.5 → -2
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    public void RoundingHalfSum_rounds_half_away_from_zero(int a, int b, int expected)
    {
        Assert.Equal(expected, FixedPoint.RoundingHalfSum(a, b));
    }
}
