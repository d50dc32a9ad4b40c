using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The requantization of <see cref="DspRequantization"/> for per-channel right shifts that differ, with one shift R for
/// every channel, so it rides on SSAT/USAT for free: three instructions per output (SMMLA, SSAT, a store) instead of four
/// (SMMLAR, ASR by a register, SSAT, a store), and no shift word per channel. Bit for bit the same result:
/// <list type="bullet">
/// <item>The fast form computes y = floor((floor((a * m + 2^31) / 2^32) + d) / 2^r), a = acc * 2^(left+1), d its
/// rounding and zero-point constant. An integer added inside a floor can move out of it, so y = floor((a * m / 2^32 +
/// 1/2 + d) / 2^r) = floor((A * m / 2^32 + 2^(e-1) + d * 2^e) / 2^R) with A = a * 2^e and R = r + e.</item>
/// <item>With e &gt;= 1 the constant C = 2^(e-1) + d * 2^e is an integer, so y = floor((floor(A * m / 2^32) + C) / 2^R):
/// SMMLA (the truncated high word plus C), then the shift. R is the largest right shift plus one, e = R - r per channel;
/// the kernel accumulates A directly (filter and bias scaled by 2^(left+1+e), <see cref="Scale"/>).</item>
/// <item>Only where the other form leaves out the sign correction (the lower clamp at or above the zero point, or no
/// rounding shift), R &lt;= 22 and the scaled accumulator and SMMLA's sum provably fit 32 bits; else null.</item>
/// </list>
/// </summary>
internal sealed class DspUniformShiftRequantization
{
    private readonly int[] _multipliers;
    private readonly int[] _constants;
    private readonly int _right;
    private readonly ConvQuantization _q;
    private readonly bool _relu;

    private DspUniformShiftRequantization(ConvQuantization q, int[] scale, int[] constants, int right, bool relu)
    {
        _q = q;
        Scale = scale;
        _multipliers = q.OutputMultipliers;
        _constants = constants;
        _right = right;
        _relu = relu;
    }

    /// <summary>Per output channel, the power of two the kernel's accumulator must carry (at most 256, so int8 weights
    /// times it still fit int16).</summary>
    public int[] Scale { get; }

    /// <summary>The uniform-shift form for these parameters and per-channel accumulator bounds (|acc| &lt;= bound), or
    /// null (then <see cref="DspRequantization"/> applies: also where every channel shifts alike, which it does as fast).</summary>
    public static DspUniformShiftRequantization? TryCreate(ConvQuantization q, long[] bound)
    {
        int channels = q.OutputMultipliers.Length;
        var lefts = q.OutputShifts.Select(s => Math.Max(0, s)).ToArray();
        var rights = q.OutputShifts.Select(s => Math.Max(0, -s)).ToArray();
        if (rights.Distinct().Count() == 1 || lefts.Any(l => l > 7) || q.OutputMultipliers.Any(m => m < (1 << 30))) return null;
        var (lo, hi, offset) = (q.Activation.Min, q.Activation.Max, q.OutputOffset);
        if (lo < -128 || hi > 127 || lo > hi || lo < offset) return null;
        bool relu = lo == offset && hi == 127 && lo != -128;
        int right = rights.Max() + 1;
        if (right > 22) return null;

        var scale = new int[channels];
        var constants = new int[channels];
        for (int oc = 0; oc < channels; oc++)
        {
            int e = right - rights[oc], power = lefts[oc] + 1 + e;
            if (power > 8) return null;
            long half = rights[oc] == 0 ? 0 : 1L << (rights[oc] - 1);
            long d = relu ? half : half + offset * (1L << rights[oc]);
            long constant = (1L << (e - 1)) + d * (1L << e);
            // |A| < 2^31, and |floor(A * m / 2^32) + C| < 2^31 (m < 2^31: the high word is at most |A| / 2 + 1).
            long scaled = bound[oc] << power;
            if (scaled >= 1L << 31 || scaled / 2 + 1 + Math.Abs(constant) >= 1L << 31) return null;
            scale[oc] = 1 << power;
            constants[oc] = (int)constant;
        }

        return new DspUniformShiftRequantization(q, scale, constants, right, relu);
    }

    /// <summary>The words of channel <paramref name="channel"/> a kernel keeps beside its filter: the multiplier and C.</summary>
    public int[] ChannelOperands(int channel) => new[] { _multipliers[channel], _constants[channel] };

    /// <summary>The int8 output (a C expression) of scaled accumulator <paramref name="a"/>, with <paramref name="operands"/>
    /// the C names of the words <see cref="ChannelOperands"/> lists.</summary>
    public string Output(string a, IReadOnlyList<string> operands)
    {
        string v = $"(mtvm_smmla({a}, {operands[0]}, {operands[1]}) >> {_right})";
        if (_relu) return $"(int8_t)mtvm_ssat8(mtvm_usat8{v} + {_q.OutputOffset})";
        if (_q.Activation.Min == -128 && _q.Activation.Max == 127) return $"(int8_t)mtvm_ssat8{v}";
        return $"(int8_t)mtvm_clamp({v}, {_q.Activation.Min}, {_q.Activation.Max})";
    }
}
