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
/// is not a multiple of 8 uses tail-predicated loads and stores. Taps outside the image are skipped: every distinct
/// clamped window (edge, corner, interior) has its own fully unrolled list of valid taps, chosen by a switch per pixel
/// with no test per tap, and the input zero point's contribution over its valid taps is folded into its bias at
/// compile time. Two output rows of the same window class are computed together (each filter load, bias and
/// requantization constant serves pixels (oy, ox) and (oy + 1, ox)); the taps of a filter row are read from one base
/// pointer at immediate offsets.
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
        string RowClass(string oy) => rowClasses.Count > 1 ? rowIndex.Replace("[oy]", $"[{oy}]") : "0";
        body.Line("int n, oy, ox, g, step;");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (oy = 0; oy < {oh}; oy += step)"))
        {
            // Two output rows of the same window class share every filter load and requantization constant
            // (pixels (oy, ox) and (oy + 1, ox), inputs a stride of rows apart).
            body.Line($"const int rc = {RowClass("oy")};");
            body.Line(ch % 8 == 0 && oh > 1 ? $"const int pair = oy + 1 < {oh} && {RowClass("oy + 1")} == rc;" : "const int pair = 0;");
            body.Line("step = pair ? 2 : 1;");
            body.Line($"const int iy0 = oy * {a.StrideH} - {ph};");
            body.Line($"const int8_t* image = {c.Input(0)} + n * {ih * iw * ch};");
            using (body.Block($"for (ox = 0; ox < {ow}; ++ox)"))
            {
                body.Line($"const int origin = (iy0 * {iw} + ox * {a.StrideW} - {pw}) * {ch}; /* may be negative at the edges: only valid taps form pointers */");
                body.Line($"int8_t* o = {c.Output()} + ((n * {oh} + oy) * {ow} + ox) * {ch};");
                using (body.Block($"switch (rc * {colClasses.Count} + {colIndex})"))
                    for (int r = 0; r < rowClasses.Count; r++)
                        for (int k = 0; k < colClasses.Count; k++)
                        {
                            int cls = r * colClasses.Count + k;
                            using (body.Block($"case {cls}:"))
                            {
                                body.Line($"const int32_t* bias = {table} + {cls * padded};");
                                var valid = Taps(rowClasses[r], colClasses[k], iw, ch, fw);
                                if (ch % 8 == 0 && oh > 1)
                                    using (body.Block("if (pair)"))
                                        Group(body, wName, valid, fw, ch, taps8: fh * fw * 8, pair: a.StrideH * iw * ch, ow * ch, requantize);
                                using (body.Block(ch % 8 == 0 && oh > 1 ? "else" : ""))
                                    Group(body, wName, valid, fw, ch, taps8: fh * fw * 8, pair: 0, 0, requantize);
                                body.Line("break;");
                            }
                        }
            }
        }
    }

    /// <summary>The valid taps of a window class: (filter row, filter column, input offset from the window's origin).</summary>
    private static List<(int Fy, int Fx, int Offset)> Taps((int First, int End) rows, (int First, int End) cols, int iw, int ch, int fw)
    {
        var taps = new List<(int, int, int)>();
        for (int fy = rows.First; fy < rows.End; fy++)
            for (int fx = cols.First; fx < cols.End; fx++)
                taps.Add((fy, fx, (fy * iw + fx) * ch));
        return taps;
    }

    /// <summary>The loop over groups of 8 channels for one pixel, or two (<paramref name="pair"/>: the second's input
    /// that many bytes further, its output <paramref name="outputStep"/> bytes further): the taps from one base
    /// pointer per filter row (its middle tap; the others at immediate offsets within ±127 bytes), then the
    /// requantization and the interleaving store.</summary>
    private static void Group(CodeWriter body, string filter, List<(int Fy, int Fx, int Offset)> taps, int fw, int ch, int taps8, int pair, int outputStep, HeliumRequantization requantize)
    {
        int groups = (ch + 7) / 8;
        bool partial = ch % 8 != 0;
        using (body.Block($"for (g = 0; g < {groups}; ++g)"))
        {
            if (pair == 0) body.Line($"const int lanes = {(partial ? $"g + 1 < {groups} ? 8 : {ch % 8}" : "8")};");
            body.Line("mtvm_i32x4 even = mtvm_v_ld_s32(bias + 8 * g), odd = mtvm_v_ld_s32(bias + 8 * g + 4);");
            if (pair != 0) body.Line("mtvm_i32x4 even1 = even, odd1 = odd;");
            body.Line($"const int8_t* k = {filter} + g * {taps8};");
            // Bases: per filter row the middle valid tap; a tap further than 127 bytes from it gets its own.
            var bases = new Dictionary<int, string>();
            string Base(int offset)
            {
                if (!bases.TryGetValue(offset, out var name))
                {
                    name = $"x{bases.Count}";
                    bases[offset] = name;
                    body.Line($"const int8_t* const {name} = image + (origin + {offset} + 8 * g);");
                    if (pair != 0) body.Line($"const int8_t* const {name}p = {name} + {pair};");
                }

                return name;
            }

            foreach (var row in taps.GroupBy(t => t.Fy))
            {
                var list = row.ToList();
                int middle = list[(list.Count - 1) / 2].Offset;
                foreach (var (fy, fx, offset) in list)
                {
                    int baseOffset = Math.Abs(offset - middle) <= 127 ? middle : offset;
                    string x = Base(baseOffset);
                    int xo = offset - baseOffset, filterOffset = (fy * fw + fx) * 8;
                    string k = filterOffset >= 64 ? $"k + {filterOffset - filterOffset % 64}" : "k";
                    int ko = filterOffset % 64;
                    if (pair != 0)
                        body.Line($"MTVM_DW_TAP2P(even, odd, even1, odd1, {x}, {x}p, {xo}, {k}, {ko});");
                    else if (partial)
                        body.Line($"if (lanes == 8) MTVM_DW_TAPO(even, odd, {x}, {xo}, {k}, {ko}); else MTVM_DW_TAP_N(even, odd, {x} + {xo}, {k}, {ko}, lanes);");
                    else
                        body.Line($"MTVM_DW_TAPO(even, odd, {x}, {xo}, {k}, {ko});");
                }
            }

            requantize.Load(body, "8 * g", "qm", "ql", "qn");
            requantize.Load(body, "8 * g + 4", "qm1", "ql1", "qn1");
            body.Line($"mtvm_v_st_s8_interleaved(o + 8 * g, {requantize.Clamp("even", "qm", "ql", "qn")}, {requantize.Clamp("odd", "qm1", "ql1", "qn1")}, {(pair != 0 ? "8" : "lanes")});");
            if (pair != 0)
                body.Line($"mtvm_v_st_s8_interleaved(o + {outputStep} + 8 * g, {requantize.Clamp("even1", "qm", "ql", "qn")}, {requantize.Clamp("odd1", "qm1", "ql1", "qn1")}, 8);");
        }
    }
}
