using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tuning;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 DEPTHWISE_CONV_2D (depth multiplier 1, dilation 1, channels a multiple of 4) for CPUs with the DSP
/// extension. Four channels at a time: one word of input (4 channels of one tap) is split by SXTB16 into the pairs
/// (c0,c2) and (c1,c3); the filter is re-laid out at compile time as int16 pairs in the same order per tap and
/// channel group, so SMLABB/SMLATT accumulate each channel with no further unpacking. Taps outside the image are
/// skipped (each tap is tested against the window clamped per output pixel; interior pixels take a fully unrolled path with no test) and the input zero point's contribution over the valid
/// taps is folded into the bias at compile time for every distinct clamped window.
/// </summary>
internal sealed class DspDepthwiseKernel : TargetKernel
{
    private readonly ConvolutionKernel _convolution = new();

    public override bool Handles(Node node, TargetDescription target)
    {
        if (!target.HasDsp || node.Kind != OpKind.DepthwiseConv2D || node.Input(0).Type != ElementType.Int8) return false;
        if (_convolution.Unsupported(node) is not null) return false;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        var input = node.Input(0);
        return a.DilationH == 1 && a.DilationW == 1 && input.Shape[3] == node.Output.Shape[3] && input.Shape[3] % 4 == 0
            && DspGemmKernel.RequantizationFits(node, input.Shape[3], a.Activation);
    }

    public override string? Unsupported(Node node) => _convolution.Unsupported(node);

    /// <summary>Two horizontally adjacent interior pixels at a time (each filter word read once for both), or one.</summary>
    internal static readonly Knob PixelPairs = new("pixel-pairs", new[] { "on", "off" });

    private bool _single;
    private bool _generalRequantization;

    public override IReadOnlyList<Knob> Knobs(Node node) =>
        node.Output.Shape[2] > 1 ? new[] { PixelPairs, DspGemmKernel.RequantizationPath } : new[] { DspGemmKernel.RequantizationPath };

