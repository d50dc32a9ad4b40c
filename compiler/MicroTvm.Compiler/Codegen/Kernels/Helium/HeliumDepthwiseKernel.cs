using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 DEPTHWISE_CONV_2D (depth multiplier 1, dilation 1, any channel count) for Helium (MVE, Cortex-M55): eight
/// channels per step as int16 lanes (VLDRB.S16 widening loads of the input and of the filter, re-laid at compile time
/// as [group of 8][tap][8]); VMULLB/VMULLT multiply the even and odd lanes into two int32 accumulators (channels
/// 0,2,4,6 and 1,3,5,7), which are requantized as vectors (bias and per-channel constants re-laid in the same
/// even/odd order) and interleaved back by VMOVNT into one narrowing store. The last group of a channel count that
/// is not a multiple of 8 uses tail-predicated loads and stores. Taps outside the image are skipped (interior pixels
/// take a fully unrolled path with no test) and the input zero point's contribution over the valid taps is folded
/// into the bias at compile time for every distinct clamped window.
/// </summary>
internal sealed class HeliumDepthwiseKernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) =>
        target.HasMve && TargetEligibility.Depthwise(node) is not null && node.Input(0).Shape[3] == node.Output.Shape[3];

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>Position of channel <paramref name="c"/> in the even/odd order of its group of 8: even channels first.</summary>
    private static int EvenOdd(int c) => c / 8 * 8 + (c % 2) * 4 + c % 8 / 2;

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
        int fh = filter.Shape[1], fw = filter.Shape[2], taps = fh * fw, groups = (ch + 7) / 8, padded = groups * 8;
        int ph = ConvGeometry.PaddingBefore(a.Padding, ih, fh, a.StrideH, 1), pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, a.StrideW, 1);
        int zx = input.Quantization!.ZeroPoint;

        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, ch);

        // Filter [group][tap][8 channels], zero weights past the last channel.
        var laid = new sbyte[groups * taps * 8];
        for (int tap = 0; tap < taps; tap++)
            for (int oc = 0; oc < ch; oc++)
                laid[((oc / 8) * taps + tap) * 8 + oc % 8] = w[tap * ch + oc];
        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out as [{groups} groups of 8 channels][{taps} taps][8]");

        var rowWindows = Enumerable.Range(0, oh).Select(oy => ValidTaps(oy * a.StrideH - ph, fh, 1, ih)).ToArray();
        var colWindows = Enumerable.Range(0, ow).Select(ox => ValidTaps(ox * a.StrideW - pw, fw, 1, iw)).ToArray();
        var rowClasses = rowWindows.Distinct().ToList();
        var colClasses = colWindows.Distinct().ToList();
        var folded = new int[rowClasses.Count * colClasses.Count * padded];
        for (int r = 0; r < rowClasses.Count; r++)
            for (int k = 0; k < colClasses.Count; k++)
                for (int oc = 0; oc < ch; oc++)
                {
                    long sum = 0;
                    for (int fy = rowClasses[r].First; fy < rowClasses[r].End; fy++)
                        for (int fx = colClasses[k].First; fx < colClasses[k].End; fx++)
                            sum += w[(fy * fw + fx) * ch + oc];
                    folded[(r * colClasses.Count + k) * padded + EvenOdd(oc)] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
                }

        string table = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the valid taps, per output channel in even/odd order per group of 8, for {rowClasses.Count}x{colClasses.Count} distinct clamped windows");
        string rowIndex = "0", colIndex = "0";
        if (rowClasses.Count > 1)
            rowIndex = c.Constants.UInt8($"{c.Prefix}_row_window", rowWindows.Select(x => (byte)rowClasses.IndexOf(x)).ToArray(), $"operator {node.Index} window class per output row") + "[oy]";
        if (colClasses.Count > 1)
            colIndex = c.Constants.UInt8($"{c.Prefix}_col_window", colWindows.Select(x => (byte)colClasses.IndexOf(x)).ToArray(), $"operator {node.Index} window class per output column") + "[ox]";

        var q = ConvQuantization.Derive(input, filter, output, ch, a.Activation);
        var requantize = HeliumRequantization.Declare(c, q, padded, EvenOdd);
        c.Support.Use("mtvm_mve_conv");

        var body = c.Body;
        requantize.DeclareLocals(body, second: true);
        body.Line("int n, oy, ox, g;");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (oy = 0; oy < {oh}; ++oy)"))
        {
            body.Line($"const int iy0 = oy * {a.StrideH} - {ph};");
            body.Line($"const int fy0 = iy0 < 0 ? -iy0 : 0;");
            body.Line($"const int fy1 = {ih} - iy0 < {fh} ? {ih} - iy0 : {fh};");
            using (body.Block($"for (ox = 0; ox < {ow}; ++ox)"))
            {
                body.Line($"const int ix0 = ox * {a.StrideW} - {pw};");
                body.Line($"const int fx0 = ix0 < 0 ? -ix0 : 0;");
                body.Line($"const int fx1 = {iw} - ix0 < {fw} ? {iw} - ix0 : {fw};");
                body.Line($"const int32_t* bias = {table} + ({rowIndex} * {colClasses.Count} + {colIndex}) * {padded};");
                body.Line($"const int8_t* image = {c.Input(0)} + n * {ih * iw * ch};");
                body.Line($"const int origin = (iy0 * {iw} + ix0) * {ch}; /* may be negative at the edges: only valid taps form pointers */");
                body.Line($"const int full = fy0 == 0 && fy1 == {fh} && fx0 == 0 && fx1 == {fw};");
                body.Line($"int8_t* o = {c.Output()} + ((n * {oh} + oy) * {ow} + ox) * {ch};");
                int step = a.StrideW * ch;
                if (ch % 8 == 0 && step < 128 && ow > 1)
                {
                    // Two neighbouring interior pixels at once: each filter load and the requantization constants serve both.
                    using (body.Block($"if (full && ox + 1 < {ow} && ix0 + {a.StrideW + fw} <= {iw})"))
                    {
                        body.Line($"const int32_t* bias1 = {table} + ({rowIndex} * {colClasses.Count} + {colIndex.Replace("[ox]", "[ox + 1]")}) * {padded};");
                        using (body.Block($"for (g = 0; g < {groups}; ++g)"))
                        {
                            body.Line("mtvm_i32x4 even = mtvm_v_ld_s32(bias + 8 * g), odd = mtvm_v_ld_s32(bias + 8 * g + 4);");
                            body.Line("mtvm_i32x4 even1 = mtvm_v_ld_s32(bias1 + 8 * g), odd1 = mtvm_v_ld_s32(bias1 + 8 * g + 4);");
                            body.Line($"const int8_t* k = {wName} + g * {taps * 8};");
                            body.Line("const int8_t* x = image + origin + 8 * g;");
                            for (int fy = 0; fy < fh; fy++)
                                for (int fx = 0; fx < fw; fx++)
                                {
                                    int filterOffset = (fy * fw + fx) * 8;
                                    string k = filterOffset >= 64 ? $"k + {filterOffset - filterOffset % 64}" : "k";
                                    body.Line($"MTVM_DW_TAP2(even, odd, even1, odd1, x + {(fy * iw + fx) * ch}, {step}, {k}, {filterOffset % 64});");
                                }

                            requantize.Load(body, "8 * g", "qm", "ql", "qn");
                            requantize.Load(body, "8 * g + 4", "qm1", "ql1", "qn1");
                            body.Line($"mtvm_v_st_s8_interleaved(o + 8 * g, {requantize.Clamp("even", "qm", "ql", "qn")}, {requantize.Clamp("odd", "qm1", "ql1", "qn1")}, 8);");
                            body.Line($"mtvm_v_st_s8_interleaved(o + {ch} + 8 * g, {requantize.Clamp("even1", "qm", "ql", "qn")}, {requantize.Clamp("odd1", "qm1", "ql1", "qn1")}, 8);");
                        }

                        body.Line("++ox;");
                        body.Line("continue;");
                    }
                }

                using (body.Block($"for (g = 0; g < {groups}; ++g)"))
                {
                    string lanes = ch % 8 == 0 ? "8" : $"g + 1 < {groups} ? 8 : {ch % 8}";
                    body.Line($"const int lanes = {lanes};");
                    body.Line("mtvm_i32x4 even = mtvm_v_ld_s32(bias + 8 * g), odd = mtvm_v_ld_s32(bias + 8 * g + 4);");
                    body.Line($"const int8_t* k = {wName} + g * {taps * 8};");
                    using (body.Block("if (full)"))
                    {
                        body.Line("const int8_t* x = image + origin + 8 * g;");
                        for (int fy = 0; fy < fh; fy++)
                            for (int fx = 0; fx < fw; fx++)
                                Tap(body, $"x + {(fy * iw + fx) * ch}", (fy * fw + fx) * 8, ch % 8 != 0);
                    }

                    using (body.Block("else"))
                    {
                        for (int fy = 0; fy < fh; fy++)
                            for (int fx = 0; fx < fw; fx++)
                                using (body.Block($"if (fy0 <= {fy} && {fy} < fy1 && fx0 <= {fx} && {fx} < fx1)"))
                                    Tap(body, $"image + (origin + {(fy * iw + fx) * ch} + 8 * g)", (fy * fw + fx) * 8, ch % 8 != 0);
                    }

                    requantize.Load(body, "8 * g", "qm", "ql", "qn");
                    requantize.Load(body, "8 * g + 4", "qm1", "ql1", "qn1");
                    body.Line($"mtvm_v_st_s8_interleaved(o + 8 * g, {requantize.Clamp("even", "qm", "ql", "qn")}, {requantize.Clamp("odd", "qm1", "ql1", "qn1")}, lanes);");
                }
            }
        }
    }

    /// <summary>One tap; the filter offset splits into a pointer part and an immediate below 64 (the load's range).</summary>
    private static void Tap(CodeWriter body, string inputAddress, int filterOffset, bool predicated)
    {
        string k = filterOffset >= 64 ? $"k + {filterOffset - filterOffset % 64}" : "k";
        int immediate = filterOffset % 64;
        body.Line(predicated
            ? $"if (lanes == 8) MTVM_DW_TAP(even, odd, {inputAddress}, {k}, {immediate}); else MTVM_DW_TAP_N(even, odd, {inputAddress}, {k}, {immediate}, lanes);"
            : $"MTVM_DW_TAP(even, odd, {inputAddress}, {k}, {immediate});");
    }
}
