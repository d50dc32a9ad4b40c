using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The CONV_2D matrix product of <see cref="DspGemmKernel"/> with int8 filters (<c>layout=int8</c>, the compact
/// weight layout: the filter's own size in flash, half the widened layout's). Output channels in pairs: at compile
/// time each pair's two weights at one column position become one int16, <c>h = w0 + 256 * w1</c>, in the columns'
/// SXTB16 order, so a weight word is both an SMLAD operand as it is (summing <c>acc0 + 256 * acc1</c>) and, after one
/// SXTB16, the pair of <c>w0</c> (summing <c>acc0</c>); then <c>acc1 = (sum - acc0) / 2^8</c>, exact while
/// |acc1| &lt; 2^23 (checked per channel at compile time from its largest accumulator). One SXTB16 per weight word
/// and per two pixels instead of two. With the fast requantization the layer gets the widened path's per-layer
/// assembly (<see cref="DspGemmRows"/> with <see cref="CompactPairs"/>: 23 instructions per 32 MACs, widened 20, the
/// requantization inside; or, where the memory plan has room beside the layer, <see cref="WidenedBlocks"/>: the rows
/// widened into the scratch a block at a time, 20 per 32); else <c>mtvm_gemm8_rows</c> (assembly over all pairs of rows, two pixels' interleaved
/// columns as the widened path gathers them, 12 instructions per 16 MACs) and a C loop requantizes. A layer where a pair does
/// not fit (|acc1| too large, or <c>w1 = -128</c> beside a negative <c>w0</c>) keeps plain int8 rows, each weight word
/// unpacked by SXTB16 and SXTB16 ROR #8 (14 instructions per 16 MACs).
/// </summary>
internal static class DspCompactGemm
{
    /// <param name="laid">The re-laid filter, [OutC][column length] int8.</param>
    /// <param name="folded">Per channel: the bias minus the input zero point times the sum of the filter row.</param>
    /// <param name="scale">Per channel, the power of two the fast requantization wants the accumulator times (int8
    /// weights cannot carry it, as widened ones do: the accumulator is shifted at run time), or null.</param>
    /// <param name="req">The requantization of an accumulator variable (times <paramref name="scale"/>) for a channel expression.</param>
    public static void Emit(EmitContext c, GemmShape s, int zx, sbyte[] laid, int[] folded, int[]? scale, Func<string, string, string> req)
    {
        var left = Left.Declare(c, scale);
        if (PairsFit(s, laid, folded)) EmitPairs(c, s, zx, laid, folded, left, req);
        else EmitUnpacked(c, s, zx, laid, folded, (acc, oc) => req(left.Shifted(acc, oc), oc));
    }

    /// <summary>The run-time left shift of each channel's accumulator: none, one literal, or a table of bytes.</summary>
    private sealed record Left(int[] Shifts, string Table)
    {
        public static Left Declare(EmitContext c, int[]? scale)
        {
            var shifts = scale?.Select(v => (int)Math.Log2(v)).ToArray() ?? new int[c.Node.Output.Shape[^1]];
            string table = shifts.Distinct().Count() == 1 ? "" : c.Constants.UInt8($"{c.Prefix}_left", shifts.Select(k => (byte)k).ToArray(),
                $"operator {c.Node.Index} accumulator left shift per channel (the fast requantization's power of two)");
            return new Left(shifts, table);
        }

        public bool None => Table == "" && Shifts[0] == 0;

        /// <summary>The shift of channel <paramref name="oc"/> (a C expression).</summary>
        public string Of(string oc) => Table == "" ? CLiteral.Int(Shifts[0]) : $"{Table}[{oc}]";

        public string Shifted(string acc, string oc) => None ? acc : $"(int32_t)((uint32_t){acc} << {Of(oc)})";
    }

    /// <summary>True when every pair of channels (2j, 2j+1) can share int16 weights: every <c>w0 + 256 * w1</c> is an
    /// int16, and channel 2j+1's largest |accumulator| (bias included, inputs int8) is below 2^23.</summary>
    internal static bool PairsFit(GemmShape s, sbyte[] laid, int[] folded)
    {
        int kp = DspGemmKernel.ColumnLength(s);
        for (int oc = 1; oc < s.OutC; oc += 2)
        {
            long bound = Math.Abs((long)folded[oc]);
            for (int k = 0; k < kp; k++)
            {
                int w0 = laid[(oc - 1) * kp + k], w1 = laid[oc * kp + k];
                if (w0 + 256 * w1 < short.MinValue) return false;
                bound += 128L * Math.Abs(w1);
            }

            if (bound >= 1L << 23) return false;
        }

        return true;
    }

    /// <summary>Per pair of channels: the accumulators' start (acc0 of both pixels, then sum of both: b0, b0,
    /// b0 + 256 * b1, b0 + 256 * b1), then per 4 column values two words of <c>w0 + 256 * w1</c> in SXTB16 order.</summary>
    internal static int[] PairedRows(GemmShape s, sbyte[] laid, int[] folded)
    {
        int kp = DspGemmKernel.ColumnLength(s), pairs = (s.OutC + 1) / 2;
        var shared = SharedWords(s, laid);
        var words = new List<int>(pairs * (4 + kp / 2));
        for (int pair = 0; pair < pairs; pair++)
        {
            int oc0 = 2 * pair, oc1 = oc0 + 1;
            int b0 = folded[oc0], b1 = oc1 < s.OutC ? folded[oc1] : 0;
            int sum = unchecked(b0 + (int)((uint)b1 << 8));
            words.AddRange(new[] { b0, b0, sum, sum });
            words.AddRange(shared.Skip(pair * kp / 2).Take(kp / 2));
        }

        return words.ToArray();
    }

    /// <summary>Per pair of channels, [pair][column length / 2] words of <c>h = w0 + 256 * w1</c> (int16 pairs in SXTB16
    /// order; w1 = 0 for the last pair of an odd count).</summary>
    internal static int[] SharedWords(GemmShape s, sbyte[] laid)
    {
        int kp = DspGemmKernel.ColumnLength(s), pairs = (s.OutC + 1) / 2;
        var h = new int[pairs * kp];
        for (int pair = 0; pair < pairs; pair++)
        {
            int oc0 = 2 * pair, oc1 = oc0 + 1;
            for (int k = 0; k < kp; k++) h[pair * kp + k] = laid[oc0 * kp + k] + 256 * (oc1 < s.OutC ? laid[oc1 * kp + k] : 0);
        }

        return Int16Pairs.InSxtb16Order(h);
    }

    /// <summary>Two output pixels' columns (interleaved per 4 values, as the widened path gathers them) times all pairs
    /// of channels by mtvm_gemm8_rows, a chunk of at most 16 channels per call; each chunk's accumulators
    /// ([pair][acc0 pixel 0, acc0 pixel 1, sum pixel 0, sum pixel 1]) are requantized. An odd last pixel is gathered into
    /// both halves and stored once.</summary>
    private static void EmitPairs(EmitContext c, GemmShape s, int zx, sbyte[] laid, int[] folded, Left left, Func<string, string, string> req)
    {
        var node = c.Node;
        var filter = node.Input(1);
        var body = c.Body;
        int kp = DspGemmKernel.ColumnLength(s), steps = kp / 4;
        int pairs = (s.OutC + 1) / 2, chunkPairs = Math.Min(8, pairs), chunk = 2 * chunkPairs;
        int pairWords = 4 + kp / 2;
        if (DspGemmKernel.Scratch(node).ColumnBytes < 4 * (kp + 4 * chunkPairs))
            throw new InvalidOperationException("the DSP GEMM's scratch is smaller than the compact path's columns and accumulators");
        string wName = c.Constants.Int32($"{c.Prefix}_filter", PairedRows(s, laid, folded),
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD, int8 per weight: [{pairs} channel pairs][accumulators' start: b0, b0, b0 + 256 * b1, b0 + 256 * b1, with b = bias - input zero point * sum of the filter row][{steps} steps of 4 values][(h0,h2),(h1,h3)], h = w0 + 256 * w1, filter rows zero-padded to whole words");
        c.Support.Use("mtvm_dsp_gemm8");
        DspGemmKernel.DeclareScratch(c, s, $"int32_t* const col = scratch; /* two output pixels' receptive fields as int16 pairs, interleaved per 4 values ({kp} words) */");
        body.Line($"int32_t* const acc = col + {kp}; /* [pair][acc0 pixel 0, acc0 pixel 1, acc0 + 256 * acc1 pixel 0, pixel 1] of one chunk of {chunk} channels */");
        string zeroRow = s.Spatial
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        body.Line("int p, oc;");

        void Requantize(string from, string to, bool two)
        {
            string at = from == "0" ? "2 * oc" : $"2 * (oc - {from})";
            using (body.Block($"for (oc = {from}; oc + 1 < {to}; oc += 2)"))
            {
                // acc1 = (sum - acc0) / 2^8, times 2^k: one shift right by 8 - k.
                string high = left.Table == "" ? CLiteral.Int(8 - left.Shifts[0]) : $"8 - {left.Of("oc + 1")}";
                body.Line($"const int32_t* const a = acc + {at};");
                body.Line($"const int32_t a0 = {left.Shifted("a[0]", "oc")}, h0 = mtvm_gemm8_high(a[2], a[0], {high});");
                body.Line($"o0[oc] = {req("a0", "oc")};");
                body.Line($"o0[oc + 1] = {req("h0", "oc + 1")};");
                if (two)
                {
                    body.Line($"const int32_t a1 = {left.Shifted("a[1]", "oc")}, h1 = mtvm_gemm8_high(a[3], a[1], {high});");
                    body.Line($"o1[oc] = {req("a1", "oc")};");
                    body.Line($"o1[oc + 1] = {req("h1", "oc + 1")};");
                }
            }

            if (s.OutC % 2 == 0) return;
            using (body.Block($"if (oc < {to})"))
            {
                body.Line($"const int32_t a0 = {left.Shifted($"acc[{at}]", "oc")};");
                body.Line($"o0[oc] = {req("a0", "oc")};");
                if (two)
                {
                    body.Line($"const int32_t a1 = {left.Shifted($"acc[{at} + 1]", "oc")};");
                    body.Line($"o1[oc] = {req("a1", "oc")};");
                }
            }
        }

        void Channels(bool two)
        {
            if (s.OutC <= chunk)
            {
                body.Line($"mtvm_gemm8_rows(col, {wName}, acc, {steps}, {pairs});");
                Requantize("0", $"{s.OutC}", two);
                return;
            }

            body.Line("int c0;");
            using (body.Block($"for (c0 = 0; c0 < {s.OutC}; c0 += {chunk})"))
            {
                body.Line($"const int n = {s.OutC} - c0 < {chunk} ? {s.OutC} - c0 : {chunk};");
                body.Line($"mtvm_gemm8_rows(col, {wName} + c0 / 2 * {pairWords}, acc, {steps}, (n + 1) / 2);");
                Requantize("c0", "c0 + n", two);
            }
        }

        if (s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
            {
                body.Line($"int8_t* o0 = {c.Output()} + p * {s.OutC};");
                body.Line($"int8_t* o1 = o0 + {s.OutC};");
                DspGemmKernel.Gather(body, s, zx, "p", "col", c.Input(0), zeroRow, interleaved: true);
                DspGemmKernel.Gather(body, s, zx, "p + 1", "col + 2", c.Input(0), zeroRow, interleaved: true);
                Channels(two: true);
            }
        }

        if (s.Pixels % 2 == 1)
        {
            using (body.Block(""))
            {
                body.Line($"int8_t* o0 = {c.Output()} + {s.Pixels - 1} * {s.OutC};");
                body.Line($"p = {s.Pixels - 1};");
                DspGemmKernel.Gather(body, s, zx, "p", "col", c.Input(0), zeroRow, interleaved: true);
                DspGemmKernel.Gather(body, s, zx, "p", "col + 2", c.Input(0), zeroRow, interleaved: true);
                Channels(two: false);
            }
        }
    }

    /// <summary>Plain int8 rows, each weight word unpacked by SXTB16 and SXTB16 ROR #8: two pixels' columns by two rows at a time.</summary>
    private static void EmitUnpacked(EmitContext c, GemmShape s, int zx, sbyte[] laid, int[] folded, Func<string, string, string> req)
    {
        var node = c.Node;
        var filter = node.Input(1);
        int kp = DspGemmKernel.ColumnLength(s), words = kp / 2;
        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD: [{s.OutC}][{s.FilterH}][{s.RowBytes}], rows zero-padded to whole words");
        string bName = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the filter row, per output channel");
        const string dot = "mtvm_dot", wType = "int8_t";
        int rowStride = kp, steps = kp / 4;
        var body = c.Body;

        DspGemmKernel.DeclareScratch(c, s, accumulators: false, column: s.Pixels >= 2
            ? $"int32_t (*const col)[{words}] = scratch; /* two output pixels' receptive fields as int16 pairs */"
            : $"int32_t (*const col)[{words}] = scratch; /* the output pixel's receptive field as int16 pairs */");

        string zeroRow = s.Spatial
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        body.Line("int p, oc;");
        if (s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + p * {s.OutC};");
                body.Line($"int8_t* o1 = o0 + {s.OutC};");
                DspGemmKernel.Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
                DspGemmKernel.Gather(body, s, zx, "p + 1", "col[1]", c.Input(0), zeroRow);
                using (body.Block($"for (oc = 0; oc + 1 < {s.OutC}; oc += 2, w += {2 * rowStride})"))
                {
                    body.Line("int32_t acc[4];");
                    body.Line($"acc[0] = acc[2] = {bName}[oc];");
                    body.Line($"acc[1] = acc[3] = {bName}[oc + 1];");
                    body.Line($"{dot}_2x2(col[0], col[1], w, w + {rowStride}, {steps}, acc);");
                    body.Line($"o0[oc] = {req("acc[0]", "oc")};");
                    body.Line($"o0[oc + 1] = {req("acc[1]", "oc + 1")};");
                    body.Line($"o1[oc] = {req("acc[2]", "oc")};");
                    body.Line($"o1[oc + 1] = {req("acc[3]", "oc + 1")};");
                }

                if (s.OutC % 2 == 1)
                {
                    body.Line($"oc = {s.OutC - 1};");
                    body.Line($"{{ const int32_t a0 = {dot}_1x1(col[0], w, {steps}, {bName}[oc]); o0[oc] = {req("a0", "oc")}; }}");
                    body.Line($"{{ const int32_t a1 = {dot}_1x1(col[1], w, {steps}, {bName}[oc]); o1[oc] = {req("a1", "oc")}; }}");
                }
            }
        }

        if (s.Pixels % 2 == 1)
        {
            using (body.Block(""))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + {s.Pixels - 1} * {s.OutC};");
                body.Line($"p = {s.Pixels - 1};");
                DspGemmKernel.Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
                using (body.Block($"for (oc = 0; oc + 1 < {s.OutC}; oc += 2, w += {2 * rowStride})"))
                {
                    body.Line("int32_t acc[2];");
                    body.Line($"acc[0] = {bName}[oc];");
                    body.Line($"acc[1] = {bName}[oc + 1];");
                    body.Line($"{dot}_1x2(col[0], w, w + {rowStride}, {steps}, acc);");
                    body.Line($"o0[oc] = {req("acc[0]", "oc")};");
                    body.Line($"o0[oc + 1] = {req("acc[1]", "oc + 1")};");
                }

                if (s.OutC % 2 == 1)
                    body.Line($"{{ const int32_t a0 = {dot}_1x1(col[0], w, {steps}, {bName}[{s.OutC - 1}]); o0[{s.OutC - 1}] = {req("a0", $"{s.OutC - 1}")}; }}");
            }
        }
    }
}

/// <summary>
/// The compact layout's part of <see cref="DspGemmRows"/>' per-layer statement: per step of 4 column values the pair's
/// two words of <c>h = w0 + 256 * w1</c>, four SMLAD with them as they are (acc0 + 256 * acc1 of both pixels: r12, lr),
/// two SXTB16, four SMLAD (acc0: r2, r3); the weights of two steps come by one LDM (23 instructions per 32 MACs, the
/// widened path 20). After the steps the accumulators are scaled as the widened path's already are (its weights carry
/// the requantization's power of two 2^s, s = left shift + 1): acc0 * 2^s by LSL, acc1 * 2^s = (sum - acc0) / 2^(8 - s)
/// by SUB and ASR (exact: sum - acc0 is 256 * acc1, |acc1| &lt; 2^23). Shifts that differ by channel come from the stream.
/// </summary>
internal sealed class CompactPairs(int[] shifts)
{
    private bool Uniform => shifts.Distinct().Count() == 1;

    /// <summary>Words per pair after the requantization operands: none for one shift, else channel 0's left shift and
    /// 8 - channel 1's.</summary>
    public int ShiftWords => Uniform ? 0 : 2;

    public int[] Words(int channel0, int channel1) => Uniform ? [] : [shifts[channel0], 8 - shifts[channel1]];

    /// <summary>The C expressions of the left shift (acc0) and the right one (256 * acc1); <paramref name="at"/>: the
    /// shift words' index from the pair's operands.</summary>
    public (string Left, string Right) CShifts(int at) =>
        Uniform ? (CLiteral.Int(shifts[0]), CLiteral.Int(8 - shifts[0])) : ($"w[{at}]", $"w[{at + 1}]");

    /// <summary>The scaling after the steps (non-uniform shifts: left in r10, right in r11).</summary>
    public IEnumerable<string> Scale(bool secondRow)
    {
        if (secondRow)
        {
            yield return "sub r12, r12, r2";
            yield return "sub lr, lr, r3";
            if (!Uniform) { yield return "asr r12, r12, r11"; yield return "asr lr, lr, r11"; }
            else if (shifts[0] < 8) { yield return $"asr r12, r12, #{8 - shifts[0]}"; yield return $"asr lr, lr, #{8 - shifts[0]}"; }
        }

        string left = Uniform ? $"#{shifts[0]}" : "r10";
        yield return $"lsl r2, r2, {left}";
        yield return $"lsl r3, r3, {left}";
    }

    /// <summary><paramref name="count"/> column steps: an odd one first (its two weight words by one LDM), then two at a time.</summary>
    public static IEnumerable<string> Steps(int count)
    {
        if (count % 2 == 1)
        {
            yield return "ldmia r1!, {r4, r5}";
            foreach (var line in Step("r4", "r5")) yield return line;
        }

        for (int k = 0; k < count / 2; k++)
        {
            yield return "ldmia r1!, {r4, r5, r6, r7}";
            foreach (var line in Step("r4", "r5")) yield return line;
            foreach (var line in Step("r6", "r7")) yield return line;
        }
    }

    private static string[] Step(string h0, string h1) =>
    [
        "ldmia r0!, {r8, r9, r10, r11}",
        $"smlad r12, r8, {h0}, r12", $"smlad lr, r10, {h0}, lr", $"smlad r12, r9, {h1}, r12", $"smlad lr, r11, {h1}, lr",
        $"sxtb16 {h0}, {h0}", $"sxtb16 {h1}, {h1}",
        $"smlad r2, r8, {h0}, r2", $"smlad r3, r10, {h0}, r3", $"smlad r2, r9, {h1}, r2", $"smlad r3, r11, {h1}, r3",
    ];
}

/// <summary>
/// The compact layout where the workspace has room (a scratch the plan grants without raising the workspace,
/// <see cref="Kernel.ScratchWishes"/>): the layer's channel pairs are taken a block at a time, each block's int8 rows
/// widened into the scratch once (<c>mtvm_gemm8_widen</c>: per 4 values SXTB16 and SXTB16 ROR #8) and the widened
/// steps of <see cref="DspGemmRows"/> (20 instructions per 32 MACs, the compact pairs' 23) run over every output pixel
/// from there. Added: the widening, once per weight, and with more than one block each block's gathering of the
/// columns. The weights stay unscaled: the accumulators get the requantization's power of two after the steps (LSL).
/// Flash: per pair 4 start words, per step of 4 values one int8 word of each row, the requantization operands.
/// </summary>
internal sealed class WidenedBlocks
{
    /// <summary>Fewer pairs per block than this would gather the columns too often to pay.</summary>
    private const int MinBlockPairs = 4;

    /// <summary>Fewer output pixels than this would not pay for the widening.</summary>
    private const int MinPixels = 16;

    private readonly int[] _shifts;
    private readonly int _blockPairs, _offsetWords, _pairWords;
    private IDisposable? _loop;

    private WidenedBlocks(int[] shifts, int blockPairs, int offsetWords, int pairWords) =>
        (_shifts, _blockPairs, _offsetWords, _pairWords) = (shifts, blockPairs, offsetWords, pairWords);

    /// <summary>The scratch the blocks use: the columns (and row) in front, then one block of widened pairs.</summary>
    public long ScratchBytes => 4L * (_offsetWords + _blockPairs * _pairWords);

    private bool Uniform => _shifts.Distinct().Count() == 1;

    /// <summary>Per pair after the requantization operands: none for one shift, else both channels' left shifts.</summary>
    public int ShiftWords => Uniform ? 0 : 2;

    public int[] Words(int channel0, int channel1) => Uniform ? [] : [_shifts[channel0], _shifts[channel1]];

    private static int[] Shifts(DspRequantization fast) => fast.Scale.Select(v => (int)Math.Log2(v)).ToArray();

    /// <summary>Words of one pair widened: start, 4 per step, operands and shifts.</summary>
    private static int WidenedPairWords(int steps, DspRequantization fast) =>
        4 + 4 * steps + 2 * fast.StreamedOperands(0).Length + (Shifts(fast).Distinct().Count() == 1 ? 0 : 2);

    private static int OffsetWords(long baseBytes) => (int)((baseBytes + 3) / 4);

    /// <summary>The scratch sizes that would run the layer this way, fewest blocks first (none where it does not pay).
    /// <paramref name="oneBlock"/>: the output may take the input's bytes, so no pixel may be gathered again after its
    /// outputs are stored.</summary>
    public static IReadOnlyList<long> Wishes(GemmShape s, int columnValues, DspRequantization fast, long baseBytes, bool oneBlock)
    {
        var wishes = new List<long>();
        if (s.OutC % 2 == 1 || s.Pixels < MinPixels) return wishes;
        int pairs = s.OutC / 2, ram = WidenedPairWords(columnValues / 4, fast);
        for (int blocks = 1; (pairs + blocks - 1) / blocks >= Math.Min(MinBlockPairs, pairs) && blocks <= (oneBlock ? 1 : pairs); blocks *= 2)
            wishes.Add(4L * (OffsetWords(baseBytes) + (pairs + blocks - 1) / blocks * ram));
        return wishes.Distinct().ToList();
    }

    /// <summary>The blocks that <paramref name="granted"/> bytes of scratch hold, or null (too few: the compact pairs).</summary>
    public static WidenedBlocks? For(GemmShape s, int columnValues, DspRequantization fast, long granted, long baseBytes, bool oneBlock)
    {
        if (s.OutC % 2 == 1 || s.Pixels < MinPixels) return null;
        int pairs = s.OutC / 2, pairWords = WidenedPairWords(columnValues / 4, fast);
        long fit = (granted / 4 - OffsetWords(baseBytes)) / pairWords;
        if (fit < Math.Min(MinBlockPairs, pairs) || (oneBlock && fit < pairs)) return null;
        int blocks = (int)((pairs + fit - 1) / fit);
        return new WidenedBlocks(Shifts(fast), (pairs + blocks - 1) / blocks, OffsetWords(baseBytes), pairWords);
    }

    /// <summary>Each channel's rows as int8 words ([channel][steps]), the stream's order within a step.</summary>
    public static int[] Rows(sbyte[] laid) =>
        Enumerable.Range(0, laid.Length / 4).Select(k => (int)((byte)laid[4 * k] | ((uint)(byte)laid[4 * k + 1] << 8) | ((uint)(byte)laid[4 * k + 2] << 16) | ((uint)(byte)laid[4 * k + 3] << 24))).ToArray();

    public string Description(string filter, int pairs, int steps, string operands) =>
        $"{filter}: [{pairs} channel pairs][the pair's bias - input zero point * sum of its filter row: b0, b0, b1, b1][{steps} steps of 4 values][2 channels][1 word of 4 int8]{operands}" +
        (ShiftWords == 0 ? "" : "[accumulator left shifts of both channels]") + $"; widened into the scratch {_blockPairs} pairs at a time";

    /// <summary>Opens the loop over blocks (closed by <see cref="Close"/>): the block widened into the scratch. Returns the
    /// widened stream, its end and the output offset of the block's first channel.</summary>
    public (string Rows, string End, string Channel) Open(CodeWriter body, string filter, int pairs, int steps, int tailWords)
    {
        int flashWords = 4 + 2 * steps + tailWords, ramWords = 4 + 4 * steps + tailWords;
        body.Line($"int32_t* const wide = (int32_t*)scratch + {_offsetWords}; /* {_blockPairs} pairs of filter rows widened to int16 pairs ({ramWords} words each) */");
        body.Line("int c0;");
        _loop = body.Block($"for (c0 = 0; c0 < {2 * pairs}; c0 += {2 * _blockPairs})");
        body.Line($"const int n = {2 * pairs} - c0 < {2 * _blockPairs} ? ({2 * pairs} - c0) / 2 : {_blockPairs}; /* pairs in this block */");
        body.Line($"const int32_t* const wide_end = wide + n * {ramWords};");
        body.Line($"mtvm_gemm8_widen({filter} + c0 / 2 * {flashWords}, wide, n, {steps}, {tailWords});");
        return ("wide", "wide_end", " + c0");
    }

    public void Close(CodeWriter body) => _loop?.Dispose();

    /// <summary>The accumulators times 2^shift after the steps (non-uniform shifts: channel 0's in r10, channel 1's in r11).</summary>
    public IEnumerable<string> Scale()
    {
        if (!Uniform) return ["lsl r2, r2, r10", "lsl r3, r3, r10", "lsl r12, r12, r11", "lsl lr, lr, r11"];
        int k = _shifts[0];
        return k == 0 ? [] : [$"lsl r2, r2, #{k}", $"lsl r3, r3, #{k}", $"lsl r12, r12, #{k}", $"lsl lr, lr, #{k}"];
    }

    /// <summary>The portable form of <see cref="Scale"/>; <paramref name="at"/>: the shift words' index from the pair's operands.</summary>
    public string CScale(int at)
    {
        var (left0, left1) = Uniform ? (CLiteral.Int(_shifts[0]), CLiteral.Int(_shifts[0])) : ($"w[{at}]", $"w[{at + 1}]");
        return $"a[0] = (int32_t)((uint32_t)a[0] << {left0}); a[1] = (int32_t)((uint32_t)a[1] << {left0}); " +
               $"a[2] = (int32_t)((uint32_t)a[2] << {left1}); a[3] = (int32_t)((uint32_t)a[3] << {left1});";
    }
}
