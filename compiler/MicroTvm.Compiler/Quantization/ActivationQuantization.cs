using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>Quantized RELU: out = clamp(MBQM(x - InputZeroPoint, Multiplier, Shift) + OutputZeroPoint, Range).</summary>
public sealed record ReluQuantization(int InputZeroPoint, int OutputZeroPoint, int Multiplier, int Shift, QuantizedRange Range)
{
    public static ReluQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        var (m, s) = MultiplierRange.Multiplier((double)qi.Scale / qo.Scale, MultiplierRange.MaxShift, "input scale / output scale", input, output);
        var full = QuantizedRange.Of(output.Type);
        // The lower bound is the output's quantized 0 (round(0 / scale) is 0); there is no upper bound.
        return new ReluQuantization(qi.ZeroPoint, qo.ZeroPoint, m, s, new QuantizedRange(Math.Max(full.Min, qo.ZeroPoint), full.Max));
    }
}

/// <summary>Quantized RELU6: a clamp of the stored values to the input's quantized 0 and 6 (no rescaling).</summary>
public sealed record Relu6Quantization(int Zero, int Six)
{
    public static Relu6Quantization Derive(Tensor input)
    {
        var q = ConvQuantization.Require(input);
        var range = QuantizedRange.Of(input.Type);
        int six = range.Clamp((int)MathF.Round(6f / q.Scale, MidpointRounding.AwayFromZero) + q.ZeroPoint);
        return new Relu6Quantization(q.ZeroPoint, six);
    }
}

/// <summary>
/// Quantized LEAKY_RELU: x ≥ zero point rescales by input_scale/output_scale, below it by
/// input_scale·alpha/output_scale; both ratios are computed in single precision, as TFLite Micro does.
/// </summary>
public sealed record LeakyReluQuantization(
    int InputZeroPoint, int OutputZeroPoint, int IdentityMultiplier, int IdentityShift, int AlphaMultiplier, int AlphaShift)
{
    public static LeakyReluQuantization Derive(Tensor input, Tensor output, float alpha)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        float alphaRatio = qi.Scale * alpha / qo.Scale;
        float identityRatio = qi.Scale / qo.Scale;
        var (ma, sa) = MultiplierRange.Multiplier(alphaRatio, MultiplierRange.MaxShift, "input scale * alpha / output scale (float)", input, output);
        var (mi, si) = MultiplierRange.Multiplier(identityRatio, MultiplierRange.MaxShift, "input scale / output scale (float)", input, output);
        return new LeakyReluQuantization(qi.ZeroPoint, qo.ZeroPoint, mi, si, ma, sa);
    }
}

/// <summary>
/// int8 HARD_SWISH: the input is moved to a "high-resolution" scale (input_scale/128) in 16 bits; one 16-bit
/// multiplier takes it to the output scale, another to the "relu-ish" scale where 3.0 is 32768.
/// </summary>
public sealed record HardSwishQuantization(
    int InputZeroPoint, int OutputZeroPoint,
    short OutputMultiplier, int OutputMultiplierExponent, short ReluishMultiplier, int ReluishMultiplierExponent)
{
    public static HardSwishQuantization Derive(Tensor input, Tensor output)
    {
        var (qi, qo) = (ConvQuantization.Require(input), ConvQuantization.Require(output));
        float hiresInputScale = (1.0f / 128.0f) * qi.Scale;
        const float reluishScale = 3.0f / 32768.0f;
        // The output exponent is applied as a rounding right shift (TFLite: "a scaling down"), the relu-ish one as a
        // saturating left shift of an int16.
        var (om, oe) = MultiplierRange.Multiplier(hiresInputScale / qo.Scale, 0, "input scale / 128 / output scale (float)", input, output);
        var (rm, re) = MultiplierRange.Multiplier(hiresInputScale / reluishScale, 15, "input scale / 128 / (3 / 32768) (float)", input);
        return new HardSwishQuantization(qi.ZeroPoint, qo.ZeroPoint, DownScaleToInt16(om), oe, DownScaleToInt16(rm), re);
    }

    /// <summary>A Q31 multiplier rounded to Q15 (saturating at the top).</summary>
    public static short DownScaleToInt16(int multiplier)
    {
        const int roundingOffset = 1 << 15;
        if (multiplier >= int.MaxValue - roundingOffset) return short.MaxValue;
        return (short)((multiplier + roundingOffset) >> 16);
    }
}

