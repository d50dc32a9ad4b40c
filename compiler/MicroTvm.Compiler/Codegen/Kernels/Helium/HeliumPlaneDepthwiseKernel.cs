using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 DEPTHWISE_CONV_2D for Helium with four output pixels of one channel in the lanes (any depth multiplier, any
/// stride, filters of up to 16 taps). Per input channel, the input is gathered into a plane in the scratch, padded with
/// the input zero point (so every window is whole and the zero point's contribution folds into the bias at compile
/// time) and split by the stride along the lane axis into phases (so that four lanes are four consecutive bytes).
/// Per output channel the taps' weights sit in core registers; each plane load of four pixels (VLDRB.S32) serves every
/// output of the block that uses it with one VMLA.S32 by scalar (4 MACs per instruction, against 4 instructions per 8
/// MACs for the widening multiplies of <see cref="HeliumDepthwiseKernel"/>, which keeps the stride-2 layers of depth
/// multiplier 1 and the images too narrow for four lanes). The lanes run along the image axis that wastes fewer lanes
/// (KWS's 25x5: along the 25 rows); a block holds up to 5 outputs along the other axis; a last strip of 1 to 3
/// lanes stores predicated, or, where that leaves more lanes idle, runs with its lanes along the other axis (KWS's
/// 25th row: 2 vectors of gathers instead of 5 of one lane each). Stride-1 layers of depth multiplier 1 whose whole
/// window fits 16 bytes of a plane (KWS's 3x3 over 5 columns) go to <see cref="HeliumWindowDepthwiseKernel"/> first.
/// </summary>
internal sealed class HeliumPlaneDepthwiseKernel : TargetKernel
{
    private const int MaxTaps = 16;

    public override bool Handles(Node node, TargetDescription target) =>
        target.HasMve && TargetEligibility.Depthwise(node) is { } a && Geometry.Of(node) is { } g
        && g.Taps <= MaxTaps && 7L * g.Sl * g.LaneInStride <= ushort.MaxValue
        && (a.DepthMultiplier > 1 || (a.StrideH == 1 && a.StrideW == 1 && g.Lo >= 3));

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    public override long ScratchBytes(Node node) => Geometry.Of(node).PlaneBytes;

    /// <summary>With depth multiplier 1 and the output the input's shape, output channel ch is written only after input
    /// channel ch has been copied into the plane, and no later channel reads it: the output may take the input's bytes
    /// (KWS: the depthwise step then holds one 8,000-byte activation and the plane, not two).</summary>
    public override bool CanWriteOver(Node node, int inputIndex) =>
        inputIndex == 0 && node.AttributesAs<DepthwiseConv2DAttributes>().DepthMultiplier == 1
        && node.Input(0).Shape.SequenceEqual(node.Output.Shape);

    /// <summary>The problem along the lane axis L (length Lo out, Li in, filter fL, stride sL, padding before padL, byte
    /// strides in the input and the output) and the other axis M; the plane is [Mp columns][sL phases][Lrow].</summary>
    private sealed record Geometry(bool LanesOverRows, int Lo, int Li, int Fl, int Sl, int PadL, int LaneInStride, int LaneOutStride,
        int Mo, int Mi, int Fm, int Sm, int PadM, int OtherInStride, int OtherOutStride, int Taps)
    {
        public int Strips => (Lo + 3) / 4;

        public int Lrow => ((Strips * 4 - 1) * Sl + Fl + Sl - 1) / Sl;

        public int Mp => (Mo - 1) * Sm + Fm;

        public int ColumnStride => Sl * Lrow;

        public int PlaneBytes => Mp * ColumnStride;

        public static Geometry Of(Node node)
        {
            var a = node.AttributesAs<DepthwiseConv2DAttributes>();
            var input = node.Input(0);
            var filter = node.Input(1);
            int ih = input.Shape[1], iw = input.Shape[2], ci = input.Shape[3];
            int oh = node.Output.Shape[1], ow = node.Output.Shape[2], co = node.Output.Shape[3];
            int fh = filter.Shape[1], fw = filter.Shape[2];
            int ph = ConvGeometry.PaddingBefore(a.Padding, ih, fh, a.StrideH, 1), pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, a.StrideW, 1);
            // Lanes along the axis whose last strip of 4 wastes fewer lanes over the whole image.
            bool rows = (oh + 3) / 4 * 4 * ow < (ow + 3) / 4 * 4 * oh;
            return rows
                ? new Geometry(true, oh, ih, fh, a.StrideH, ph, iw * ci, ow * co, ow, iw, fw, a.StrideW, pw, ci, co, fh * fw)
                : new Geometry(false, ow, iw, fw, a.StrideW, pw, ci, co, oh, ih, fh, a.StrideH, ph, iw * ci, ow * co, fh * fw);
        }

        /// <summary>The filter tap (row-major index) of lane-axis offset fl and other-axis offset fm.</summary>
        public int Tap(int fl, int fm, int fw) => LanesOverRows ? fl * fw + fm : fm * fw + fl;
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        var g = Geometry.Of(node);
        int batches = input.Shape[0], ci = input.Shape[3], co = output.Shape[3], mult = a.DepthMultiplier;
        int fw = filter.Shape[2], taps = g.Taps;
        int zx = input.Quantization!.ZeroPoint;

        // Filter [output channel][tap]; bias minus the zero point times the sum of every tap (the plane's padding holds
        // the zero point, so every window is whole).
        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, co);
        var laid = new sbyte[co * taps];
        var folded = new int[co];
        for (int oc = 0; oc < co; oc++)
        {
            long sum = 0;
            for (int t = 0; t < taps; t++)
            {
                laid[oc * taps + t] = w[t * co + oc];
                sum += w[t * co + oc];
            }

            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
        }

        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid, $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out as [{co} channels][{taps} taps]");
        string biasName = c.Constants.Int32($"{c.Prefix}_bias", folded, $"operator {node.Index} bias - input zero point * sum of the taps, per output channel");

        var (multiplier, left, neg, quantization, wholeRange) = Requantization(c, co);
        string Requantize(string x) => $"mtvm_dw_requantize({x}, {quantization})";
        // Neighbouring blocks' accumulators are requantized in pairs when the pair's byte offsets fit 16 bits.
        string? pairs = 3L * g.LaneOutStride + g.OtherOutStride <= ushort.MaxValue ? quantization : null;

        c.Support.Use("mtvm_mve_dw");
        c.Support.UseMemcpy();
        var body = c.Body;
        int inBatch = input.Shape[1] * input.Shape[2] * ci, outBatch = output.Shape[1] * output.Shape[2] * co;
        body.Line($"int8_t* const plane = (int8_t*)scratch; /* [{g.Mp} columns][{g.Sl} phases][{g.Lrow}]: one input channel, padded with its zero point */");
        body.Line($"const mtvm_dw_offsets so = mtvm_dw_offsets_of({g.LaneOutStride}u);");
        if (pairs != null) body.Line($"const mtvm_dw_offsets16 sp = mtvm_dw_offsets_pair({g.LaneOutStride}u, {g.OtherOutStride}u);");
        // One offsets vector per 8-position step of a column copy (lanes step + i, a stride apart), so every gather of a
        // column reads from one base; where the offsets would pass 16 bits the step moves the base instead.
        int inStride = g.Sl * g.LaneInStride, steps = (g.Lrow + 7) / 8;
        bool OwnOffsets(int step) => step > 0 && (step + 7L) * inStride <= ushort.MaxValue;
        body.Line($"const mtvm_dw_offsets16 go = mtvm_dw_offsets16_of({inStride}u);");
        var copySteps = Enumerable.Range(0, g.Sl).Select(phase => PhaseCount(g, phase)).ToList();
        for (int step = 8; step < steps * 8; step += 8)
            if (OwnOffsets(step) && copySteps.Any(count => count - step > 1))
                body.Line($"const mtvm_dw_offsets16 go{step} = mtvm_dw_offsets16_from({step * inStride}u, {inStride}u);");
        body.Line("int n, ch, m, k;");
        body.Line($"(void)so; (void)k;{(pairs != null ? " (void)sp;" : "")} /* unused when every lane position goes across */");
        if (mult > 1) body.Line("int j;");
        body.Line($"memset(plane, {zx}, {g.PlaneBytes});");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (ch = 0; ch < {ci}; ++ch)"))
        {
            // The input channel's columns into the plane, phase by phase (positions l with (l + padL) % sL == phase).
            int columns = Math.Min(g.Mi, g.Mp - g.PadM);
            using (body.Block($"for (m = 0; m < {columns}; ++m)"))
            {
                body.Line($"const int8_t* const src = {c.Input(0)} + n * {inBatch} + m * {g.OtherInStride} + ch;");
                body.Line($"int8_t* const column = plane + (m + {g.PadM}) * {g.ColumnStride};");
                for (int phase = 0; phase < g.Sl; phase++)
                {
                    int l0 = ((phase - g.PadL) % g.Sl + g.Sl) % g.Sl, start = (l0 + g.PadL) / g.Sl, count = PhaseCount(g, phase);
                    for (int step = 0; step < count; step += 8)
                    {
                        string to = $"column + {phase * g.Lrow + start + step}";
                        bool own = OwnOffsets(step);
                        string from = $"src + {(l0 + (own ? 0 : step * g.Sl)) * g.LaneInStride}", offsets = own ? $"go{step}" : "go";
                        if (count - step == 1)
                            body.Line($"({to})[0] = src[{(l0 + step * g.Sl) * g.LaneInStride}];");
                        else
                            body.Line(count - step >= 8 ? $"mtvm_dw_gather8({to}, {from}, {offsets});" : $"mtvm_dw_gather8_n({to}, {from}, {offsets}, {count - step});");
                    }
                }
            }

            using (body.Block(mult > 1 ? $"for (j = 0; j < {mult}; ++j)" : ""))
            {
                body.Line(mult > 1 ? $"const int oc = ch * {mult} + j;" : "const int oc = ch;");
                body.Line($"const int8_t* const wk = {wName} + oc * {taps};");
                body.Line($"const int32_t bias = {biasName}[oc], qm = {multiplier}, ql = {left}, qn = {neg};");
                body.Line("(void)ql; (void)qn;");
                body.Line($"int8_t* const out = {c.Output()} + n * {outBatch} + oc;");
                int full = g.Lo / 4;
                if (full > 0)
                    using (body.Block($"for (k = 0; k < {full}; ++k)"))
                        Strip(body, g, fw, wholeRange, Requantize, pairs, lanes: 4);
                int rest = g.Lo % 4, across = (g.Mo + 3) / 4;
                if (rest != 0 && 3 * rest * across < 2 * g.Mo)
                    Across(body, g, fw, Requantize, rest);
                else if (rest != 0)
                    using (body.Block(""))
                    {
                        body.Line($"k = {full};");
                        Strip(body, g, fw, wholeRange, Requantize, pairs, lanes: rest);
                    }
            }
        }
    }

    /// <summary>The requantization's per-channel scalars (C expressions indexed by <c>oc</c>: a constant array per channel,
    /// literals per tensor) and the arguments qm, ql, qn, has_left, right, offset, lo, hi of mtvm_dw_requantize and
    /// mtvm_dw_requantize_pair (the kernels declare qm, ql, qn per output channel); shared with
    /// <see cref="HeliumWindowDepthwiseKernel"/>.</summary>
    internal static (string Multiplier, string Left, string Neg, string Quantization, bool WholeRange) Requantization(EmitContext c, int co)
    {
        var node = c.Node;
        var q = ConvQuantization.Derive(node.Input(0), node.Input(1), node.Output, co, node.AttributesAs<DepthwiseConv2DAttributes>().Activation);
        bool perTensor = q.OutputMultipliers.Distinct().Count() == 1 && q.OutputShifts.Distinct().Count() == 1;
        string multiplier, left, neg;
        if (perTensor)
            (multiplier, left, neg) = (CLiteral.Int(q.OutputMultipliers[0]), CLiteral.Int(Math.Max(q.OutputShifts[0], 0)), CLiteral.Int(Math.Min(q.OutputShifts[0], 0)));
        else
        {
            multiplier = c.Constants.Int32($"{c.Prefix}_multiplier", q.OutputMultipliers, $"operator {node.Index} requantization multiplier per channel") + "[oc]";
            left = c.Constants.Int32($"{c.Prefix}_left", q.OutputShifts.Select(s => Math.Max(s, 0)).ToArray(), $"operator {node.Index} requantization left shift per channel") + "[oc]";
            neg = c.Constants.Int32($"{c.Prefix}_neg_right", q.OutputShifts.Select(s => Math.Min(s, 0)).ToArray(), $"operator {node.Index} requantization right shift per channel, negated") + "[oc]";
        }

        int hasLeft = q.OutputShifts.Any(s => s > 0) ? 1 : 0;
        int right = q.OutputShifts.All(s => s >= 0) ? 0 : q.OutputShifts.All(s => s < 0) ? 1 : 2;
        bool wholeRange = q.Activation.Min == -128 && q.Activation.Max == 127;
        return (multiplier, left, neg, $"qm, ql, qn, {hasLeft}, {right}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max}", wholeRange);
    }

    /// <summary>How many input positions along the lane axis phase <paramref name="phase"/> of a plane column holds.</summary>
    private static int PhaseCount(Geometry g, int phase)
    {
        int l0 = ((phase - g.PadL) % g.Sl + g.Sl) % g.Sl, start = (l0 + g.PadL) / g.Sl;
        return l0 < g.Li ? Math.Min((g.Li - l0 + g.Sl - 1) / g.Sl, g.Lrow - start) : 0;
    }

    /// <summary>One strip of 4 lane positions (k) over every output along the other axis, in blocks.</summary>
    private static void Strip(CodeWriter body, Geometry g, int fw, bool wholeRange, Func<string, string> requantize, string? pairs, int lanes)
    {
        int block = Math.Min(g.Mo, wholeRange ? 5 : 4);
        body.Line("const int8_t* const p = plane + 4 * k;");
        body.Line($"int8_t* const o = out + 4 * k * {g.LaneOutStride};");
        int blocks = g.Mo / block, rest = g.Mo % block;
        if (blocks > 1)
            using (body.Block($"for (m = 0; m < {blocks}; ++m)"))
                Block(body, g, fw, requantize, pairs, lanes, block, $"p + m * {block * g.Sm * g.ColumnStride}", $"o + m * {block * g.OtherOutStride}");
        else if (blocks == 1)
            using (body.Block(""))
                Block(body, g, fw, requantize, pairs, lanes, block, "p", "o");
        if (rest > 0)
            using (body.Block(""))
                Block(body, g, fw, requantize, pairs, lanes, rest, $"p + {blocks * block * g.Sm * g.ColumnStride}", $"o + {blocks * block * g.OtherOutStride}");
    }

    /// <summary>The last <paramref name="rest"/> lane positions (a strip that would leave lanes idle) with 4 outputs
    /// along the other axis per vector instead: per tap one gather from the plane's columns (VLDRB.S32 with offsets;
    /// the last vector's idle lanes predicated off) and one VMLA.S32, the stores scattered along the other axis.</summary>
    private static void Across(CodeWriter body, Geometry g, int fw, Func<string, string> requantize, int rest)
    {
        using (body.Block(""))
        {
            // One base per lane-axis tap and one offsets vector per other-axis tap: no address arithmetic per gather.
            body.Line($"const mtvm_dw_offsets gi0 = mtvm_dw_offsets_of({g.Sm * g.ColumnStride}u), go = mtvm_dw_offsets_of({g.OtherOutStride}u);");
            body.Line("const int8_t* wq = wk;");
            body.Line("MTVM_DW_OPAQUE(wq);");
            body.Line(string.Join(" ", Enumerable.Range(0, g.Taps).Select(t => $"const int32_t w{t} = wq[{t}];")));
            for (int fm = 1; fm < g.Fm; fm++)
                body.Line($"const mtvm_dw_offsets gi{fm} = mtvm_dw_offsets_add(gi0, {fm * g.ColumnStride}u);");
            // A last vector of fewer than 4 outputs moves back to end at the last one where there are 4 (its other lanes
            // recompute outputs of the vector before: same values, no predication).
            var firsts = Enumerable.Range(0, (g.Mo + 3) / 4).Select(v => g.Mo >= 4 ? Math.Min(4 * v, g.Mo - 4) : 0);
            for (int lo = g.Lo - rest; lo < g.Lo; lo++)
                foreach (int first in firsts)
                    using (body.Block(""))
                    {
                        int lanes = Math.Min(4, g.Mo - first);
                        for (int fl = 0; fl < g.Fl; fl++)
                            body.Line($"const int8_t* const b{fl} = plane + {first * g.Sm * g.ColumnStride + fl % g.Sl * g.Lrow + lo + fl / g.Sl};");
                        body.Line("mtvm_i32x4 a = mtvm_v_dup(bias);");
                        for (int fm = 0; fm < g.Fm; fm++)
                            for (int fl = 0; fl < g.Fl; fl++)
                            {
                                string load = lanes == 4 ? $"mtvm_dw_ldg(b{fl}, gi{fm})" : $"mtvm_dw_ldg_n(b{fl}, gi{fm}, {lanes})";
                                body.Line($"a = mtvm_dw_mla(a, {load}, w{g.Tap(fl, fm, fw)});");
                            }

                        string output = $"out + {lo * g.LaneOutStride + first * g.OtherOutStride}";
                        body.Line(lanes == 4 ? $"mtvm_dw_store({output}, go, {requantize("a")});" : $"mtvm_dw_store_n({output}, go, {requantize("a")}, {lanes});");
                    }
        }
    }

    /// <summary><paramref name="count"/> outputs along the other axis: each plane load (column, lane-axis tap) feeds every
    /// accumulator whose window holds it.</summary>
    private static void Block(CodeWriter body, Geometry g, int fw, Func<string, string> requantize, string? pairs, int lanes, int count, string plane, string output)
    {
        body.Line($"const int8_t* const q = {plane};");
        body.Line($"int8_t* const r = {output};");
        body.Line(string.Join(" ", Enumerable.Range(0, count).Select(i => $"mtvm_i32x4 a{i} = mtvm_v_dup(bias);")));
        int columns = (count - 1) * g.Sm + g.Fm;
        // Loads from base pointers at immediate offsets within 127 bytes (a new base where the offsets grow past it).
        var loads = (from fl in Enumerable.Range(0, g.Fl)
                     from col in Enumerable.Range(0, columns)
                     let users = Enumerable.Range(0, count).Where(i => col - i * g.Sm >= 0 && col - i * g.Sm < g.Fm).ToList()
                     where users.Count > 0
                     select (fl, col, users, offset: col * g.ColumnStride + fl % g.Sl * g.Lrow + fl / g.Sl)).ToList();
        var bases = new List<int>();
        foreach (int offset in loads.Select(l => l.offset).Distinct().Order())
            if (bases.Count == 0 || offset - bases[^1] > 127) bases.Add(offset);
        for (int i = 0; i < bases.Count; i++)
            body.Line($"const int8_t* const q{i} = q + {bases[i]};");

        // Loads grouped by lane-axis tap, so only that tap's weights are live (read again per block: the block's
        // accumulators, weights and pointers then fit the core registers without spills).
        body.Line("const int8_t* wq = wk;");
        body.Line("MTVM_DW_OPAQUE(wq);");
        foreach (var group in loads.GroupBy(l => l.fl))
            using (body.Block(""))
            {
                var used = group.SelectMany(l => l.users.Select(i => g.Tap(l.fl, l.col - i * g.Sm, fw))).Distinct().Order();
                body.Line(string.Join(" ", used.Select(t => $"const int32_t w{t} = wq[{t}];")));
                foreach (var (fl, col, users, offset) in group)
                {
                    int b = bases.FindLastIndex(at => at <= offset);
                    body.Line($"MTVM_DW_LM{users.Count}(q{b}, {offset - bases[b]}, "
                        + string.Join(", ", users.Select(i => $"a{i}, w{g.Tap(fl, col - i * g.Sm, fw)}")) + ");");
                }
            }

        // Pairs of accumulators requantized together in int16 lanes where the pair's offsets fit 16 bits; an odd last
        // one (or every one) alone.
        int paired = pairs != null ? count / 2 * 2 : 0;
        for (int i = 0; i < paired; i += 2)
            body.Line($"mtvm_dw_requantize_pair(r + {i * g.OtherOutStride}, sp, a{i}, a{i + 1}, {pairs}, {lanes});");
        for (int i = paired; i < count; i++)
            body.Line(lanes == 4
                ? $"mtvm_dw_store(r + {i * g.OtherOutStride}, so, {requantize($"a{i}")});"
                : $"mtvm_dw_store_n(r + {i * g.OtherOutStride}, so, {requantize($"a{i}")}, {lanes});");
    }
}
