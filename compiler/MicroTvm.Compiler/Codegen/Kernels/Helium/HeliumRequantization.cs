using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>The per-channel requantization of the Helium kernels as vectors: multiplier, left shift and negated
/// right shift of 4 channels, from constant arrays (per-channel quantization) or one value for all (per tensor).</summary>
internal sealed class HeliumRequantization
{
    private readonly ConvQuantization _q;
    private readonly string? _multipliers, _lefts, _negs;
    private readonly bool _hasLeft;

    /// <summary>0: no channel shifts right; 1: every channel does; 2: some do (see mtvm_v_requantize_clamp).</summary>
    private readonly int _right;

    /// <summary>Per channel, with the constants in the kernel's own per-block record (<see cref="InRecord"/>).</summary>
    private readonly bool _record;

    private HeliumRequantization(ConvQuantization q, string? multipliers, string? lefts, string? negs, bool record = false)
    {
        _record = record;
        _q = q;
        (_multipliers, _lefts, _negs) = (multipliers, lefts, negs);
        _hasLeft = q.OutputShifts.Any(v => v > 0);
        _right = q.OutputShifts.All(v => v >= 0) ? 0 : q.OutputShifts.All(v => v < 0) ? 1 : 2;
        _halfUpExact = q.Activation.Min >= q.OutputOffset;
    }

    /// <summary>The block loop's right shift may round halves up (VRSHL alone, no sign correction and no mask): the clamp's
    /// low bound is at or above the output zero point, so every sum the correction would change (a negative one, whose
    /// quotient is at most 0 either way) ends at that bound.</summary>
    private readonly bool _halfUpExact;

    /// <summary>The constants for <paramref name="padded"/> channels, channel c at position <paramref name="order"/>(c)
    /// (default: c); positions no channel takes repeat channel 0's (valid) values.</summary>
    public static HeliumRequantization Declare(EmitContext c, ConvQuantization q, int padded, Func<int, int>? order = null)
    {
        if (q.OutputMultipliers.Distinct().Count() == 1 && q.OutputShifts.Distinct().Count() == 1)
            return new HeliumRequantization(q, null, null, null);
        order ??= i => i;
        int[] Laid(Func<int, int> value)
        {
            var laid = Enumerable.Repeat(value(0), padded).ToArray();
            for (int i = 0; i < q.OutputMultipliers.Length; i++) laid[order(i)] = value(i);
            return laid;
        }

        string m = c.Constants.Int32($"{c.Prefix}_multiplier", Laid(i => q.OutputMultipliers[i]), $"operator {c.Node.Index} requantization multiplier per channel");
        string l = c.Constants.Int32($"{c.Prefix}_left", Laid(i => Math.Max(q.OutputShifts[i], 0)), $"operator {c.Node.Index} requantization left shift per channel");
        string n = c.Constants.Int32($"{c.Prefix}_neg_right", Laid(i => Math.Min(q.OutputShifts[i], 0)), $"operator {c.Node.Index} requantization right shift per channel, negated");
        return new HeliumRequantization(q, m, l, n);
    }

    /// <summary>Per channel, the constants of 4 channels at a time read from a record the kernel lays out and points
    /// at with <c>rec</c>: <see cref="Record"/> gives the words that follow the kernel's own (multipliers, then left
    /// shifts if any channel shifts left, then negated right shifts); per tensor, as <see cref="Declare"/>.</summary>
    public static HeliumRequantization InRecord(ConvQuantization q) =>
        q.OutputMultipliers.Distinct().Count() == 1 && q.OutputShifts.Distinct().Count() == 1
            ? new HeliumRequantization(q, null, null, null)
            : new HeliumRequantization(q, "", "", "", record: true);

    /// <summary>The record words of channels <paramref name="first"/>..+3 (channels past the last repeat channel 0's
    /// values). <paramref name="streamed"/>: for the matrix product's block loop (<see cref="StreamCode"/>), per tensor
    /// as well, in the order applied: left shifts if any channel shifts left, multipliers, where only some channels
    /// shift right a mask (-1 for those), negated right shifts if any channel shifts right.</summary>
    public IEnumerable<int> Record(int first, bool streamed = false)
    {
        int Channel(int i) => i < _q.OutputMultipliers.Length ? i : 0;
        if (streamed)
        {
            if (_hasLeft)
                for (int i = first; i < first + 4; i++) yield return Math.Max(_q.OutputShifts[Channel(i)], 0);
            for (int i = first; i < first + 4; i++) yield return _q.OutputMultipliers[Channel(i)];
            if (_right == 2 && !_halfUpExact)
                for (int i = first; i < first + 4; i++) yield return _q.OutputShifts[Channel(i)] < 0 ? -1 : 0;
            if (_right != 0)
                for (int i = first; i < first + 4; i++) yield return Math.Min(_q.OutputShifts[Channel(i)], 0);
            yield break;
        }

        if (!_record) yield break;
        for (int i = first; i < first + 4; i++) yield return _q.OutputMultipliers[Channel(i)];
        if (_hasLeft)
            for (int i = first; i < first + 4; i++) yield return Math.Max(_q.OutputShifts[Channel(i)], 0);
        for (int i = first; i < first + 4; i++) yield return Math.Min(_q.OutputShifts[Channel(i)], 0);
    }

