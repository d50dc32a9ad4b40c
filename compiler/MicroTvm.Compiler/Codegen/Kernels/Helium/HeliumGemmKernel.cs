using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tuning;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 CONV_2D (dilation 1), DEPTHWISE_CONV_2D of a one-channel input and FULLY_CONNECTED for Helium (MVE,
/// Cortex-M55) as a matrix product, two output pixels by blocks of 4 output channels: VMLADAVA multiplies 16 bytes
/// of a pixel's column with 16 bytes of a filter row into a 32-bit sum in one instruction (the MTVM_VG2 steps of mtvm_mve_conv.h, unrolled per layer), and
/// the 4 sums of a pixel are requantized as one vector (<see cref="HeliumRequantization"/>). A column is read in
/// place where it lies in the input (pointwise stride-1 convolutions and FULLY_CONNECTED: the input pixel; filter
/// rows of a whole number of 16-byte steps: each row of an interior pixel), else gathered tightly (padding taps hold
/// the input zero point, folded into the bias at compile time); the last step of each piece is tail-predicated, so
/// no MAC is spent on padding beyond the 16-byte step and nothing past the input is read.
/// </summary>
internal sealed class HeliumGemmKernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) => target.HasMve && GemmShape.Takes(node);

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>Output pixels per block: two (each filter block read once for both) or one.</summary>
    internal static readonly Knob PixelBlock = new("pixels", new[] { "2", "1" });

    private int _pixelBlock = 2;

    public override IReadOnlyList<Knob> Knobs(Node node) => GemmShape.Of(node).Pixels >= 2 ? new[] { PixelBlock } : Array.Empty<Knob>();

    public override TargetKernel Configure(Schedule schedule) => new HeliumGemmKernel { _pixelBlock = int.Parse(schedule.Get(PixelBlock), System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>Scratch: where columns are gathered, the int8 columns of one or two pixels.</summary>
    public override long ScratchBytes(Node node)
    {
        var s = GemmShape.Of(node);
        return Mode(s) == ColumnMode.InPlace ? 0 : Math.Min(_pixelBlock, s.Pixels) * s.FilterH * s.FilterW * s.InC;
    }

    /// <summary>The gathered columns are read by word-aligned loads (VLDM) where their size allows.</summary>
    public override int ScratchAlignment(Node node) => 4;

    private static ColumnMode Mode(GemmShape s) =>
        !s.Spatial ? ColumnMode.InPlace : s.FilterW * s.InC % 16 == 0 ? ColumnMode.RowsInPlace : ColumnMode.Gathered;

    /// <summary>How the kernel reads a pixel's column: the input pixel in place (pointwise, stride 1, no padding;
    /// FULLY_CONNECTED), each filter row's bytes in place where they are a whole number of 16-byte steps (interior
    /// pixels; edge pixels are gathered), or always gathered into one tight column (small filter rows).</summary>
    private enum ColumnMode { InPlace, RowsInPlace, Gathered }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = GemmShape.Of(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        int zx = input.Quantization!.ZeroPoint;
        int rowValues = s.FilterW * s.InC, k = s.FilterH * rowValues;
        var mode = Mode(s);
        // The column as pieces of `piece` bytes, each `full` 16-byte steps and a `tail`.
        int pieces = mode == ColumnMode.RowsInPlace ? s.FilterH : 1;
        int piece = k / pieces, full = piece / 16, tail = piece % 16, steps = full + (tail > 0 ? 1 : 0);
        int blocks = (s.OutC + 3) / 4;

        // Filter in the natural column order [oc][k] (OHWI; a one-channel depthwise filter is [1, H, W, outputs]),
        // bias with the input zero point folded in (padding taps hold the zero point, so every column has k values).
        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, s.OutC);
        sbyte Weight(int oc, int i) => node.Kind == OpKind.DepthwiseConv2D ? w[i * s.OutC + oc] : w[oc * k + i];
        var folded = new int[blocks * 4];
        for (int oc = 0; oc < s.OutC; oc++)
        {
            long sum = 0;
            for (int i = 0; i < k; i++) sum += Weight(oc, i);
            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
        }

        // Re-laid [block][piece][step][4 rows][16], zero weights past each piece and for the rows past OutC.
        var laid = new sbyte[blocks * pieces * steps * 64];
        for (int oc = 0; oc < s.OutC; oc++)
            for (int r = 0; r < pieces; r++)
                for (int i = 0; i < piece; i++)
                    laid[(((oc / 4) * pieces + r) * steps + i / 16) * 64 + (oc % 4) * 16 + i % 16] = Weight(oc, r * piece + i);
        var q = ConvQuantization.Derive(input, filter, output, s.OutC, s.Activation);
        var requantize = HeliumRequantization.InRecord(q);
        if (EmitStreamed(c, s, mode, k, pieces, steps, tail, laid, folded, requantize, zx)) return;

        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for VMLADAVA: [{blocks} blocks of 4 channels][{pieces}][{steps} steps][4][16], zero weights past {piece} values and past {s.OutC} channels");
        // One record per block of 4 channels, read from one advancing pointer: the 4 biases, then the requantization's.
        var record = Enumerable.Range(0, blocks).SelectMany(blk => folded.Skip(4 * blk).Take(4).Concat(requantize.Record(4 * blk))).ToArray();
        int recordWords = record.Length / blocks;
        string bName = c.Constants.Int32($"{c.Prefix}_bias", record, recordWords == 4
            ? $"operator {node.Index} bias - input zero point * sum of the filter row, per output channel (zeros past {s.OutC})"
            : $"operator {node.Index} per block of 4 channels: bias - input zero point * sum of the filter row (zeros past {s.OutC}), requantization multipliers{(q.OutputShifts.Any(v => v > 0) ? ", left shifts" : "")}, negated right shifts");
        c.Support.UseMemcpy();
        c.Support.Use("mtvm_mve_conv");

        var body = c.Body;
        bool gathers = mode != ColumnMode.InPlace;
        if (gathers) body.Line($"int8_t (*const col)[{k}] = scratch; /* receptive fields gathered (edges: zero points for padding taps) */");
        string zeroRow = gathers
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        requantize.DeclareLocals(body);
        body.Line("int p, blk;");

        void Block(int count)
        {
            // `count` pixels (1 or 2) starting at p: locate each column's pieces, then per block of 4 filter rows the
            // unrolled steps (sums in core registers), the bias added and 4 channels requantized at a time.
            for (int j = 0; j < count; j++)
                Locate(body, s, mode, zx, pieces, j, $"p + {j}", $"col[{j}]", c.Input(0), zeroRow);
            body.Line($"int8_t* o = {c.Output()} + p * {s.OutC};");
            body.Line($"const int8_t* w = {wName};");
            body.Line($"const int32_t* rec = {bName};");
            using (body.Block($"for (blk = 0; blk < {blocks}; ++blk, rec += {recordWords})"))
            {
                string sums = count == 2 ? "a0, a1, a2, a3, b0, b1, b2, b3" : "a0, a1, a2, a3";
                body.Line($"int32_t {sums};");
                body.Line("MTVM_VG_OPAQUE(blk);");
                Steps(body, count, sums, pieces, full, tail);
                string lanes = s.OutC % 4 == 0 ? "4" : $"blk + 1 < {blocks} ? 4 : {s.OutC % 4}";
                requantize.Load(body, "4");
                body.Line("const mtvm_i32x4 bias = mtvm_v_ld_s32(rec);");
                body.Line(requantize.Store("o + 4 * blk", "mtvm_v_add(mtvm_v_make_lanes(a0, a1, a2, a3), bias)", lanes));
                if (count == 2)
                    body.Line(requantize.Store($"o + {s.OutC} + 4 * blk", "mtvm_v_add(mtvm_v_make_lanes(b0, b1, b2, b3), bias)", lanes));
            }
        }

        Pixels(body, s, Block);
    }

    /// <summary>Steps of 16 bytes per piece that one asm statement over all blocks unrolls (8 groups of 8, each 128
    /// bytes on from the last), the largest move of the column pointers an ADD/SUB immediate takes, and the channel
    /// count whose scatter offsets (int16 lanes) it stores.</summary>
    private const int MaxStreamSteps = 64, MaxStreamMove = 4095, MaxStreamChannels = 16000;

    /// <summary>The steps of one block for columns whose pieces lie <paramref name="stride"/> bytes apart (MTVM_VB1 or
    /// MTVM_VB2 in <paramref name="v"/>), or null where a move exceeds an immediate's range.</summary>
    private static string? StreamSteps(string v, int pieces, int steps, int tail, int stride, string requantization, int[]? order = null)
    {
        var code = new List<string>();
        int at = 0;
        for (int r = 0; r < pieces; r++)
            for (int i = 0; i < steps; i++)
            {
                int step = order is null ? i : order[i]; // a reordered block (whole steps, one piece of at most 8)
                int group = r * stride + 128 * (step / 8);
                if (group != at) code.Add($"{v}_ADV({group - at})");
                at = group;
                bool last = i == steps - 1 && tail > 0;
                code.Add($"{v}_{(r == 0 && i == 0 ? (last ? "U" : "F") : last ? "T" : "S")}({16 * (step % 8)})");
            }

        if (at > MaxStreamMove) return null;
        if (at > 0) code.Add($"{v}_BACK({at})");
        code.Add($"{v}_SUMS {requantization}");
        return string.Join(" ", code);
    }

    /// <summary>The steps of one block for word-aligned columns whose pieces lie <paramref name="stride"/> bytes apart,
    /// read by pointers that move on (MTVM_VB1 or MTVM_VB2 in <paramref name="v"/>): per piece, pairs of whole steps by
    /// one VLDM per column (_Q), a last whole step by VLDRB with post-increment (_O), the tail at the pointer (_T);
    /// the pointers moved to the next piece, and back at the block's end; null where a move exceeds an immediate.</summary>
    private static string? AdvancingSteps(string v, int pieces, int steps, int tail, int stride, string requantization)
    {
        var code = new List<string>();
        int at = 0, full = steps - (tail > 0 ? 1 : 0);
        bool first = true;
        string First() { string f = first ? "F" : ""; first = false; return f; }
        for (int r = 0; r < pieces; r++)
        {
            if (r * stride - at > MaxStreamMove) return null;
            if (r * stride != at) code.Add($"{v}_ADV({r * stride - at})");
            at = r * stride;
            // The block's last load leaves the pointers where they are (one move less to take back).
            bool lastPiece = r == pieces - 1 && tail == 0;
            for (int i = 0; i + 1 < full; i += 2)
            {
                bool stays = lastPiece && i + 2 == full;
                code.Add($"{v}_Q{(stays ? "N" : "")}{First()}");
                if (!stays) at += 32;
            }

            if (full % 2 == 1 && lastPiece) code.Add($"{v}_{(first ? "F" : "S")}(0)");
            else if (full % 2 == 1)
            {
                code.Add($"{v}_O{First()}");
                at += 16;
            }

            if (tail > 0) code.Add(first ? $"{v}_U(0)" : $"{v}_T(0)");
            first = false;
        }

        if (at > MaxStreamMove) return null;
        if (at > 0) code.Add($"{v}_BACK({at})");
        code.Add($"{v}_SUMS {requantization}");
        return string.Join(" ", code);
    }

    /// <summary>A block whose column steps are read two at a time by VLDM with writeback (MTVM_VB2_PA/_PD of
    /// mtvm_mve_conv.h): forward from the column's start, or backward from its end, pairs in reverse order (the
    /// stream lays that block's steps so), so that a forward and a backward block leave the pointers where they were.</summary>
    private static string PairedSteps(string v, int steps, bool backward, string requantization) =>
        string.Join(" ", Enumerable.Range(0, steps / 2).Select(i => backward ? steps / 2 - 1 - i : i)
            .Select((pair, i) => $"{v}_P{(backward ? "D" : "A")}{(i == 0 ? "F" : "")}({32 * pair}, {32 * pair + 16})")) + $" {v}_SUMS {requantization}";

    /// <summary>The order of a block's steps where it is read backward: pairs last to first.</summary>
    private static int[] BackwardSteps(int steps) =>
        Enumerable.Range(0, steps / 2).Reverse().SelectMany(pair => new[] { 2 * pair, 2 * pair + 1 }).ToArray();

    /// <summary>Where there are two columns or more and the channels fill whole blocks of 4: one asm
    /// statement per column pair runs every block (MTVM_VB2_RUN of mtvm_mve_conv.h), reading filter rows, bias and
    /// requantization constants from one stream of int32 words: a header (scatter offsets, output zero point, clamp
    /// bounds as int16 lanes), then per block its pieces' steps ([piece][step][4 rows][16]), the 4 biases and the
    /// requantization's record. Columns whose filter rows lie in place in the image are read there when both pixels'
    /// fields lie inside it, else both are gathered. Word-aligned columns (gathered ones of whole words; in the image, of
    /// channel counts of whole words where the input is word-aligned, tested at run time) are read two steps per VLDM by
    /// pointers that move on (<see cref="AdvancingSteps"/>), else by step at immediate offsets. False (nothing written)
    /// where the shape does not fit it.</summary>
    private bool EmitStreamed(EmitContext c, GemmShape s, ColumnMode mode, int k, int pieces, int steps, int tail, sbyte[] laid, int[] folded, HeliumRequantization requantize, int zx)
    {
        // One column (FULLY_CONNECTED of one batch) gains little and would store its per-tensor constants per block.
        if (s.Pixels < 2 || s.OutC % 4 != 0 || steps > MaxStreamSteps || s.OutC > MaxStreamChannels) return false;
        int gatheredStride = k / pieces, imageStride = s.InW * s.InC;
        var counts = Math.Min(_pixelBlock, s.Pixels) == 1 ? new[] { 1 } : s.Pixels % 2 == 1 ? new[] { 2, 1 } : new[] { 2 };
        int blocks = s.OutC / 4, blockBytes = pieces * steps * 64;
        // Short blocks (at most 8 steps) two per pass of the loop: one loop end for two. Pointwise columns of whole
        // steps in pairs: where the input is word-aligned each pass reads them by VLDM, forward then backward.
        bool twice = blocks % 2 == 0 && pieces * steps <= 8;
        bool paired = twice && mode == ColumnMode.InPlace && tail == 0 && steps % 2 == 0;
        int[]? second = paired ? BackwardSteps(steps) : null;
        string? Code(int n, int stride)
        {
            string v = $"MTVM_VB{n}", rq = requantize.StreamCode(v);
            string? first = StreamSteps(v, pieces, steps, tail, stride, rq);
            return first is null || !twice ? first : first + " " + StreamSteps(v, pieces, steps, tail, stride, rq, second);
        }

        // Word-aligned columns read by pointers that move on (AdvancingSteps): gathered columns where both lie on word
        // boundaries in the scratch (one piece: the rows are back to back there), columns in the image where every
        // pixel and row starts on a word boundary of a word-aligned input (tested at run time); null where not taken.
        string? Advancing(int n, int pieceCount, int stepCount, int stride)
        {
            string v = $"MTVM_VB{n}", rq = requantize.StreamCode(v);
            string? one = AdvancingSteps(v, pieceCount, stepCount, tail, stride, rq);
            if (one is null || !one.Contains("_Q", StringComparison.Ordinal)) return null; // no pair: no load fewer than by step
            return twice ? one + " " + one : one;
        }

        bool wordColumns = s.InC % 4 == 0 && !paired;
        var advancingGathered = counts.ToDictionary(n => n, n => mode != ColumnMode.InPlace && k % 4 == 0 ? Advancing(n, 1, pieces * steps, k) : null);
        var advancingImage = counts.ToDictionary(n => n, n => mode != ColumnMode.Gathered && wordColumns ? Advancing(n, pieces, steps, mode == ColumnMode.InPlace ? k : imageStride) : null);
        var gathered = counts.ToDictionary(n => n, n => Code(n, gatheredStride));
        var inside = counts.ToDictionary(n => n, n => Code(n, imageStride));
        var pairs = counts.ToDictionary(n => n, n => PairedSteps($"MTVM_VB{n}", steps, false, requantize.StreamCode($"MTVM_VB{n}")) + " " +
            PairedSteps($"MTVM_VB{n}", steps, true, requantize.StreamCode($"MTVM_VB{n}")));
        if (gathered.Values.Any(v => v is null) || (mode == ColumnMode.RowsInPlace && inside.Values.Any(v => v is null))) return false;

        var node = c.Node;
        var words = new List<int>(requantize.StreamHeader(s.OutC));
        for (int blk = 0; blk < blocks; blk++)
        {
            foreach (int step in blk % 2 == 1 && second is not null ? second : Enumerable.Range(0, pieces * steps))
                for (int i = blk * blockBytes + step * 64; i < blk * blockBytes + step * 64 + 64; i += 4)
                    words.Add((byte)laid[i] | (byte)laid[i + 1] << 8 | (byte)laid[i + 2] << 16 | (byte)laid[i + 3] << 24);
            words.AddRange(folded.Skip(4 * blk).Take(4));
            words.AddRange(requantize.Record(4 * blk, streamed: true));
        }

        string stream = c.Constants.Int32($"{c.Prefix}_stream", words,
            $"operator {node.Index}: header (int16 lanes: scatter offsets 0, {s.OutC}, 1, ..., output zero point, clamp low, clamp high), then per block of 4 channels: filter {node.Input(1).Name} {Dims(node.Input(1))} as [{pieces} pieces][{steps} steps][4 rows][16] bytes (zero past {k / pieces} values), bias - input zero point * sum of the filter row, {requantize.StreamContents}");
        c.Support.UseMemcpy();
        c.Support.Use("mtvm_mve_conv");
        var body = c.Body;
        string image = c.Input(0);
        if (mode != ColumnMode.InPlace) body.Line($"int8_t (*const col)[{k}] = scratch; /* receptive fields gathered (edges: zero points for padding taps) */");
        string zeroRow = mode != ColumnMode.InPlace
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        body.Line("int p;");

        void Block(int count)
        {
            var pixels = Enumerable.Range(0, count).ToList();
            string Run(IEnumerable<string> columns, string code) =>
                $"MTVM_VB{count}_RUN{(tail > 0 ? "_N" : "")}({string.Join(", ", columns)}, {c.Output()} + p * {s.OutC}, {stream}, {blocks}{(tail > 0 ? $", {tail}" : "")}, {code});";
            // VLDM needs word-aligned columns: in the image, those of a word-aligned input (the code chosen so that
            // every column and row then starts on a word); else the columns are read by step.
            void InImage(IEnumerable<string> columns, string? aligned, string byStep)
            {
                if (aligned is null)
                {
                    body.Line(Run(columns, byStep));
                    return;
                }

                using (body.Block($"if (((uintptr_t)(const void*){image} & 3u) == 0u)"))
                    body.Line(Run(columns, aligned));
                using (body.Block("else"))
                    body.Line(Run(columns, byStep));
            }

            if (mode == ColumnMode.InPlace)
            {
                InImage(pixels.Select(j => $"{image} + (p + {j}) * {s.InC}"), paired ? pairs[count] : advancingImage[count], gathered[count]!);
                return;
            }

            foreach (int j in pixels)
            {
                body.Line($"const int q{j} = p + {j};");
                body.Line($"const int8_t* const src{j} = {image} + (q{j} / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
                body.Line($"const int gy{j} = ((q{j} / {s.OutW}) % {s.OutH}) * {s.StrideH} - {s.PadH}, gx{j} = (q{j} % {s.OutW}) * {s.StrideW} - {s.PadW};");
            }

            void GatherAll()
            {
                foreach (int j in pixels)
                    using (body.Block(""))
                    {
                        body.Line($"const int8_t* const img = src{j};");
                        body.Line($"const int iy0 = gy{j}, ix0 = gx{j};");
                        Gather(body, s, zx, $"col[{j}]", zeroRow);
                    }
                body.Line(Run(pixels.Select(j => $"col[{j}]"), advancingGathered[count] ?? gathered[count]!));
            }

            string fits = string.Join(" && ", pixels.Select(j => $"gy{j} >= 0 && gy{j} + {s.FilterH} <= {s.InH} && gx{j} >= 0 && gx{j} + {s.FilterW} <= {s.InW}"));
            if (mode == ColumnMode.Gathered)
            {
                // Fields inside the image: their rows copied straight (no test per row), else row by row with padding.
                int rowBytes = s.FilterW * s.InC;
                using (body.Block($"if ({fits})"))
                {
                    foreach (int j in pixels)
                        using (body.Block(""))
                        {
                            body.Line($"const int8_t* const b = src{j} + (gy{j} * {s.InW} + gx{j}) * {s.InC};");
                            for (int r = 0; r < s.FilterH; r++)
                                body.Line($"{Copy(rowBytes)}(col[{j}] + {r * rowBytes}, b + {r * imageStride}, {rowBytes});");
                        }

                    body.Line(Run(pixels.Select(j => $"col[{j}]"), advancingGathered[count] ?? gathered[count]!));
                }

                using (body.Block("else"))
                    GatherAll();
                return;
            }

            using (body.Block($"if ({fits})"))
                InImage(pixels.Select(j => $"src{j} + (gy{j} * {s.InW} + gx{j}) * {s.InC}"), advancingImage[count], inside[count]!);
            using (body.Block("else"))
                GatherAll();
        }

        Pixels(body, s, Block);
        return true;
    }

    /// <summary>The loops over output pixels: pairs (with the knob's default) and a last odd pixel, or one at a time.</summary>
    private void Pixels(CodeWriter body, GemmShape s, Action<int> block)
    {
        if (Math.Min(_pixelBlock, s.Pixels) == 1 && s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p < {s.Pixels}; ++p)"))
                block(1);
            return;
        }

        if (s.Pixels >= 2)
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
                block(2);
        if (s.Pixels % 2 == 1)
            using (body.Block(""))
            {
                body.Line($"p = {s.Pixels - 1};");
                block(1);
            }
    }

    /// <summary>The multiply-accumulate statements of one block of 4 filter rows (w advances over them): per piece,
    /// its 16-byte steps and tail in asm statements of at most 8 steps (byte offsets 0..112 from a base advanced by
    /// 128), the first setting the sums; pieces longer than 32 steps loop over their whole groups of 8.</summary>
    private static void Steps(CodeWriter body, int count, string sums, int pieces, int full, int tail)
    {
        string prefix = count == 2 ? "MTVM_VG2" : "MTVM_VG1";
        int steps = full + (tail > 0 ? 1 : 0), groups = (steps + 7) / 8;
        bool first = true;
        void Statement(string x, string y, int from, int to)
        {
            bool hasTail = tail > 0 && to == steps;
            var code = Enumerable.Range(from, to - from).Select(i =>
                $"{prefix}_{(i == from && first && !(hasTail && i == steps - 1) ? "F" : i == steps - 1 && hasTail ? "T" : "S")}({16 * (i - from)})");
            string columns = count == 2 ? $"{x}, {y}" : x;
            string kind = (first && !(hasTail && from == steps - 1) ? "SET" : "ADD") + (hasTail ? "_N" : "");
            if (first && kind.StartsWith("ADD", StringComparison.Ordinal))
                body.Line(string.Join(" ", sums.Split(", ").Select(a => $"{a} = 0;")));
            body.Line($"{prefix}_{kind}({sums}, {columns}, w{(hasTail ? $", {tail}" : "")}, {string.Join(" ", code)});");
            first = false;
        }

        for (int r = 0; r < pieces; r++)
        {
            string x = $"x0[{r}]", y = $"x1[{r}]";
            if (groups <= 4)
            {
                for (int g = 0; g < groups; g++)
                    Statement(g == 0 ? x : $"{x} + {128 * g}", g == 0 ? y : $"{y} + {128 * g}", 8 * g, Math.Min(steps, 8 * g + 8));
                continue;
            }

            // Group 0 (it may set the sums), the whole groups 1.. in a loop, the last group if partial.
            using (body.Block(""))
            {
                body.Line(count == 2 ? $"const int8_t* xr = {x} + 128; const int8_t* yr = {y} + 128;" : $"const int8_t* xr = {x} + 128;");
                body.Line("int g;");
                Statement(x, y, 0, 8);
                int whole = full / 8; // groups of full steps only (at least 4 here)
                using (body.Block($"for (g = 1; g < {whole}; ++g, xr += 128{(count == 2 ? ", yr += 128" : "")})"))
                    Statement("xr", "yr", 0, 8);
                if (steps > 8 * whole)
                    Statement("xr", "yr", 8 * whole, steps);
            }
        }
    }

    /// <summary>Declares <c>x{j}[pieces]</c>, the pieces of the column of pixel <paramref name="pixel"/>: pointers
    /// into the input where they can be read in place, else into <paramref name="column"/> after gathering.</summary>
    private static void Locate(CodeWriter body, GemmShape s, ColumnMode mode, int zx, int pieces, int j, string pixel, string column, string image, string zeroRow)
    {
        if (mode == ColumnMode.InPlace)
        {
            body.Line($"const int8_t* const x{j}[1] = {{ {image} + ({pixel}) * {s.InC} }};");
            return;
        }

        body.Line($"const int8_t* x{j}[{pieces}];");
        using (body.Block(""))
        {
            body.Line($"const int q = {pixel};");
            body.Line($"const int ox = q % {s.OutW}, oy = (q / {s.OutW}) % {s.OutH};");
            body.Line($"const int8_t* img = {image} + (q / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH}, ix0 = ox * {s.StrideW} - {s.PadW};");
            if (mode == ColumnMode.RowsInPlace)
            {
                using (body.Block($"if (iy0 >= 0 && iy0 + {s.FilterH} <= {s.InH} && ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW})"))
                {
                    body.Line($"const int8_t* first = img + (iy0 * {s.InW} + ix0) * {s.InC};");
                    body.Line(string.Join(" ", Enumerable.Range(0, pieces).Select(r => $"x{j}[{r}] = first + {r * s.InW * s.InC};")));
                }

                using (body.Block("else"))
                {
                    Gather(body, s, zx, column, zeroRow);
                    body.Line(string.Join(" ", Enumerable.Range(0, pieces).Select(r => $"x{j}[{r}] = {column} + {r * s.FilterW * s.InC};")));
                }
            }
            else
            {
                Gather(body, s, zx, column, zeroRow);
                body.Line($"x{j}[0] = {column};");
            }
        }
    }

    /// <summary>The copy of a gathered run: 16 bytes or more by vector moves (mtvm_v_copy, mtvm_v_fill), shorter ones
    /// by memcpy/memset, which gcc turns into a few word moves.</summary>
    private static string Copy(int bytes) => bytes >= 16 ? "mtvm_v_copy" : "memcpy";

    private static string Fill(int bytes) => bytes >= 16 ? "mtvm_v_fill" : "memset";

    /// <summary>Statements filling <paramref name="column"/> with the receptive field at iy0, ix0 of img: per
    /// filter row, the row's bytes as they are where they lie inside the image, else tap by tap (zero points outside).</summary>
    private static void Gather(CodeWriter body, GemmShape s, int zx, string column, string zeroRow)
    {
        int rowBytes = s.FilterW * s.InC;
        body.Line($"int8_t* d = {column};");
        body.Line("int fy;");
        using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, d += {rowBytes})"))
        {
            body.Line("const int iy = iy0 + fy;");
            body.Line($"if (iy < 0 || iy >= {s.InH}) {{ {Fill(rowBytes)}(d, {zx}, {rowBytes}); continue; }}");
            body.Line($"if (ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW}) {{ {Copy(rowBytes)}(d, img + (iy * {s.InW} + ix0) * {s.InC}, {rowBytes}); continue; }}");
            if (s.FilterW <= 8)
            {
                for (int fx = 0; fx < s.FilterW; fx++)
                    body.Line($"{Copy(s.InC)}(d + {fx * s.InC}, (unsigned)(ix0 + {fx}) < {s.InW}u ? img + (iy * {s.InW} + ix0 + {fx}) * {s.InC} : {zeroRow}, {s.InC});");
            }
            else
            {
                body.Line("int fx;");
                body.Line($"for (fx = 0; fx < {s.FilterW}; ++fx) {Copy(s.InC)}(d + fx * {s.InC}, (unsigned)(ix0 + fx) < {s.InW}u ? img + (iy * {s.InW} + ix0 + fx) * {s.InC} : {zeroRow}, {s.InC});");
            }
        }
    }
}
