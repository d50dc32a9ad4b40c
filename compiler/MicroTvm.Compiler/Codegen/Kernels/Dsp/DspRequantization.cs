using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// Requantization of the DSP kernels in four to six instructions per output (SMMLAR, a shift, SSAT, a store), bit for
/// bit TFLite's clamp(RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^left, m), right) + offset), where
/// the compile-time accumulator bound proves |acc * 2^(left+1)| &lt; 2^31 (else the kernels use mtvm_requantize_int8):
/// <list type="bullet">
/// <item>The kernel accumulates a = acc * 2^(left+1) directly: filters widened to int16 and the bias are scaled by
/// that power of two at compile time (<see cref="Scale"/>), so no shift is left for run time.</item>
/// <item>The doubling high multiply of acc * 2^left is then the rounded high word of a * m (SMMULR), and SMMLAR adds
/// the constant d = half + offset * 2^right for free, so one arithmetic shift by right completes the rounding divide
/// and the zero-point add (adding a multiple of 2^right commutes with the floor shift). |r + d| &lt; 2^31 needs right
/// &lt;= 22: where a channel shifts further (tiny effective scales), d is only the half for every channel and the
/// zero point is added after the shift, one instruction more per output, exact for shifts up to 30 (|r| &lt;= 2^30).</item>
/// <item>RoundingDivideByPOT rounds ties away from zero: for a negative r it subtracts one before the shift. r has the
/// sign of a (or is zero when a = -2 and m = 2^30, where both roundings give 0), so d + (a &gt;&gt; 31) does it without
/// a test. When the activation's lower clamp is at or above the zero point the correction cannot matter (a negative r
/// gives at most the zero point either way) and is left out.</item>
/// <item>The clamp is SSAT (full int8 range) or USAT, add, SSAT (ReLU: lower clamp at the zero point, upper 127).</item>
/// </list>
/// </summary>
internal sealed class DspRequantization
{
    private readonly int[] _multipliers;
    private readonly int[] _rights;
    private readonly int[] _constants;
    private readonly bool _signCorrection;
    private readonly bool _relu;
    private readonly bool _offsetAfterShift;
    private readonly ConvQuantization _q;
    private string _table = "";
    private string _rightTable = "";

    private DspRequantization(ConvQuantization q, int[] scale, int[] rights, int[] constants, bool signCorrection, bool relu, bool offsetAfterShift)
    {
        _offsetAfterShift = offsetAfterShift;
        _q = q;
        Scale = scale;
        _multipliers = q.OutputMultipliers;
        _rights = rights;
        _constants = constants;
        _signCorrection = signCorrection;
        _relu = relu;
    }

    /// <summary>Per output channel, the power of two the kernel's accumulator must carry (2^(left+1), at most 256 so
    /// int8 weights times it still fit int16).</summary>
    public int[] Scale { get; }

    /// <summary>The fast form for these parameters and per-channel accumulator bounds (|acc| &lt;= bound), or null.</summary>
    public static DspRequantization? TryCreate(ConvQuantization q, long[] bound)
    {
        int channels = q.OutputMultipliers.Length;
        var lefts = q.OutputShifts.Select(s => Math.Max(0, s)).ToArray();
        var rights = q.OutputShifts.Select(s => Math.Max(0, -s)).ToArray();
        if (lefts.Any(l => l > 7) || rights.Any(r => r > 30) || q.OutputMultipliers.Any(m => m < (1 << 30))) return null;
        for (int oc = 0; oc < channels; oc++)
            if (bound[oc] << (lefts[oc] + 1) >= 1L << 31) return null;

        var (lo, hi, offset) = (q.Activation.Min, q.Activation.Max, q.OutputOffset);
        if (lo < -128 || hi > 127 || lo > hi) return null;
        bool relu = lo == offset && hi == 127 && lo != -128;
        bool signCorrection = lo < offset;
        bool offsetAfterShift = !relu && rights.Any(r => r > 22);
        // The correction is -1 for a negative accumulator only where the shift rounds (right > 0).
        if (signCorrection && rights.Any(r => r == 0) && rights.Any(r => r > 0)) return null;
        if (rights.All(r => r == 0)) signCorrection = false;
        var constants = new int[channels];
        for (int oc = 0; oc < channels; oc++)
        {
            int half = rights[oc] == 0 ? 0 : 1 << (rights[oc] - 1);
            constants[oc] = relu || offsetAfterShift ? half : half + offset * (1 << rights[oc]);
        }

        return new DspRequantization(q, lefts.Select(l => 1 << (l + 1)).ToArray(), rights, constants, signCorrection, relu, offsetAfterShift);
    }

    private bool PerTensor => _multipliers.Distinct().Count() == 1 && _constants.Distinct().Count() == 1;

    private bool OneRight => _rights.Distinct().Count() == 1;

    /// <summary>Declares the constant tables (per channel {multiplier, constant} pairs read by one LDRD, and the
    /// shifts when they differ) and pulls in the C helpers.</summary>
    public void Declare(EmitContext c)
    {
        c.Support.Use("mtvm_dsp");
        if (!PerTensor)
        {
            var pairs = new int[2 * _multipliers.Length];
            for (int oc = 0; oc < _multipliers.Length; oc++) (pairs[2 * oc], pairs[2 * oc + 1]) = (_multipliers[oc], _constants[oc]);
            _table = c.Constants.Int32($"{c.Prefix}_requant", pairs,
                $"operator {c.Node.Index} requantization per channel: multiplier, then 2^(right-1){(_relu || _offsetAfterShift ? "" : " + output zero point * 2^right")}");
        }

        if (!OneRight)
            _rightTable = c.Constants.UInt8($"{c.Prefix}_right", _rights.Select(r => (byte)r).ToArray(), $"operator {c.Node.Index} requantization right shift per channel");
    }