/// <summary>
/// int8 LOGISTIC and TANH: the input (minus its zero point) is scaled into Q4.27 by a multiplier from frexp of
/// input_scale·2^27; inputs at or beyond ±<see cref="InputRangeRadius"/> saturate.
/// </summary>
public sealed record SigmoidInt8Quantization(int InputZeroPoint, int InputRangeRadius, int InputMultiplier, int InputLeftShift)
{
    public const int InputIntegerBits = 4;

    public static SigmoidInt8Quantization Derive(Tensor input)
    {
        var q = ConvQuantization.Require(input);
        double real = (double)q.Scale * (1 << (31 - InputIntegerBits));
        // frexp: real = fraction * 2^exponent with fraction in [0.5, 1); no renormalisation of a fraction that rounds up to 1.
        int exponent = real == 0 ? 0 : Math.ILogB(real) + 1;
        double fraction = Math.ScaleB(real, -exponent);
        int multiplier = (int)Math.Round(fraction * (1L << 31), MidpointRounding.AwayFromZero);
        // The input is shifted left by the exponent (TFLite's MultiplyByQuantizedMultiplierGreaterThanOne).
        if (exponent is < 0 or > MultiplierRange.MaxShift)
            throw MultiplierRange.OutOfRange(real, "input scale * 2^27", $"whose exponent {exponent} is outside 0..{MultiplierRange.MaxShift}", input);
        return new SigmoidInt8Quantization(q.ZeroPoint, SoftmaxQuantization.InputRadius(InputIntegerBits, exponent), multiplier, exponent);
    }
}

/// <summary>
/// int16 LOGISTIC and TANH (zero points 0, output scale 2^-15): the input is rescaled so that 3·4096 represents 1.0
/// (x·InputMultiplier rounded and shifted right by InputLeftShift), then a 256-entry sigmoid table is interpolated.
/// </summary>
public sealed record SigmoidInt16Quantization(int InputMultiplier, int InputLeftShift)
{
    /// <param name="isTanh">TANH accepts a power-of-two input scale of 2^-12 or 2^-11, LOGISTIC only 2^-12.</param>
    public static SigmoidInt16Quantization Derive(Tensor input, bool isTanh)
    {
        const int inputIntegerBits = 3;
        var q = ConvQuantization.Require(input);
        bool powerOfTwo = CheckedLog2(q.Scale, out int log2);
        int leftShift = (15 - inputIntegerBits) + log2;
        powerOfTwo &= leftShift == 0 || (isTanh && leftShift == 1);
        if (powerOfTwo)
            return new SigmoidInt16Quantization(3 << leftShift, 0);

        double multiplier = (double)q.Scale * 4096.0 * 3.0;
        leftShift = 0;
        while (multiplier <= 32767.0 / 2.0 && leftShift <= 30)
        {
            leftShift++;
            multiplier *= 2.0;
        }

        // The kernel multiplies an int16 by the multiplier in 32 bits: above 32767 the product can overflow.
        if (!(multiplier <= 32767.0))
            throw MultiplierRange.OutOfRange(multiplier, "input scale * 4096 * 3", "which must be at most 32767 for the 16-bit LOGISTIC/TANH", input);
        return new SigmoidInt16Quantization((int)multiplier, leftShift);
    }

    /// <summary>log2 of x rounded to an integer, and whether x is (within 1e-3 in the exponent) a power of two; float math.</summary>
    public static bool CheckedLog2(float x, out int log2)
    {
        float xLog2 = MathF.Log(x) * (1.0f / MathF.Log(2.0f));
        float rounded = MathF.Round(xLog2, MidpointRounding.AwayFromZero);
        log2 = (int)rounded;
        return MathF.Abs(xLog2 - rounded) < 1e-3f;
    }

    /// <summary>sigmoid(i/24) in unsigned 0.16 fixed point, i = 0..255: TFLite's published interpolation table.</summary>
    public static ReadOnlySpan<ushort> SigmoidTable =>
    [
        32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
        43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
        51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
        57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
        61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
        63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
        64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
        64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
        65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
        65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
        65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
        65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
        65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
        65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
        65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
        65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
    ];
}
