namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The float functions of the generated C (Codegen/CHelpers/mtvm_float_math.h), operation for operation, so that
/// the evaluator's float results are the generated code's bit for bit rather than the host C library's. Keep the two
/// equal: <c>FloatMathTests</c> compares them.
/// </summary>
internal static class FloatMath
{
    /// <summary>2^e for a normal exponent (-126 ≤ e ≤ 127).</summary>
    private static float Pow2(int e) => BitConverter.Int32BitsToSingle((e + 127) << 23);

    /// <summary>mtvm_exp_f32: x = k ln2 + r, degree-7 polynomial of exp(r), scaled by 2^k (split outside the normal exponents).</summary>
    public static float Exp(float x)
    {
        if (x > 88.7228394f) return Pow2(127) * 2.0f;
        if (x < -104.0f) return 0.0f;
        if (float.IsNaN(x)) return x;
        float k = x * 1.44269504f;
        int ki = (int)(k < 0.0f ? k - 0.5f : k + 0.5f);
        k = ki;
        float r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
        float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (0.0416666667f + r * (0.00833333333f + r * (0.00138888889f + r * 0.000198412698f))))));
        if (ki > 127) return p * Pow2(ki - 1) * 2.0f;
        if (ki < -126) return p * Pow2(ki + 100) * Pow2(-100);
        return p * Pow2(ki);
    }

    /// <summary>mtvm_tanh_f32: (1 - e^-2|x|) / (1 + e^-2|x|), sign restored.</summary>
    public static float Tanh(float x)
    {
        float a = x < 0.0f ? -x : x;
        float t = Exp(-2.0f * a);
        float r = (1.0f - t) / (1.0f + t);
        return x < 0.0f ? -r : r;
    }

    private const uint NanBits = 0x7FC00000u;

    private static uint Bits(float x) => BitConverter.SingleToUInt32Bits(x);

    private static float FromBits(uint u) => BitConverter.UInt32BitsToSingle(u);

    private static double Pow2Double(int e) => BitConverter.Int64BitsToDouble((long)(e + 1023) << 52);

    /// <summary>mtvm_floor_f32: floorf, exact (-0 stays -0).</summary>
    public static float Floor(float x)
    {
        if (!(x > -8388608.0f && x < 8388608.0f) || x == 0.0f) return x;
        float t = (int)x;
        return t > x ? t - 1.0f : t;
    }

    /// <summary>mtvm_ceil_f32: ceilf as -floor(-x).</summary>
    public static float Ceil(float x) => -Floor(-x);

    /// <summary>mtvm_round_half_even_f32: TFLite's ROUND (ties to even, from floor, so -0.3 gives +0).</summary>
    public static float RoundHalfEven(float x)
    {
        float f = Floor(x);
        float d = x - f;
        if (d < 0.5f || (d == 0.5f && ((int)f & 1) == 0)) return f;
        return f + 1.0f;
    }

    /// <summary>mtvm_sqrt_f32: correctly rounded, from the integer square root of the significand.</summary>
    public static float Sqrt(float x)
    {
        uint bits = Bits(x);
        int e = (int)(bits >> 23);
        if (!(x > 0.0f) || x > 3.40282347e38f) return !float.IsNaN(x) && x < 0.0f ? FromBits(NanBits) : x;
        ulong n = bits & 0x7FFFFFu;
        if (e == 0)
        {
            while (n < 0x800000u) { n <<= 1; e--; }
            e++;
        }
        else
        {
            n |= 0x800000u;
        }

        e -= 150;
        if ((e & 1) != 0) { n <<= 1; e--; }
        n <<= 26;
        ulong root = 0, rest = n, bit = 1UL << 50;
        while (bit != 0)
        {
            if (rest >= root + bit) { rest -= root + bit; root = (root >> 1) + bit; }
            else root >>= 1;
            bit >>= 2;
        }

        int shift = root >= 1UL << 25 ? 2 : 1;
        uint q = (uint)(root >> shift);
        uint low = (uint)root & ((1u << shift) - 1u);
        uint half = 1u << (shift - 1);
        if (low > half || (low == half && (rest != 0 || (q & 1u) != 0))) q++;
        return FromBits(unchecked(((uint)((e - 26) / 2 + shift + 150) << 23) + q - 0x800000u));
    }

    private static double Expm1Reduced(double r) =>
        r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * (0.008333333333333333
        + r * (0.001388888888888889 + r * (0.0001984126984126984 + r * (2.48015873015873e-05 + r * (2.7557319223985893e-06
        + r * (2.755731922398589e-07 + r * (2.505210838544172e-08 + r * (2.08767569878681e-09 + r * 1.6059043836821613e-10))))))))))));

    /// <summary>mtvm_expm1_f32: x = k ln2 + r in double, 2^k (1 + expm1(r)) - 1, rounded once.</summary>
    public static float Expm1(float x)
    {
        double d = x;
        if (!(x > -0.346573591f && x < 0.346573591f))
        {
            if (x < -104.0f) return -1.0f;
            if (!(x < 88.7228394f)) return float.IsNaN(x) ? x : Exp(x);
            int k = (int)(d * 1.4426950408889634 + (d < 0.0 ? -0.5 : 0.5));
            double p = Expm1Reduced(d - (double)k * 0.6931471805599453);
            return (float)((1.0 + p) * Pow2Double(k) - 1.0);
        }

        return (float)Expm1Reduced(d);
    }

    /// <summary>mtvm_log_f32: x = 2^k m, log(m) = 2 atanh((m - 1) / (m + 1)) in double, rounded once.</summary>
    public static float Log(float x)
    {
        uint bits = Bits(x);
        int k = 0;
        if (!(x > 0.0f)) return x == 0.0f ? FromBits(0xFF800000u) : float.IsNaN(x) ? x : FromBits(NanBits);
        if (x > 3.40282347e38f) return x;
        if (bits < 0x800000u) { bits = Bits(x * 16777216.0f); k = -24; }
        k += (int)(bits >> 23) - 127;
        double m = FromBits((bits & 0x7FFFFFu) | 0x3F800000u);
        if (m > 1.4142135623730951) { m *= 0.5; k++; }
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        return (float)((double)k * 0.6931471805599453 + 2.0 * s * (1.0 + s2 * (0.3333333333333333 + s2 * (0.2 + s2 * (0.14285714285714285
            + s2 * (0.1111111111111111 + s2 * (0.09090909090909091 + s2 * (0.07692307692307693 + s2 * (0.06666666666666667 + s2 * 0.058823529411764705)))))))));
    }

    /// <summary>2/pi in 32-bit words after a word of zeros (mtvm_two_over_pi).</summary>
    private static readonly uint[] TwoOverPi = { 0x00000000u, 0xA2F9836Eu, 0x4E441529u, 0xFC2757D1u, 0xF534DDC0u, 0xDB629599u, 0x3C439041u, 0xFE5163ABu };

    /// <summary>mtvm_reduce_pio2: |x| = (4n + quadrant + r) pi/2 exactly (Payne-Hanek); returns r pi/2.</summary>
    private static double ReducePio2(float x, out uint quadrant)
    {
        uint bits = Bits(x) & 0x7FFFFFFFu;
        uint m = (bits & 0x7FFFFFu) | 0x800000u;
        uint g = (bits >> 23) - 150 - 1 + 31;
        uint w = g / 32, sh = g % 32;
        Span<uint> word = stackalloc uint[3];
        for (int i = 0; i < 3; i++)
            word[i] = sh == 0 ? TwoOverPi[w + i] : (TwoOverPi[w + i] << (int)sh) | (TwoOverPi[w + i + 1] >> (int)(32 - sh));
        ulong p0 = (ulong)m * word[2];
        ulong p1 = (ulong)m * word[1] + (p0 >> 32);
        uint hi = unchecked(m * word[0] + (uint)(p1 >> 32));
        double f = (double)(hi & 0x3FFFFFFFu) * 9.313225746154785e-10 + (double)(uint)p1 * 2.168404344971009e-19
            + (double)(uint)p0 * 5.048709793414476e-29;
        quadrant = hi >> 30;
        if (f >= 0.5) { f -= 1.0; quadrant = (quadrant + 1u) & 3u; }
        return f * 1.5707963267948966;
    }

    private static double SinReduced(double r)
    {
        double r2 = r * r;
        return r + r * r2 * (-0.16666666666666666 + r2 * (0.008333333333333333 + r2 * (-0.0001984126984126984 + r2 * (2.7557319223985893e-06
            + r2 * (-2.505210838544172e-08 + r2 * (1.6059043836821613e-10 + r2 * -7.647163731819816e-13))))));
    }

    private static double CosReduced(double r)
    {
        double r2 = r * r;
        return 1.0 + r2 * (-0.5 + r2 * (0.041666666666666664 + r2 * (-0.001388888888888889 + r2 * (2.48015873015873e-05
            + r2 * (-2.755731922398589e-07 + r2 * (2.08767569878681e-09 + r2 * (-1.1470745597729725e-11 + r2 * 4.779477332387385e-14)))))));
    }

    /// <summary>mtvm_sin_f32.</summary>
    public static float Sin(float x)
    {
        if (x > -0.785398163f && x < 0.785398163f) return (float)SinReduced(x);
        if (!(x - x == 0.0f)) return float.IsNaN(x) ? x : FromBits(NanBits);
        double r = ReducePio2(x, out uint quadrant);
        double y = (quadrant & 1u) != 0 ? CosReduced(r) : SinReduced(r);
        if (quadrant >= 2u) y = -y;
        return (float)(x < 0.0f ? -y : y);
    }

    /// <summary>mtvm_cos_f32.</summary>
    public static float Cos(float x)
    {
        if (x > -0.785398163f && x < 0.785398163f) return (float)CosReduced(x);
        if (!(x - x == 0.0f)) return float.IsNaN(x) ? x : FromBits(NanBits);
        double r = ReducePio2(x, out uint quadrant);
        double y = (quadrant & 1u) != 0 ? SinReduced(r) : CosReduced(r);
        if (quadrant is 1u or 2u) y = -y;
        return (float)y;
    }
}