    /// <summary>The int8 output (a C expression) of scaled accumulator <paramref name="a"/> (a plain variable: it is
    /// read twice) for output channel <paramref name="channel"/> (a C expression).</summary>
    public string Output(string a, string channel) => Output(a,
        PerTensor ? CLiteral.Int(_multipliers[0]) : $"{_table}[2 * ({channel})]",
        PerTensor ? CLiteral.Int(_constants[0]) : $"{_table}[2 * ({channel}) + 1]",
        OneRight ? CLiteral.Int(_rights[0]) : $"{_rightTable}[{channel}]");

    /// <summary>For a kernel that keeps each channel's operands beside its filter (one pointer, no tables; then it does
    /// not call <see cref="Declare"/>): the words of channel <paramref name="channel"/> it must store, in order — the
    /// multiplier and constant unless every channel has the same, then the right shift unless every channel has the same.</summary>
    public int[] ChannelOperands(int channel) =>
        (PerTensor ? Array.Empty<int>() : new[] { _multipliers[channel], _constants[channel] }).Concat(OneRight ? [] : new[] { _rights[channel] }).ToArray();

    /// <summary>As <see cref="Output(string, string)"/>, with <paramref name="operands"/> the C names of the words
    /// <see cref="ChannelOperands"/> listed.</summary>
    public string Output(string a, IReadOnlyList<string> operands) => Output(a,
        PerTensor ? CLiteral.Int(_multipliers[0]) : operands[0],
        PerTensor ? CLiteral.Int(_constants[0]) : operands[1],
        OneRight ? CLiteral.Int(_rights[0]) : operands[^1]);

    /// <summary>For a kernel that streams each channel's operands in assembly: the words of channel
    /// <paramref name="channel"/> — the multiplier and constant always, then the right shift unless every channel has the same.</summary>
    public int[] StreamedOperands(int channel) =>
        new[] { _multipliers[channel], _constants[channel] }.Concat(OneRight ? [] : new[] { _rights[channel] }).ToArray();

    /// <summary>Thumb-2 instructions doing <see cref="Output(string, string)"/> in place on register <paramref name="a"/>
    /// (the scaled accumulator; it ends as the int8 output, sign-extended): <paramref name="m"/>, <paramref name="d"/> and
    /// <paramref name="right"/> hold the words <see cref="StreamedOperands"/> lists (right only where shifts differ by channel),
    /// <paramref name="temporary"/> is free. A uniform shift rides on SSAT/USAT for free.</summary>
    public IEnumerable<string> Assembly(string a, string m, string d, string right, string temporary)
    {
        if (_signCorrection) yield return $"add {temporary}, {d}, {a}, asr #31";
        yield return $"smmlar {a}, {a}, {m}, {(_signCorrection ? temporary : d)}";
        string shift = "";
        if (!OneRight) yield return $"asr {a}, {a}, {right}";
        else if (_rights[0] > 0) shift = $", asr #{_rights[0]}";
        var (lo, hi, offset) = (_q.Activation.Min, _q.Activation.Max, _q.OutputOffset);
        bool saturate = _relu || (lo == -128 && hi == 127);
        if (shift.Length > 0 && (_offsetAfterShift || !saturate))
        {
            yield return $"asr {a}, {a}, #{_rights[0]}";
            shift = "";
        }

        if (_offsetAfterShift && offset != 0) yield return AddImmediate(a, offset);
        if (_relu)
        {
            yield return $"usat {a}, #8, {a}{shift}";
            if (offset != 0) yield return AddImmediate(a, offset);
            yield return $"ssat {a}, #8, {a}";
        }
        else if (saturate)
        {
            yield return $"ssat {a}, #8, {a}{shift}";
        }
        else
        {
            yield return lo < 0 ? $"cmn {a}, #{-lo}" : $"cmp {a}, #{lo}";
            yield return "it lt";
            yield return lo < 0 ? $"mvnlt {a}, #{-lo - 1}" : $"movlt {a}, #{lo}";
            yield return hi < 0 ? $"cmn {a}, #{-hi}" : $"cmp {a}, #{hi}";
            yield return "it gt";
            yield return hi < 0 ? $"mvngt {a}, #{-hi - 1}" : $"movgt {a}, #{hi}";
        }
    }

    private static string AddImmediate(string register, int value) =>
        value < 0 ? $"sub {register}, {register}, #{-value}" : $"add {register}, {register}, #{value}";

    private string Output(string a, string m, string d, string right)
    {
        if (_signCorrection) d = $"{d} + ({a} >> 31)";
        string v = _offsetAfterShift ? $"((mtvm_smmlar({a}, {m}, {d}) >> {right}) + {_q.OutputOffset})" : $"(mtvm_smmlar({a}, {m}, {d}) >> {right})";
        if (_relu) return $"(int8_t)mtvm_ssat8(mtvm_usat8{v} + {_q.OutputOffset})";
        if (_q.Activation.Min == -128 && _q.Activation.Max == 127) return $"(int8_t)mtvm_ssat8{v}";
        return $"(int8_t)mtvm_clamp({v}, {_q.Activation.Min}, {_q.Activation.Max})";
    }
}