    /// <summary>The block loop's requantization steps, the store included (<paramref name="v"/>: MTVM_VB1 or
    /// MTVM_VB2): the record (a bias vector, then <see cref="Record"/>'s) loaded at once into q2.., each step naming
    /// its vector; where the clamp is int8's whole range, a saturating narrowing replaces it; where its low bound is at or
    /// above the output zero point, the right shift rounds halves up (_RSHR; see _halfUpExact).</summary>
    public string StreamCode(string v)
    {
        int next = 3;
        string Q() => $"q{next++}";
        string code = (_hasLeft ? $" {v}_LEFT({Q()})" : "") + $" {v}_MUL({Q()})";
        if (_right != 0 && _halfUpExact) code += $" {v}_RSHR({Q()})";
        else if (_right == 2) code += $" {v}_RIGHT_MIXED({Q()}, {Q()})";
        else if (_right == 1) code += $" {v}_RIGHT({Q()})";
        return $"MTVM_VB_REC{next - 2} {v}_BIAS(q2)" + code +
            (_q.Activation.Min <= -128 && _q.Activation.Max >= 127 ? $" {v}_STORE_SAT" : $" {v}_STORE");
    }

    /// <summary>What <see cref="Record"/> gives the stream, for the constant's comment.</summary>
    public string StreamContents => (_hasLeft ? "left shifts, " : "") + "requantization multipliers" +
        (_right == 1 || (_right == 2 && _halfUpExact) ? ", negated right shifts" : _right == 2 ? ", -1 where a channel shifts right, negated right shifts" : "");

    /// <summary>The block loop's header, 16 int32 words holding four vectors of int16 lanes: the scatter offsets
    /// 0, d, 1, d + 1, 2, d + 2, 3, d + 3 (a channel of the first column, then of the second, d bytes on), the
    /// output zero point, the clamp's low and high bounds.</summary>
    public IEnumerable<int> StreamHeader(int d)
    {
        IEnumerable<int> Lanes(Func<int, int> lane) =>
            Enumerable.Range(0, 4).Select(i => (lane(2 * i) & 0xFFFF) | (lane(2 * i + 1) << 16));
        return Lanes(i => i / 2 + (i % 2) * d).Concat(Lanes(_ => _q.OutputOffset)).Concat(Lanes(_ => _q.Activation.Min)).Concat(Lanes(_ => _q.Activation.Max));
    }

    /// <summary>Per tensor: the three vectors qm, ql, qn (and with <paramref name="second"/> qm1, ql1, qn1, the same)
    /// once, before the loops.</summary>
    public void DeclareLocals(CodeWriter body, bool second = false)
    {
        if (_multipliers is not null) return;
        int shift = _q.OutputShifts[0];
        body.Line($"const mtvm_i32x4 qm = mtvm_v_dup({CLiteral.Int(_q.OutputMultipliers[0])}), ql = mtvm_v_dup({Math.Max(shift, 0)}), qn = mtvm_v_dup({Math.Min(shift, 0)});");
        if (second) body.Line("const mtvm_i32x4 qm1 = qm, ql1 = ql, qn1 = qn;");
    }

    /// <summary>Per channel: the vectors of positions <paramref name="channel"/>..+3, inside the loop.</summary>
    public void Load(CodeWriter body, string channel, string m = "qm", string l = "ql", string n = "qn")
    {
        if (_multipliers is null) return;
        if (_record)
        {
            // `channel` is the record's first word of requantization constants.
            body.Line($"const mtvm_i32x4 {m} = mtvm_v_ld_s32(rec + {channel}), {n} = mtvm_v_ld_s32(rec + {channel} + {(_hasLeft ? 8 : 4)});");
            body.Line(_hasLeft ? $"const mtvm_i32x4 {l} = mtvm_v_ld_s32(rec + {channel} + 4);" : $"const mtvm_i32x4 {l} = {n};");
            return;
        }

        body.Line($"const mtvm_i32x4 {m} = mtvm_v_ld_s32({_multipliers} + {channel}), {l} = mtvm_v_ld_s32({_lefts} + {channel}), {n} = mtvm_v_ld_s32({_negs} + {channel});");
    }

    /// <summary>The statement storing the requantized <paramref name="vector"/> at <paramref name="output"/> (the first <paramref name="lanes"/> lanes).</summary>
    public string Store(string output, string vector, string lanes) =>
        $"mtvm_v_requantize_store({output}, {vector}, qm, ql, qn, {(_hasLeft ? 1 : 0)}, {_right}, {_q.OutputOffset}, {_q.Activation.Min}, {_q.Activation.Max}, {lanes});";

    /// <summary>The requantized, clamped <paramref name="vector"/> (an expression).</summary>
    public string Clamp(string vector, string m, string l, string n) =>
        $"mtvm_v_requantize_clamp({vector}, {m}, {l}, {n}, {(_hasLeft ? 1 : 0)}, {_right}, {_q.OutputOffset}, {_q.Activation.Min}, {_q.Activation.Max})";
}