    public override TargetKernel Configure(Schedule schedule) =>
        new DspDepthwiseKernel { _single = schedule.Get(PixelPairs) == "off", _generalRequantization = schedule.Get(DspGemmKernel.RequantizationPath) == "general" };

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        int batches = input.Shape[0], ih = input.Shape[1], iw = input.Shape[2], ch = input.Shape[3];
        int oh = output.Shape[1], ow = output.Shape[2];
        int fh = filter.Shape[1], fw = filter.Shape[2], groups = ch / 4;
        int ph = ConvGeometry.PaddingBefore(a.Padding, ih, fh, a.StrideH, 1), pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, a.StrideW, 1);
        int zx = input.Quantization!.ZeroPoint;

        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, ch);

        var rowWindows = Enumerable.Range(0, oh).Select(oy => ValidTaps(oy * a.StrideH - ph, fh, 1, ih)).ToArray();
        var colWindows = Enumerable.Range(0, ow).Select(ox => ValidTaps(ox * a.StrideW - pw, fw, 1, iw)).ToArray();
        var rowClasses = rowWindows.Distinct().ToList();
        var colClasses = colWindows.Distinct().ToList();
        var folded = new int[rowClasses.Count * colClasses.Count * ch];
        for (int r = 0; r < rowClasses.Count; r++)
            for (int k = 0; k < colClasses.Count; k++)
                for (int oc = 0; oc < ch; oc++)
                {
                    long sum = 0;
                    for (int fy = rowClasses[r].First; fy < rowClasses[r].End; fy++)
                        for (int fx = colClasses[k].First; fx < colClasses[k].End; fx++)
                            sum += w[(fy * fw + fx) * ch + oc];
                    folded[(r * colClasses.Count + k) * ch + oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
                }

        var q = ConvQuantization.Derive(input, filter, output, ch, a.Activation);
        var bound = new long[ch];
        for (int oc = 0; oc < ch; oc++)
        {
            long weights = 0;
            for (int tap = 0; tap < fh * fw; tap++) weights += Math.Abs((long)w[tap * ch + oc]);
            long biasMax = Enumerable.Range(0, rowClasses.Count * colClasses.Count).Max(k => Math.Abs((long)folded[k * ch + oc]));
            bound[oc] = biasMax + 128L * weights;
        }

        // The fast requantization wants the accumulator times a power of two per channel: filter pairs and biases carry it.
        var fast = _generalRequantization ? null : DspRequantization.TryCreate(q, bound);
        int ScaleOf(int channel) => fast is null ? 1 : fast.Scale[channel];
        for (int k = 0; k < folded.Length; k++) folded[k] *= ScaleOf(k % ch);

        // Filter as int16 pairs per (group, tap): (c0, c2), (c1, c3) — the order SXTB16 gives the input; a group's
        // taps follow each other, so one LDRD with post-increment reads each tap's two words.
        int taps = fh * fw;
        var pairs = new int[fh * fw * groups * 2];
        for (int tap = 0; tap < fh * fw; tap++)
            for (int g = 0; g < groups; g++)
            {
                int Pack(int lo, int hi) => unchecked((int)((uint)(ushort)(short)(w[tap * ch + lo] * ScaleOf(lo)) | ((uint)(ushort)(short)(w[tap * ch + hi] * ScaleOf(hi)) << 16)));
                pairs[(g * taps + tap) * 2] = Pack(4 * g, 4 * g + 2);
                pairs[(g * taps + tap) * 2 + 1] = Pack(4 * g + 1, 4 * g + 3);
            }

        string wName = c.Constants.Int32($"{c.Prefix}_filter", pairs,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} as int16 pairs [channel/4][tap][(c0,c2),(c1,c3)]");

        string table = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the valid taps, per output channel, for {rowClasses.Count}x{colClasses.Count} distinct clamped windows");
        string rowIndex = "0", colIndex = "0";
        if (rowClasses.Count > 1)
            rowIndex = c.Constants.UInt8($"{c.Prefix}_row_window", rowWindows.Select(x => (byte)rowClasses.IndexOf(x)).ToArray(), $"operator {node.Index} window class per output row") + "[oy]";
        if (colClasses.Count > 1)
            colIndex = c.Constants.UInt8($"{c.Prefix}_col_window", colWindows.Select(x => (byte)colClasses.IndexOf(x)).ToArray(), $"operator {node.Index} window class per output column") + "[ox]";

        var (mult, shift) = fast is null ? DspGemmKernel.Requantization(c, q) : ("", "");
        c.Support.Use("mtvm_dsp_requantize");
        fast?.Declare(c);
        string function = DspGemmKernel.SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        string req(string acc, string channel) => fast is not null ? fast.Output(acc, channel) :
            $"{function}({acc}, {string.Format(mult, channel)}, {string.Format(shift, channel)}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        var body = c.Body;
        body.Line("int n, oy, ox, g;");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (oy = 0; oy < {oh}; ++oy)"))
        {
            body.Line($"const int iy0 = oy * {a.StrideH} - {ph};");
            body.Line($"const int fy0 = iy0 < 0 ? -iy0 : 0;");
            body.Line($"const int fy1 = {ih} - iy0 < {fh} ? {ih} - iy0 : {fh};");
            using (body.Block($"for (ox = 0; ox < {ow}; ++ox)"))
            {
                if (ow > 1 && !_single)
                {
                    // Two horizontally adjacent pixels whose windows lie inside the image: each tap's filter words are
                    // read once for both, and each channel's requantization constants once.
                    body.Line($"const int px = ox * {a.StrideW} - {pw}, py = oy * {a.StrideH} - {ph};");
                    using (body.Block($"if (ox + 1 < {ow} && py >= 0 && py + {fh} <= {ih} && px >= 0 && px + {a.StrideW + fw} <= {iw})"))
                    {
                        body.Line($"const int32_t* bias = {table} + ({rowIndex} * {colClasses.Count} + {colIndex}) * {ch};");
                        body.Line($"const int8_t* image = {c.Input(0)} + n * {ih * iw * ch} + (py * {iw} + px) * {ch};");
                        body.Line($"int8_t* o = {c.Output()} + ((n * {oh} + oy) * {ow} + ox) * {ch};");
                        body.Line($"const int32_t* k = {wName};");
                        using (body.Block($"for (g = 0; g < {groups}; ++g)"))
                        {
                            body.Line("int32_t a0 = bias[4 * g], a1 = bias[4 * g + 1], a2 = bias[4 * g + 2], a3 = bias[4 * g + 3];");
                            body.Line("int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;");
                            body.Line("const int8_t* x = image + 4 * g;");
                            for (int fy = 0; fy < fh; fy++)
                                for (int fx = 0; fx < fw; fx++)
                                    using (body.Block(""))
                                    {
                                        int offset = (fy * iw + fx) * ch;
                                        body.Line("int32_t k02, k13;");
                                        body.Line("MTVM_LOAD2(k02, k13, k);");
                                        body.Line($"{{ const uint32_t v = mtvm_load4(x + {offset}); const int32_t even = mtvm_sxtb16(v), odd = mtvm_sxtb16_ror8(v);");
                                        body.Line("  a0 = mtvm_smlabb(even, k02, a0); a2 = mtvm_smlatt(even, k02, a2); a1 = mtvm_smlabb(odd, k13, a1); a3 = mtvm_smlatt(odd, k13, a3); }");
                                        body.Line($"{{ const uint32_t v = mtvm_load4(x + {offset + a.StrideW * ch}); const int32_t even = mtvm_sxtb16(v), odd = mtvm_sxtb16_ror8(v);");
                                        body.Line("  b0 = mtvm_smlabb(even, k02, b0); b2 = mtvm_smlatt(even, k02, b2); b1 = mtvm_smlabb(odd, k13, b1); b3 = mtvm_smlatt(odd, k13, b3); }");
                                    }

                            for (int j = 0; j < 4; j++)
                            {
                                body.Line($"o[4 * g + {j}] = {req($"a{j}", $"4 * g + {j}")};");
                                body.Line($"o[{ch} + 4 * g + {j}] = {req($"b{j}", $"4 * g + {j}")};");
                            }
                        }

                        body.Line("++ox;");
                        body.Line("continue;");
                    }
                }

                body.Line($"const int ix0 = ox * {a.StrideW} - {pw};");
                body.Line($"const int fx0 = ix0 < 0 ? -ix0 : 0;");
                body.Line($"const int fx1 = {iw} - ix0 < {fw} ? {iw} - ix0 : {fw};");
                body.Line($"const int32_t* bias = {table} + ({rowIndex} * {colClasses.Count} + {colIndex}) * {ch};");
                body.Line($"const int8_t* image = {c.Input(0)} + n * {ih * iw * ch};");
                body.Line($"const int origin = (iy0 * {iw} + ix0) * {ch}; /* may be negative at the edges: only valid taps form pointers */");
                body.Line($"const int full = fy0 == 0 && fy1 == {fh} && fx0 == 0 && fx1 == {fw};");
                body.Line($"int8_t* o = {c.Output()} + ((n * {oh} + oy) * {ow} + ox) * {ch};");
                using (body.Block($"for (g = 0; g < {groups}; ++g)"))
                {
                    body.Line("int32_t a0 = bias[4 * g], a1 = bias[4 * g + 1], a2 = bias[4 * g + 2], a3 = bias[4 * g + 3];");
                    body.Line($"const int32_t* k = {wName} + {2 * taps} * g;");

                    using (body.Block("if (full)"))
                    {
                        body.Line("const int8_t* x = image + origin + 4 * g;");
                        for (int fy = 0; fy < fh; fy++)
                            for (int fx = 0; fx < fw; fx++)
                                Tap(body, $"{(fy * iw + fx) * ch}", $"{(fy * fw + fx) * 2}");
                    }

                    using (body.Block("else"))
                    {
                        for (int fy = 0; fy < fh; fy++)
                            for (int fx = 0; fx < fw; fx++)
                                using (body.Block($"if (fy0 <= {fy} && {fy} < fy1 && fx0 <= {fx} && {fx} < fx1)"))
                                {
                                    body.Line($"const int8_t* x = image + (origin + {(fy * iw + fx) * ch} + 4 * g);");
                                    Tap(body, "0", $"{(fy * fw + fx) * 2}");
                                }
                    }

                    body.Line($"o[4 * g] = {req("a0", "4 * g")};");
                    body.Line($"o[4 * g + 1] = {req("a1", "4 * g + 1")};");
                    body.Line($"o[4 * g + 2] = {req("a2", "4 * g + 2")};");
                    body.Line($"o[4 * g + 3] = {req("a3", "4 * g + 3")};");
                }
            }
        }
    }

    private static void Tap(CodeWriter body, string inputOffset, string filterOffset)
    {
        using (body.Block(""))
        {
            body.Line($"const uint32_t v = mtvm_load4(x + {inputOffset});");
            body.Line($"const int32_t even = mtvm_sxtb16(v), odd = mtvm_sxtb16_ror8(v);");
            body.Line($"const int32_t k02 = k[{filterOffset}], k13 = k[{filterOffset} + 1];");
            body.Line("a0 = mtvm_smlabb(even, k02, a0); a2 = mtvm_smlatt(even, k02, a2);");
            body.Line("a1 = mtvm_smlabb(odd, k13, a1); a3 = mtvm_smlatt(odd, k13, a3);");
        }
    }
}
