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
/// four SXTB16 and four PKH for 8 values, then reused by every filter row and output pixel that reads it. The filter
/// is re-laid out at compile time as int16 pairs in the same order: per output channel and filter row, the taps
/// paired from an even column, (k0, k1), (k2, 0)…, for pixels whose window starts on an even column, and from an odd
/// one, (0, k0), (k1, k2)…, for the others (odd strides), so one pair word of input feeds two pixels. Padding columns
/// and rows hold the input zero point (a row of it is kept in the ring), so every pixel runs the same code and the
/// zero point's contribution is one constant per channel folded into the bias. Pixels are computed in blocks along the
/// row, each filter word read once per block.
/// </summary>
internal sealed class DspDepthwiseKernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) =>
        target.HasDsp && TargetEligibility.Depthwise(node) is { } a
        && node.Input(0).Shape[3] % 4 == 0 && node.Output.Shape[3] == node.Input(0).Shape[3] * a.DepthMultiplier;

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>Output pixels per block along the row (each filter word read once per block).</summary>
    internal static readonly Knob Pixels = new("pixels", new[] { "4", "2" });

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

    /// <summary>The ring: one slot per filter row, then one of zero points (padding rows), each [4 channels][RowWords].</summary>
    public override long ScratchBytes(Node node) => 4L * (node.Input(1).Shape[1] + 1) * 4 * Geometry.Of(node).RowWords;

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
        var fast = _generalRequantization ? null : DspRequantization.TryCreate(q, bound);
        int ScaleOf(int channel) => fast is null ? 1 : fast.Scale[channel];
        for (int oc = 0; oc < outC; oc++) folded[oc] *= ScaleOf(oc);

        // Filter pairs per output channel and filter row: the even-start words, then the odd-start ones.
        int rowStride = even + odd, channelStride = fh * rowStride;
        var pairs = new int[outC * channelStride];
        for (int oc = 0; oc < outC; oc++)
            for (int fy = 0; fy < fh; fy++)
            {
                int Tap(int fx) => fx >= 0 && fx < fw ? w[(fy * fw + fx) * outC + oc] * ScaleOf(oc) : 0;
                int Pack(int lo, int hi) => unchecked((int)((uint)(ushort)(short)lo | ((uint)(ushort)(short)hi << 16)));
                int at = oc * channelStride + fy * rowStride;
                for (int j = 0; j < even; j++) pairs[at + j] = Pack(Tap(2 * j), Tap(2 * j + 1));
                for (int j = 0; j < odd; j++) pairs[at + even + j] = Pack(Tap(2 * j - 1), Tap(2 * j));
            }

        string wName = c.Constants.Int32($"{c.Prefix}_filter", pairs,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} as int16 pairs of adjacent taps{(fast is null ? "" : " (times the requantization's power of two)")}: [{outC} channels][{fh} rows][{even} from an even column{(odd > 0 ? $", {odd} from an odd one" : "")}]");
        string table = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the filter taps{(fast is null ? "" : ", times the requantization's power of two")}, per output channel");

        var (multiplier, shift) = fast is null ? DspGemmKernel.Requantization(c, q) : ("", "");
        c.Support.Use("mtvm_dsp");
        c.Support.Use("mtvm_dsp_requantize");
        fast?.Declare(c);
        string function = DspGemmKernel.SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        string Requantize(string acc) => fast is not null ? fast.Output(acc, "oc") :
            $"{function}({acc}, {string.Format(multiplier, "oc")}, {string.Format(shift, "oc")}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        string zeroPair = CLiteral.Int(unchecked((int)((uint)(ushort)(short)zx | ((uint)(ushort)(short)zx << 16))));
        var body = c.Body;
        body.Line($"int32_t* const ring = (int32_t*)scratch; /* [{fh} input rows, by row % {fh}; then zero points][4 channels][{rowWords} column pairs] */");
        body.Line($"const int32_t* const zero_row = ring + {fh * slot};");
        body.Line("int n, g, oy, i;");
        using (body.Block($"for (i = 0; i < {(fh + 1) * slot}; ++i)"))
            body.Line($"ring[i] = {zeroPair}; /* columns outside the image stay so */");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (g = 0; g < {groups}; ++g)"))
        {
            body.Line($"int next = {-ph}; /* the first input row not yet in the ring */");
            using (body.Block($"for (oy = 0; oy < {oh}; ++oy)"))
            {
                body.Line($"const int iy0 = oy * {a.StrideH} - {ph};");
                body.Line("int iy, c;");
                using (body.Block($"for (iy = next > iy0 ? next : iy0; iy < iy0 + {fh}; ++iy)"))
                {
                    body.Line($"if (iy < 0 || iy >= {ih}) continue;");
                    Widen(body, c.Input(0), $"n * {ih * iw * ch} + iy * {iw * ch} + 4 * g", $"ring + iy % {fh} * {slot}", iw, ch, pw, rowWords, zeroPair);
                }

                body.Line("next = iy;");
                for (int fy = 0; fy < fh; fy++)
                    body.Line($"const int32_t* const row{fy} = iy0 + {fy} >= 0 && iy0 + {fy} < {ih} ? ring + (iy0 + {fy}) % {fh} * {slot} : zero_row;");
                using (body.Block("for (c = 0; c < 4; ++c)"))
                {
                    for (int fy = 0; fy < fh; fy++) body.Line($"const int32_t* const x{fy} = row{fy} + c * {rowWords};");
                    body.Line(mult == 1 ? "const int oc = 4 * g + c;" : "int oc;");
                    using (body.Block(mult == 1 ? "" : $"for (oc = (4 * g + c) * {mult}; oc < (4 * g + c + 1) * {mult}; ++oc)"))
                    {
                        body.Line($"const int32_t* const k = {wName} + oc * {channelStride};");
                        body.Line($"const int32_t bias = {table}[oc];");
                        body.Line($"int8_t* const o = {c.Output()} + (n * {oh} + oy) * {ow * outC} + oc;");
                        int block = Math.Min(_block, ow), full = ow / block * block;
                        if (full > block)
                            using (body.Block($"for (int ox = 0; ox < {full}; ox += {block})"))
                                Block(body, "ox", block);
                        else if (full == block)
                            Block(body, "0", block);
                        // The rest start on an even pixel (blocks are even, or one pixel).
                        for (int start = full; start < ow; start += 2)
                            Block(body, CLiteral.Int(start), Math.Min(2, ow - start));
                    }
                }
            }
        }

        // count pixels from pixel ox (even, so its window starts on an even column): pixel i's window starts i * stride
        // columns later, on word (i * stride) / 2 and with the odd-start filter words when i * stride is odd.
        void Block(CodeWriter body, string ox, int count)
        {
            using (body.Block(""))
            {
                string at = ox == "ox" ? $" + ox * {sw} / 2" : int.Parse(ox, System.Globalization.CultureInfo.InvariantCulture) * sw / 2 is > 0 and var offset ? $" + {offset}" : "";
                for (int fy = 0; fy < fh; fy++) body.Line($"const int32_t* const p{fy} = x{fy}{at};");
                body.Line(string.Join(" ", Enumerable.Range(0, count).Select(i => $"int32_t a{i} = bias;")));
                for (int fy = 0; fy < fh; fy++)
                    for (int i = 0; i < count; i++)
                    {
                        int start = i * sw, words = start % 2 == 0 ? even : odd, filterAt = fy * rowStride + (start % 2 == 0 ? 0 : even);
                        for (int j = 0; j < words; j++)
                            body.Line($"a{i} = mtvm_smlad(p{fy}[{start / 2 + j}], k[{filterAt + j}], a{i});");
                    }

                for (int i = 0; i < count; i++)
                    body.Line($"o[({ox} + {i}) * {outC}] = {Requantize($"a{i}")};");
            }
        }
    }

    /// <summary>Input row <paramref name="source"/> (4 channels from there, <paramref name="ch"/> bytes per pixel) into a
    /// ring slot: per channel, pair j of padded columns as (x[2j], x[2j+1]); columns outside the image hold the zero
    /// point (pairs wholly outside are left as the ring was filled).</summary>
    private static void Widen(CodeWriter body, string input, string source, string slotStart, int iw, int ch, int pw, int rowWords, string zeroPair)
    {
        body.Line($"const int8_t* const src = {input} + {source};");
        body.Line($"int32_t* const dst = {slotStart};");
        bool Inside(int column) => column - pw >= 0 && column - pw < iw;
        var touched = Enumerable.Range(0, rowWords).Where(j => Inside(2 * j) || Inside(2 * j + 1)).ToList();
        var interior = touched.Where(j => Inside(2 * j) && Inside(2 * j + 1)).ToList();
        void Pair(string j, string? left, string? right)
        {
            using (body.Block(""))
            {
                body.Line(left is null ? $"const int32_t e0 = {zeroPair}, o0 = {zeroPair};"
                    : $"const uint32_t v0 = mtvm_load4(src + {left}); const int32_t e0 = mtvm_sxtb16(v0), o0 = mtvm_sxtb16_ror8(v0);");
                body.Line(right is null ? $"const int32_t e1 = {zeroPair}, o1 = {zeroPair};"
                    : $"const uint32_t v1 = mtvm_load4(src + {right}); const int32_t e1 = mtvm_sxtb16(v1), o1 = mtvm_sxtb16_ror8(v1);");
                body.Line($"dst[{j}] = mtvm_pack_lo16(e0, e1); dst[{rowWords} + {j}] = mtvm_pack_lo16(o0, o1);");
                body.Line($"dst[{2 * rowWords} + {j}] = mtvm_pack_hi16(e0, e1); dst[{3 * rowWords} + {j}] = mtvm_pack_hi16(o0, o1);");
            }
        }

        foreach (int j in touched.Where(j => !interior.Contains(j) && j < (interior.Count > 0 ? interior[0] : int.MaxValue)))
            Pair(CLiteral.Int(j), Inside(2 * j) ? CLiteral.Int((2 * j - pw) * ch) : null, Inside(2 * j + 1) ? CLiteral.Int((2 * j + 1 - pw) * ch) : null);
        if (interior.Count > 0)
        {
            body.Line("int j;");
            using (body.Block($"for (j = {interior[0]}; j <= {interior[^1]}; ++j)"))
                Pair("j", $"(2 * j - {pw}) * {ch}", pw == 0 ? $"(2 * j + 1) * {ch}" : $"(2 * j - {pw - 1}) * {ch}");
        }

        foreach (int j in touched.Where(j => !interior.Contains(j) && interior.Count > 0 && j > interior[^1]))
            Pair(CLiteral.Int(j), Inside(2 * j) ? CLiteral.Int((2 * j - pw) * ch) : null, Inside(2 * j + 1) ? CLiteral.Int((2 * j + 1 - pw) * ch) : null);
    }
}
