using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tuning;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 DEPTHWISE_CONV_2D (dilation 1, input channels a multiple of 4, any depth multiplier, stride and padding) for
/// CPUs with the DSP extension, two MACs per SMLAD. SMLAD adds both products into one accumulator, so its two lanes
/// must hold the same channel at two taps: each input row a group of 4 channels needs is widened once into a ring of
/// rows in the scratch, per channel as int16 pairs of horizontally adjacent columns, (x[2j], x[2j+1]) — two loads,
/// four SXTB16 and four PKH for 8 values, then reused by every filter row and output pixel that reads it. Each row is
/// kept twice (at row % rows and at that + rows), so the rows one output row reads are consecutive slots: one pointer
/// and literal offsets reach them. The filter is re-laid out at compile time as int16 pairs: per output channel and
/// filter row (k0, k1), (k2, k3)… and (k1, k2), (k3, k4)…, shared by windows starting on an even column and on an odd
/// one (FilterRow: the taps a pair leaves over by SMLATB/SMLABT; even strides (k0, k1), (k2, 0)…), so one pair word of
/// input feeds two pixels; each channel's record holds its folded bias(es) and requantization operands before its filter
/// words, so one pointer walks them. Padding columns and rows hold the input zero point, so every pixel runs the same
/// code and the zero point's contribution is one constant per channel folded into the bias. Pixels are computed in
/// blocks along the row, one channel and one filter row at a time: its filter words and input words come in pairs by
/// LDRD and each feeds every pixel of the block that uses it, few values live (gcc keeps them in registers).
/// A pixel at a literal position in an assembly block (not the block's first) skips the terms that read only padding
/// columns and starts from a border bias (after the bias in its channel's record) that holds their share of the zero
/// point (KWS: the last pixel's right column, 3 of 30 MACs per channel row). Per-channel right shifts that differ
/// become one shift for all (<see cref="DspUniformShiftRequantization"/>: SMMLA and SSAT's free shift, no ASR per
/// output, no shift word). KWS's 3x3 layers per channel row of 5 outputs: 27 MACs, 9 loads (the bias pair, per filter
/// row 2 input loads and a filter pair), 3 per output to requantize and store and its operand pair, about 10 to widen
/// and store the ring's new row, about 6 of loop: 113,360 instructions on the M7 for 72,000 MACs (14.2 per output).
/// </summary>
internal sealed class DspDepthwiseKernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) =>
        target.HasDsp && TargetEligibility.Depthwise(node) is { } a
        && node.Input(0).Shape[3] % 4 == 0 && node.Output.Shape[3] == node.Input(0).Shape[3] * a.DepthMultiplier;

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>Output pixels per block along the row (each filter word read once per block).</summary>
    internal static readonly Knob Pixels = new("pixels", new[] { "8", "4", "2" });

    private int _block = int.Parse(Pixels.Default, System.Globalization.CultureInfo.InvariantCulture);
    private bool _generalRequantization;

    public override IReadOnlyList<Knob> Knobs(Node node) =>
        node.Output.Shape[2] > 2 ? new[] { Pixels, DspGemmKernel.RequantizationPath } : new[] { DspGemmKernel.RequantizationPath };

    public override TargetKernel Configure(Schedule schedule) =>
        new DspDepthwiseKernel { _block = int.Parse(schedule.Get(Pixels), System.Globalization.CultureInfo.InvariantCulture), _generalRequantization = schedule.Get(DspGemmKernel.RequantizationPath) == "general" };

    /// <summary>The ring's geometry: words per channel row (pairs of padded columns), and filter words per filter row
    /// for windows starting on an even column and on an odd one (none when no window does).</summary>
    private readonly record struct Geometry(int RowWords, int EvenWords, int OddWords)
    {
        public static Geometry Of(Node node)
        {
            var a = node.AttributesAs<DepthwiseConv2DAttributes>();
            int iw = node.Input(0).Shape[2], ow = node.Output.Shape[2], fw = node.Input(1).Shape[2];
            int pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, a.StrideW, 1);
            int even = (fw + 1) / 2, odd = a.StrideW % 2 == 1 && ow > 1 ? fw / 2 + 1 : 0;
            // Every word a pixel reads (its window starts at padded column ox * stride), and every pair the image touches.
            int words = (pw + iw + 1) / 2;
            for (int ox = 0; ox < ow; ox++)
            {
                int start = ox * a.StrideW;
                words = Math.Max(words, start / 2 + (start % 2 == 0 ? even : odd));
            }

            return new Geometry(words, even, odd);
        }
    }

    /// <summary>One multiply of a pixel's window on one filter row: input word <c>Word</c> of the window's first (the
    /// word holding its first column), filter word <c>Filter</c> of the row, and which halves (SMLAD both; SMLABT the
    /// input's bottom times the filter's top; SMLATB the input's top times the filter's bottom; SMLABB both bottoms).</summary>
    private readonly record struct Term(int Word, int Filter, string Op);

    /// <summary>The filter words of one filter row and the terms of a window starting on an even column and on an odd
    /// one. Both parities share the row's words: A_j = (k[2j], k[2j+1]) and B_j = (k[2j+1], k[2j+2]); an even window is
    /// the A words by SMLAD (and its last tap, for an odd width, the top of the last B word by SMLABT), an odd window its
    /// first tap by SMLATB with A_0's bottom, the B words by SMLAD (and its last tap, for an even width, the top of the
    /// last A word by SMLABT). So fw - 1 words a row serve both (fw + 1 when each parity had its own, zero-padded ones:
    /// one LDRD a filter row less for 3 taps). Width 1: one word (k0, k0). Without odd windows (even strides) the pairs
    /// (k[2j], k[2j+1]) by SMLAD alone, the last zero-padded for an odd width.</summary>
    private readonly record struct FilterRow(IReadOnlyList<(int Low, int High)> Words, IReadOnlyList<Term> Even, IReadOnlyList<Term> Odd)
    {
        public static FilterRow Of(int fw, bool oddWindows)
        {
            var words = new List<(int Low, int High)>();
            var even = new List<Term>();
            var odd = new List<Term>();
            if (!oddWindows)
            {
                // (k[2j], k[2j+1]) by SMLAD, the last zero-padded for an odd width.
                for (int j = 0; j < (fw + 1) / 2; j++)
                {
                    words.Add((2 * j, 2 * j + 1 < fw ? 2 * j + 1 : -1));
                    even.Add(new Term(j, j, "smlad"));
                }

                return new FilterRow(words, even, odd);
            }

            if (fw == 1)
            {
                words.Add((0, 0));
                even.Add(new Term(0, 0, "smlabb"));
                odd.Add(new Term(0, 0, "smlatb"));
                return new FilterRow(words, even, odd);
            }

            int a = fw / 2, b = (fw - 1) / 2;
            for (int j = 0; j < a; j++) words.Add((2 * j, 2 * j + 1));
            for (int j = 0; j < b; j++) words.Add((2 * j + 1, 2 * j + 2));
            for (int j = 0; j < a; j++) even.Add(new Term(j, j, "smlad"));
            if (fw % 2 == 1) even.Add(new Term(a, a + b - 1, "smlabt"));
            odd.Add(new Term(0, 0, "smlatb"));
            for (int j = 0; j < b; j++) odd.Add(new Term(1 + j, a + j, "smlad"));
            if (fw % 2 == 0) odd.Add(new Term(a, a - 1, "smlabt"));

            return new FilterRow(words, even, odd);
        }

        /// <summary>The packed word <paramref name="i"/> from the row's taps (tap(fx), already scaled).</summary>
        public int Pack(int i, Func<int, int> tap) => Int16Pairs.Pack(tap(Words[i].Low), tap(Words[i].High));
    }

    /// <summary>The ring: two slots per filter row (each row is kept twice, at row % rows and at that + rows, so the rows
    /// one output row reads lie in consecutive slots at fixed distances from one pointer), each [4 channels][RowWords].</summary>
    public override long ScratchBytes(Node node) => 4L * 2 * node.Input(1).Shape[1] * 4 * Geometry.Of(node).RowWords;

    public override int ScratchAlignment(Node node) => 4;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        int batches = input.Shape[0], ih = input.Shape[1], iw = input.Shape[2], ch = input.Shape[3];
        int oh = output.Shape[1], ow = output.Shape[2], outC = output.Shape[3], mult = outC / ch;
        int fh = filter.Shape[1], fw = filter.Shape[2], groups = ch / 4, sw = a.StrideW;
        int ph = ConvGeometry.PaddingBefore(a.Padding, ih, fh, a.StrideH, 1), pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, sw, 1);
        int zx = input.Quantization!.ZeroPoint;
        var geometry = Geometry.Of(node);
        int rowWords = geometry.RowWords, slot = 4 * rowWords, even = geometry.EvenWords, odd = geometry.OddWords;

        // Padding taps hold the zero point, so the correction is the same for every pixel: bias - zx * sum of the taps.
        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, outC);
        var folded = new int[outC];
        var bound = new long[outC];
        for (int oc = 0; oc < outC; oc++)
        {
            long sum = 0, magnitude = 0;
            for (int tap = 0; tap < fh * fw; tap++)
            {
                sum += w[tap * outC + oc];
                magnitude += Math.Abs((long)w[tap * outC + oc]);
            }

            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
            bound[oc] = Math.Abs((long)folded[oc]) + 128L * magnitude;
        }

        var q = ConvQuantization.Derive(input, filter, output, outC, a.Activation);
        // The fast requantization wants the accumulator times a power of two per channel: filter pairs and biases carry it.
        // Per-channel right shifts that differ: one shift for all (no ASR per output), else DspRequantization's form.
        var uniform = _generalRequantization ? null : DspUniformShiftRequantization.TryCreate(q, bound);
        var fast = _generalRequantization || uniform is not null ? null : DspRequantization.TryCreate(q, bound);
        int ScaleOf(int channel) => uniform?.Scale[channel] ?? fast?.Scale[channel] ?? 1;
        int[] OperandsOf(int channel) => uniform?.ChannelOperands(channel) ?? fast?.ChannelOperands(channel) ?? [];
        bool scaled = uniform is not null || fast is not null;

        // Per output channel one record, read through one pointer: the folded bias, the border biases (BorderSets), the
        // requantization's operands when they differ between channels, then per filter row its words (A, then B: FilterRow).
        var filterRow = FilterRow.Of(fw, odd > 0);
        int rowStride = filterRow.Words.Count, channelStride = fh * rowStride;
        int operandWords = OperandsOf(0).Length;
        var borders = new List<int[]>();
        int header = 1 + operandWords, record = header + channelStride;
        var plan = BlockPlan();
        borders = BorderSets(plan);
        header += borders.Count;
        record += borders.Count;
        if (borders.Count > 0 && BlockPlan() != plan)
        {
            // Never seen: the longer record moved a block past LDRD's reach; then no border biases.
            header -= borders.Count;
            record -= borders.Count;
            borders.Clear();
        }

        int biasWords = 1 + borders.Count;
        var records = new int[outC * record];
        for (int oc = 0; oc < outC; oc++)
        {
            int at0 = oc * record;
            records[at0] = folded[oc] * ScaleOf(oc);
            for (int s = 0; s < borders.Count; s++)
            {
                long dropped = 0;
                for (int fy = 0; fy < fh; fy++)
                    foreach (int fx in borders[s])
                        dropped += w[(fy * fw + fx) * outC + oc];
                records[at0 + 1 + s] = checked((int)((folded[oc] + zx * dropped) * ScaleOf(oc)));
            }

            OperandsOf(oc).CopyTo(records, at0 + biasWords);
            for (int fy = 0; fy < fh; fy++)
            {
                int Tap(int fx) => fx >= 0 && fx < fw ? w[(fy * fw + fx) * outC + oc] * ScaleOf(oc) : 0;
                int at = at0 + header + fy * rowStride;
                for (int j = 0; j < rowStride; j++) records[at + j] = filterRow.Pack(j, Tap);
            }
        }

        string wName = c.Constants.Int32($"{c.Prefix}_filter", records,
            $"operator {node.Index} per output channel: bias - input zero point * sum of the taps{(borders.Count > 0 ? $", {borders.Count} border bias(es) (the same plus input zero point * the taps of columns {string.Join(" / ", borders.Select(set => string.Join(" ", set)))}, for pixels that skip those padding columns)" : "")}{(uniform is not null ? ", the requantization's operands (multiplier, SMMLA's constant)" : operandWords > 0 ? ", the requantization's operands (multiplier, rounding constant, right shift where they differ by channel)" : "")}, filter {filter.Name} {Dims(filter)} as int16 pairs of adjacent taps{(scaled ? " (biases and taps times the requantization's power of two)" : "")}: [{outC} channels][{header} + {fh} rows * {rowStride} pairs ({string.Join(", ", filterRow.Words.Select(p => $"(k{p.Low}, k{p.High})"))})]");

        var (multiplier, shift) = !scaled ? DspGemmKernel.Requantization(c, q) : ("", "");
        c.Support.Use("mtvm_dsp");
        c.Support.Use("mtvm_dsp_requantize");
        string function = DspGemmKernel.SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        var operandNames = Enumerable.Range(1, operandWords).Select(i => $"q{i}").ToList();
        string Requantize(string acc) => uniform is not null ? uniform.Output(acc, operandNames) : fast is not null ? fast.Output(acc, operandNames) :
            $"{function}({acc}, {string.Format(multiplier, "oc")}, {string.Format(shift, "oc")}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        string zeroPair = CLiteral.Int(Int16Pairs.Pack(zx, zx));
        var body = c.Body;
        body.Line($"int32_t* const ring = (int32_t*)scratch; /* [2][{fh} input rows, by row % {fh}][4 channels][{rowWords} column pairs] */");
        body.Line("int n, g, oy, i;");
        using (body.Block($"for (i = 0; i < {2 * fh * slot}; ++i)"))
            body.Line($"ring[i] = {zeroPair}; /* columns outside the image stay so */");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (g = 0; g < {groups}; ++g)"))
        {
            // Rows are filled in order, each once (or, for strides of at least the filter height, the window's rows per
            // output row), into consecutive slots: row iy lives in slot (iy + ph) % fh, and the window of output row oy
            // starts at slot (oy * stride) % fh.
            int fresh = Math.Min(a.StrideH, fh), advance = a.StrideH < fh ? a.StrideH : 0;
            body.Line("int32_t* fill = ring; /* the slot of the next row to fill */");
            body.Line("const int32_t* rows = ring; /* the slot of output row oy's first input row: filter row fy reads rows + fy * " + slot + " */");
            // Input row iy into the next slot (both copies), the zero point where it is padding.
            void Fill()
            {
                body.Line("int32_t* const dst = fill;");
                body.Line($"fill = fill == ring + {(fh - 1) * slot} ? ring : fill + {slot};");
                if (ph == 0 && (oh - 1) * a.StrideH + fh <= ih)
                {
                    Widen(body, c.Input(0), $"n * {ih * iw * ch} + iy * {iw * ch} + 4 * g", fh * slot, iw, ch, pw, rowWords, zeroPair);
                    return;
                }

                using (body.Block($"if (iy < 0 || iy >= {ih})"))
                {
                    if (slot <= 32 && (fh + 1) * slot <= MaxPairIndex) // unrolled, pairs by STRD
                    {
                        body.Line($"const int32_t zero = {zeroPair}; /* a padding row */");
                        for (int at = 0; at < slot; at += 2)
                            foreach (int copy in new[] { at, fh * slot + at })
                                body.Line(at + 1 < slot ? $"MTVM_STORE_PAIR(zero, zero, dst, {copy});" : $"dst[{copy}] = zero;");
                    }
                    else
                        using (body.Block($"for (i = 0; i < {slot}; ++i)"))
                            body.Line($"dst[i] = dst[{fh * slot} + i] = {zeroPair}; /* a padding row */");
                }

                using (body.Block("else"))
                    Widen(body, c.Input(0), $"n * {ih * iw * ch} + iy * {iw * ch} + 4 * g", fh * slot, iw, ch, pw, rowWords, zeroPair);
            }

            // The first output row's window but for the rows every output row reads fresh, then those per output row
            // (one row: straight; kws 7,000 instructions less than one loop for both).
            if (fh - fresh == 1)
                using (body.Block(""))
                {
                    body.Line($"const int iy = {-ph};");
                    Fill();
                }
            else if (fresh < fh)
                using (body.Block($"for (int iy = {-ph}; iy < {fh - fresh - ph}; ++iy)"))
                    Fill();
            using (body.Block($"for (oy = 0; oy < {oh}; ++oy)"))
            {
                if (fresh == 1)
                    using (body.Block(""))
                    {
                        body.Line($"const int iy = oy * {a.StrideH} + {fh - 1 - ph};");
                        Fill();
                    }
                else
                    using (body.Block($"for (int iy = oy * {a.StrideH} + {fh - fresh - ph}; iy < oy * {a.StrideH} + {fh - ph}; ++iy)"))
                        Fill();

                // With a depth multiplier of 1 the group's four channels are written out one after another (c a literal):
                // the assembly then reaches each channel's ring words and record at literal offsets from the same two
                // pointers, and no loop counter or pointer steps are left between channels (kws: 72 -> 65 instructions per
                // channel row).
                // Only where every block of the row runs in assembly (BlockPlan).
                var (block, unroll) = plan;
                int full = ow / block * block;
                int copies = unroll ? 4 : 1;
                for (int copy = 0; copy < copies; copy++)
                    using (body.Block(unroll ? "" : "for (int c = 0; c < 4; ++c)"))
                    {
                        string cc = unroll ? CLiteral.Int(copy) : "c";
                        body.Line($"const int32_t* const x = rows + {cc} * {rowWords};");
                        body.Line(mult == 1 ? $"const int oc = 4 * g + {cc};" : "int oc;");
                        using (body.Block(mult == 1 ? "" : $"for (oc = (4 * g + c) * {mult}; oc < (4 * g + c + 1) * {mult}; ++oc)"))
                        {
                            body.Line($"const int32_t* const k = {wName} + oc * {record};");
                            body.Line($"int8_t* const o = {c.Output()} + (n * {oh} + oy) * {ow * outC} + oc;");
                            var asm = new AsmBases(copy * rowWords, copy * record);
                            if (full > block)
                                using (body.Block($"for (int ox = 0; ox < {full}; ox += {block})"))
                                    Block(body, "ox", block, asm);
                            else if (full == block)
                                Block(body, "0", block, asm);
                            // The rest start on an even pixel (blocks are even, or one pixel).
                            for (int start = full; start < ow; start += 2)
                                Block(body, CLiteral.Int(start), Math.Min(2, ow - start), asm);
                        }
                    }

                if (advance > 0)
                {
                    body.Line($"rows += {advance * slot};");
                    body.Line($"if (rows >= ring + {fh * slot}) rows -= {fh * slot};");
                }
            }
        }

        // The row's blocks: a block of block pixels from pixel 0 on (from every multiple of it, in a loop, when the row
        // holds more than one), then the rest two at a time from an even pixel. A block of 7 or 8 pixels whose values do
        // not fit the registers (stride 1, or a depth multiplier) runs as blocks of 4 in assembly: faster than gcc's
        // spilling C (13-pixel rows of 8 channels 9,520 -> 8,720 instructions); shorter ones stay whole (stride-2 rows of
        // 5: 5 in C beat 4 in assembly and a last pixel). Unroll: the group's four channels written out one after another
        // where every block fits the assembly at their offsets (gcc, given four copies of C blocks, spills their pointers).
        (int Block, bool Unroll) BlockPlan()
        {
            int block = Math.Min(_block, ow);
            if (block >= 7 && !FitsAssembly(0, block, default) && FitsAssembly(0, 4, default)) block = 4;
            bool unroll = mult == 1 && Blocks(block).All(b => FitsAssembly(b.Literal ? b.Start * sw / 2 : 0, b.Count, new AsmBases(3 * rowWords, 3 * record)));
            return (block, unroll);
        }

        // The blocks of a row (Literal: its first pixel is a literal in the code, not the loop's ox).
        IEnumerable<(int Start, int Count, bool Literal)> Blocks(int block)
        {
            int full = ow / block * block;
            for (int start = 0; start < full; start += block) yield return (start, block, full == block);
            for (int start = full; start < ow; start += 2) yield return (start, Math.Min(2, ow - start), true);
        }

        // A term reads only padding columns where every column of its input halves lies outside the image: a pixel at a
        // literal position then skips it, and starts from a bias that holds those taps' share of the zero point (padding
        // reads the zero point, so its product is a constant). The tap columns the term multiplies, then.
        IEnumerable<int> PaddingTaps(int pixel, Term t)
        {
            int j = pixel * sw / 2 + t.Word;
            var columns = t.Op switch { "smlad" => new[] { 2 * j, 2 * j + 1 }, "smlatb" => new[] { 2 * j + 1 }, _ => new[] { 2 * j } };
            if (!columns.All(column => column < pw || column >= pw + iw)) return [];
            var (low, high) = filterRow.Words[t.Filter];
            var taps = t.Op switch { "smlad" => new[] { low, high }, "smlabt" => new[] { high }, _ => new[] { low } };
            return taps.Where(fx => fx >= 0);
        }

        IReadOnlyList<Term> TermsOf(int pixel) => pixel * sw % 2 == 1 ? filterRow.Odd : filterRow.Even;

        // The tap columns pixel skips (none for pixel 0 of a block: its bias register is every other pixel's start).
        int[] Skipped(int pixel) => TermsOf(pixel).SelectMany(t => PaddingTaps(pixel, t)).Distinct().Order().ToArray();

        // The distinct non-empty sets of skipped tap columns of the pixels at literal positions (not a block's first) in
        // blocks that run in assembly (gcc, given the C with one more bias, spilled: stride-2 rows of 5 in C, 8 channels,
        // 5,280 -> 5,600 instructions), each one bias word per channel after the plain bias.
        List<int[]> BorderSets((int Block, bool Unroll) p) =>
            Blocks(p.Block).Where(b => b.Literal && FitsAssembly(b.Start * sw / 2, b.Count, p.Unroll ? new AsmBases(3 * rowWords, 3 * record) : default))
                .SelectMany(b => Enumerable.Range(b.Start + 1, b.Count - 1)).Select(Skipped)
                .Where(set => set.Length > 0).DistinctBy(set => string.Join(",", set)).ToList();

        // The record word pixel starts from: 0 (the bias) or its border bias (pixel null: the block is in a loop or in C).
        int BiasWord(int? pixel, bool first)
        {
            if (pixel is not { } p || first) return 0;
            var set = Skipped(p);
            return set.Length == 0 ? 0 : 1 + borders.FindIndex(b => b.SequenceEqual(set));
        }

        /// <summary>Declares the block's accumulators a0.. and, where the DSP assembly is available and the block's values fit
        /// the registers, opens an <c>#if MTVM_DSP_ASM</c> branch that computes them in one asm statement (gcc, left to the C
        /// below, hoists every load and spills accumulators and pointers: 82 instructions per kws channel row instead of 68).
        /// The same operations in the same order as the C: pixel 0's accumulator first holds the bias, which every other
        /// accumulator's first SMLAD reads, so it is the last one to start. Returns whether the branch was opened.</summary>
        // count pixels from one whose window starts on an even column (pixel start, when a literal): pixel i's window
        // starts i * stride columns later, on word (i * stride) / 2 (first), with the odd-start filter words when i * stride
        // is odd; terms, a filter row's terms of each pixel (those on padding columns left out where it starts from a
        // border bias: biases, its record word); used, the block's input words per row.
        (int[] First, IReadOnlyList<Term>[] Terms, int[] Biases, List<int> Used) Layout(int count, int? start)
        {
            var first = Enumerable.Range(0, count).Select(i => i * sw / 2).ToArray();
            var biases = Enumerable.Range(0, count).Select(i => BiasWord(start + i, i == 0)).ToArray();
            var terms = Enumerable.Range(0, count).Select(i => biases[i] == 0 ? TermsOf(i)
                : TermsOf(i).Where(t => !PaddingTaps(start!.Value + i, t).Any()).ToList()).ToArray();
            var used = Enumerable.Range(0, count).SelectMany(i => terms[i].Select(t => first[i] + t.Word)).Distinct().Order().ToList();
            return (first, terms, biases, used);
        }

        // A filter row's multiplies for a block: per input word in order, the pixels that read it, with their terms.
        List<(int I, int J, Term Term)> Operations(int count, int[] first, IReadOnlyList<Term>[] terms, List<int> used) =>
            used.SelectMany(j => Enumerable.Range(0, count).SelectMany(i => terms[i].Where(t => first[i] + t.Word == j).Select(t => (i, j, t)))).ToList();

        // How many of a filter row's words the block's assembly holds at once (the rest of the registers; the row's words
        // are loaded in rounds of that many when they do not all fit, every pixel's first term reading word 0).
        int FilterTemps(int count, List<int> used) => Math.Min(rowStride, AsmRegisters - count - used.Count - 2);

        // Whether a block of count pixels from ring word at fits one asm statement: its values in the registers, its offsets in LDRD's reach.
        bool FitsAssembly(int at, int count, AsmBases bases)
        {
            var (_, _, _, used) = Layout(count, null);
            int reach = (fh - 1) * slot + at + used[^1] + bases.XWords;
            return FilterTemps(count, used) >= Math.Min(2, rowStride) && reach <= MaxPairIndex && bases.KWords + header + fh * rowStride <= MaxPairIndex;
        }

        bool AccumulateInAssembly(CodeWriter body, string xb, AsmBases bases, int at, int count, int[] first, IReadOnlyList<Term>[] terms, int[] biases, List<int> used)
        {
            body.Line("int32_t " + string.Join(", ", Enumerable.Range(0, count).Select(i => $"a{i}")) + ";");
            if (!FitsAssembly(at, count, bases)) return false;

            var lines = new List<string>();
            void Load(string pointer, IReadOnlyList<(string Name, int Index)> loads)
            {
                int offset = pointer == "x" ? bases.XWords : bases.KWords;
                loads = loads.Select(l => (l.Name, l.Index + offset)).ToList();
                for (int i = 0; i < loads.Count; i++)
                    if (i + 1 < loads.Count && loads[i + 1].Index == loads[i].Index + 1)
                    {
                        lines.Add($"ldrd %[{loads[i].Name}], %[{loads[i + 1].Name}], [%[{pointer}], #{4 * loads[i].Index}]");
                        i++;
                    }
                    else
                        lines.Add($"ldr %[{loads[i].Name}], [%[{pointer}], #{4 * loads[i].Index}]");
            }

            // The bias into a0, and each border bias into its pixel's accumulator, which then starts from it.
            Load("k", Enumerable.Range(0, count).Where(i => i == 0 || biases[i] > 0).Select(i => ($"a{i}", biases[i])).OrderBy(l => l.Item2).ToList());
            var started = Enumerable.Range(0, count).Select(i => biases[i] > 0).ToArray();
            var all = Operations(count, first, terms, used);
            var needed = all.Select(op => op.Term.Filter).Distinct().Order().ToList();
            int filterTemps = Math.Min(FilterTemps(count, used), needed.Count);
            for (int fy = 0; fy < fh; fy++)
            {
                Load("x", used.Select(j => ($"w{j}", fy * slot + at + j)).ToList());
                foreach (var round in needed.Chunk(filterTemps))
                {
                    Load("k", round.Select((f, t) => ($"t{t}", header + fy * rowStride + f)).ToList());
                    // Row 0: pixel 0 last, so the bias in a0 is read by every other accumulator first (each pixel's first
                    // term reads filter word 0, in the first round).
                    var ops = all.Where(op => round.Contains(op.Term.Filter)).ToList();
                    var births = ops.Where(op => !started[op.I]).GroupBy(op => op.I).Select(g => g.First()).OrderBy(op => op.I == 0 ? 1 : 0).ToList();
                    foreach (var (i, j, term) in births.Concat(ops.Except(births)))
                    {
                        lines.Add($"{term.Op} %[a{i}], %[w{j}], %[t{Array.IndexOf(round, term.Filter)}], %[a{(started[i] ? i : 0)}]");
                        started[i] = true;
                    }
                }
            }

            body.Line("#if MTVM_DSP_ASM");
            using (body.Block(""))
            {
                var temps = used.Select(j => $"w{j}").Concat(Enumerable.Range(0, filterTemps).Select(j => $"t{j}")).ToList();
                body.Line("int32_t " + string.Join(", ", temps) + ";");
                body.Line("__asm__ volatile("); // volatile: its inputs may be the same in the next output row while the ring it reads changed, and gcc moves a non-volatile asm out of such loops despite the memory clobber
                foreach (string line in lines) body.Line($"    \"{line}\\n\\t\"");
                body.Line("    : " + string.Join(", ", Enumerable.Range(0, count).Select(i => $"[a{i}] \"=&r\"(a{i})").Concat(temps.Select(t => $"[{t}] \"=&r\"({t})"))));
                body.Line($"    : [x] \"r\"({xb}{(bases.XWords > 0 ? $" - {bases.XWords}" : "")}), [k] \"r\"(k{(bases.KWords > 0 ? $" - {bases.KWords}" : "")})");
                body.Line("    : \"memory\");");
                body.Line(string.Join(" ", temps.Select(t => $"(void){t};")));
            }

            return true;
        }

        // count pixels from pixel ox (even, so its window starts on an even column): pixel i's window starts i * stride
        // columns later, on word (i * stride) / 2 and with the odd-start filter words when i * stride is odd.
        void Block(CodeWriter body, string ox, int count, AsmBases bases)
        {
            using (body.Block(""))
            {
                // Input words are read at literal offsets from one pointer where LDRD's reach (255 words) allows.
                int at = ox == "ox" ? 0 : int.Parse(ox, System.Globalization.CultureInfo.InvariantCulture) * sw / 2;
                if (ox == "ox") body.Line($"const int32_t* const xb = x + ox * {sw} / 2;");
                string xb = ox == "ox" ? "xb" : "x";
                // One filter row at a time, its filter words in locals and its input words read once each (adjacent: LDRD)
                // and fed at once to every pixel of the block that uses them.
                var (first, terms, biases, used) = Layout(count, ox == "ox" || !FitsAssembly(at, count, bases) ? null : int.Parse(ox, System.Globalization.CultureInfo.InvariantCulture));
                bool assembly = AccumulateInAssembly(body, xb, bases, at, count, first, terms, biases, used);
                if (assembly) body.Line("#else");
                body.Line("const int32_t bias = k[0];");
                body.Line(string.Join(" ", Enumerable.Range(0, count).Select(i => biases[i] == 0 ? $"a{i} = bias;" : $"a{i} = k[{biases[i]}]; /* a border bias */")));
                for (int fy = 0; fy < fh; fy++)
                    using (body.Block(""))
                    {
                        int row = header + fy * rowStride;
                        int reach = fy * slot + at + used[^1];
                        string p = reach <= MaxPairIndex ? xb : "p";
                        int pAt = reach <= MaxPairIndex ? fy * slot + at : 0;
                        if (p == "p") body.Line($"const int32_t* const p = {xb} + {fy * slot + at};");
                        LoadWords(body, p, used.Select(j => ($"w{j}", pAt + j)).ToList());
                        using (body.Block(""))
                        {
                            var ops = Operations(count, first, terms, used);
                            LoadWords(body, "k", ops.Select(op => op.Term.Filter).Distinct().Order().Select(f => ($"e{f}", row + f)).ToList());
                            foreach (var (i, j, term) in ops)
                                body.Line($"a{i} = mtvm_{term.Op}(w{j}, e{term.Filter}, a{i});");
                        }
                    }

                if (assembly) body.Line("#endif");
                // The requantization's operands only now (few registers are free while the block accumulates).
                if (operandNames.Count > 0)
                {
                    body.Line("MTVM_LOADS_AFTER();");
                    body.Line("const int32_t " + string.Join(", ", operandNames.Select((n, i) => $"{n} = k[{biasWords + i}]")) + ";");
                }
                for (int i = 0; i < count; i++)
                    body.Line($"o[({ox} + {i}) * {outC}] = {Requantize($"a{i}")};");
            }
        }
    }

    /// <summary>Words a block's assembly adds to every offset from its ring pointer and from its record pointer, which
    /// are then the group's first channel's (the same two registers for the group's four channels).</summary>
    private readonly record struct AsmBases(int XWords, int KWords);

    /// <summary>Register budget of one block's accumulation in one asm statement: its accumulators, input words, one
    /// parity's filter words and the two pointers (gcc keeps the rest of the loop's state elsewhere meanwhile).</summary>
    private const int AsmRegisters = 13;

    /// <summary>Declares and loads the words (name, index into <paramref name="pointer"/>), two adjacent ones by one LDRD.</summary>
    private const int MaxPairIndex = 254;

    private static void LoadWords(CodeWriter body, string pointer, IReadOnlyList<(string Name, int Index)> words)
    {
        body.Line("int32_t " + string.Join(", ", words.Select(w => w.Name)) + ";");
        for (int i = 0; i < words.Count; i++)
            if (i + 1 < words.Count && words[i + 1].Index == words[i].Index + 1 && words[i].Index <= MaxPairIndex)
            {
                body.Line($"MTVM_LOAD_PAIR({words[i].Name}, {words[i + 1].Name}, {pointer}, {words[i].Index});");
                i++;
            }
            else
                body.Line($"{words[i].Name} = {pointer}[{words[i].Index}];");
    }

    /// <summary>Input row <paramref name="source"/> (4 channels from there, <paramref name="ch"/> bytes per pixel) into a
    /// ring slot: per channel, pair j of padded columns as (x[2j], x[2j+1]); columns outside the image hold the zero
    /// point (pairs wholly outside are left as the ring was filled). Two adjacent pairs are built at a time where there
    /// are two, so each channel's two words go out by one STRD per copy.</summary>
    private static void Widen(CodeWriter body, string input, string source, int copy, int iw, int ch, int pw, int rowWords, string zeroPair)
    {
        body.Line($"const int8_t* const src = {input} + {source};");
        bool Inside(int column) => column - pw >= 0 && column - pw < iw;
        string? Column(int column) => Inside(column) ? CLiteral.Int((column - pw) * ch) : null;
        var touched = Enumerable.Range(0, rowWords).Where(j => Inside(2 * j) || Inside(2 * j + 1)).ToList();
        var interior = touched.Where(j => Inside(2 * j) && Inside(2 * j + 1)).ToList();

        // Word j's four channel words as c0{s}..c3{s}, from its left and right columns' byte offsets (null: padding).
        void Compute(string s, string? left, string? right)
        {
            if (left is not null && right is not null)
            {
                // Both columns in the image: their bytes interleaved by halves first (PKHBT, PKHTB), so each SXTB16 gives one
                // channel's pair: 2 + 4 instructions instead of 4 SXTB16 and 4 PKH.
                body.Line($"const int32_t v0{s} = (int32_t)mtvm_load4(src + {left}), v1{s} = (int32_t)mtvm_load4(src + {right});");
                body.Line($"const uint32_t l{s} = (uint32_t)mtvm_pack_lo16(v0{s}, v1{s}), h{s} = (uint32_t)mtvm_pack_hi16(v0{s}, v1{s});");
                body.Line($"const int32_t c0{s} = mtvm_sxtb16(l{s}), c1{s} = mtvm_sxtb16_ror8(l{s}), c2{s} = mtvm_sxtb16(h{s}), c3{s} = mtvm_sxtb16_ror8(h{s});");
                return;
            }

            body.Line(left is null ? $"const int32_t e0{s} = {zeroPair}, o0{s} = {zeroPair};"
                : $"const uint32_t v0{s} = mtvm_load4(src + {left}); const int32_t e0{s} = mtvm_sxtb16(v0{s}), o0{s} = mtvm_sxtb16_ror8(v0{s});");
            body.Line(right is null ? $"const int32_t e1{s} = {zeroPair}, o1{s} = {zeroPair};"
                : $"const uint32_t v1{s} = mtvm_load4(src + {right}); const int32_t e1{s} = mtvm_sxtb16(v1{s}), o1{s} = mtvm_sxtb16_ror8(v1{s});");
            body.Line($"const int32_t c0{s} = mtvm_pack_lo16(e0{s}, e1{s}), c1{s} = mtvm_pack_lo16(o0{s}, o1{s}), c2{s} = mtvm_pack_hi16(e0{s}, e1{s}), c3{s} = mtvm_pack_hi16(o0{s}, o1{s});");
        }

        // The words computed (suffixes, one or two) stored from word j on (d = dst + j when j is not a literal).
        void Store(string d, int j, IReadOnlyList<string> words)
        {
            for (int lane = 0; lane < 4; lane++)
                foreach (int at in new[] { lane * rowWords + j, copy + lane * rowWords + j })
                    if (words.Count == 2 && at <= MaxPairIndex)
                        body.Line($"MTVM_STORE_PAIR(c{lane}{words[0]}, c{lane}{words[1]}, {d}, {at});");
                    else
                        for (int i = 0; i < words.Count; i++)
                            body.Line($"{d}[{at + i}] = c{lane}{words[i]};");
        }

        // Literal words (the borders), two adjacent ones at a time.
        void Literal(IReadOnlyList<int> words)
        {
            for (int i = 0; i < words.Count; i++)
                using (body.Block(""))
                {
                    bool two = i + 1 < words.Count && words[i + 1] == words[i] + 1;
                    Compute("", Column(2 * words[i]), Column(2 * words[i] + 1));
                    if (two) Compute("b", Column(2 * words[i] + 2), Column(2 * words[i] + 3));
                    Store("dst", words[i], two ? new[] { "", "b" } : new[] { "" });
                    if (two) i++;
                }
        }

        Literal(touched.Where(j => !interior.Contains(j) && j < (interior.Count > 0 ? interior[0] : int.MaxValue)).ToList());
        if (interior.Count > 0)
        {
            string Left(string j) => $"(2 * {j} - {pw}) * {ch}";
            string Right(string j) => pw == 0 ? $"(2 * {j} + 1) * {ch}" : $"(2 * {j} - {pw - 1}) * {ch}";
            int pairs = interior.Count / 2, last = interior[0] + 2 * pairs;
            if (pairs > 0)
            {
                body.Line("int j;");
                using (body.Block($"for (j = {interior[0]}; j < {last}; j += 2)"))
                {
                    body.Line("int32_t* const d = dst + j;");
                    Compute("", Left("j"), Right("j"));
                    Compute("b", Left("(j + 1)"), Right("(j + 1)"));
                    Store("d", 0, new[] { "", "b" });
                }
            }

            if (interior.Count % 2 == 1)
                Literal(new[] { interior[^1] });
        }

        Literal(touched.Where(j => !interior.Contains(j) && interior.Count > 0 && j > interior[^1]).ToList());
    }
}
