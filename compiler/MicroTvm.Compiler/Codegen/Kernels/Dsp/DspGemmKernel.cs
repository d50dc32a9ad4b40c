using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tuning;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 CONV_2D (dilation 1, any filter, stride, padding), DEPTHWISE_CONV_2D of a one-channel input (the same
/// thing with the depth multiplier as output channels) and FULLY_CONNECTED for CPUs with the DSP extension,
/// as a matrix product: each output pixel's receptive field is gathered into a column of int16 pairs (padding taps
/// hold the input zero point, so every column has the same length and the zero-point correction is one constant
/// per output channel folded into the bias at compile time), and two columns are multiplied with two filter rows
/// at a time by SMLAD (two 16-bit MACs per instruction). Filter rows are re-laid out at compile time: each filter
/// row (fy) is padded with zero weights to a multiple of 4 bytes (or, where rows do not fill words, the whole field
/// once). CONV_2D filters are widened to int16 pairs in the columns' order and interleaved two rows at a time with
/// each pair's bias words in front, the two columns interleaved per 4 values, so two LDM and eight SMLAD make 16 MACs
/// (with the fast requantization: assembly written per layer with the requantization inside, <see cref="DspGemmRows"/>;
/// else <c>mtvm_gemm16_rows</c> over all pairs of rows, then a C loop requantizes); FULLY_CONNECTED keeps int8 rows and unpacks each weight
/// word with SXTB16 (plain and ROR #8). Accumulation is int32 wrap-around, equal to TFLite's int32 sum;
/// requantization is bit-exact (<see cref="DspRequantization"/>, else mtvm_requantize_int8 of CHelpers/mtvm_dsp_requantize.h).
/// </summary>
internal sealed class DspGemmKernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) =>
        target.HasDsp && node.Kind != OpKind.FullyConnected && GemmShape.Takes(node); // FULLY_CONNECTED: DspFullyConnectedKernel

    /// <summary>A 1x1 CONV_2D whose output has its input's shape: every path gathers pixels p and p + 1 into the scratch
    /// columns before it stores their outputs, in the same bytes, and no later pixel reads them, so the output may take
    /// the input's bytes (KWS's pointwise step then holds one 8,000-byte activation and its columns, not two activations).</summary>
    public override bool CanWriteOver(Node node, int inputIndex) =>
        inputIndex == 0 && node.Kind == OpKind.Conv2D && node.Input(1).Shape[1] == 1 && node.Input(1).Shape[2] == 1
        && node.Input(0).Shape.SequenceEqual(node.Output.Shape);

    /// <summary>CONV_2D filters widened to int16 pairs at compile time (no unpacking in the inner loop) or kept int8
    /// (half the flash; SXTB16 unpacks each weight word at run time).</summary>
    internal static readonly Knob Layout = new("layout", new[] { "int16", "int8" }, Compact: "int8");

    /// <summary>The fast requantization where it is exact (<see cref="DspRequantization"/>), or always the general one.</summary>
    internal static readonly Knob RequantizationPath = new("requantization", new[] { "fast", "general" });

    private bool _compact;
    private bool _generalRequantization;

    public override IReadOnlyList<Knob> Knobs(Node node) => new[] { Layout, RequantizationPath };

    public override TargetKernel Configure(Schedule schedule) =>
        new DspGemmKernel { _compact = schedule.Get(Layout) == "int8", _generalRequantization = schedule.Get(RequantizationPath) == "general" };

    /// <summary>True when every channel's |accumulator| * 2^left shift stays below 2^30, so the cheaper
    /// mtvm_requantize_small is exact.</summary>
    internal static bool SmallAccumulators(long[] bound, ConvQuantization q) =>
        bound.Select((b, oc) => b << Math.Max(0, q.OutputShifts[oc])).All(b => b < (1L << 30));

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    public override long ScratchBytes(Node node)
    {
        var plan = Prepare(node);
        // Only mtvm_gemm16_rows and mtvm_gemm8_rows leave their sums in memory; the per-layer assembly keeps them in
        // registers and the compact unpacked rows on the stack.
        var (column, row) = Scratch(node, accumulators: !plan.RowsAssembly && (plan.Wide || plan.CompactPairs));
        return column + row;
    }

    /// <summary>Compact filters: room to widen blocks of filter rows in the scratch (<see cref="WidenedBlocks"/>).</summary>
    public override IReadOnlyList<long> ScratchWishes(Node node)
    {
        var s = GemmShape.Of(node);
        int kp = ColumnLength(s);
        if (!_compact || node.Kind == OpKind.FullyConnected || !DspGemmRows.Takes(kp)) return [];
        return Prepare(node).Fast is { } fast ? WidenedBlocks.Wishes(s, kp, fast, ScratchBytes(node), CanWriteOver(node, 0)) : [];
    }

    public override long ScratchUsed(Node node, long granted) => Blocks(node, Prepare(node), granted)?.ScratchBytes ?? ScratchBytes(node);

    /// <summary>Compact filters widened a block at a time in <paramref name="granted"/> bytes of scratch (Dsp/DspCompactGemm.cs), or null.</summary>
    private WidenedBlocks? Blocks(Node node, Plan plan, long granted)
    {
        var s = GemmShape.Of(node);
        int kp = ColumnLength(s);
        return !plan.Wide && plan.Fast is { } fast && node.Kind != OpKind.FullyConnected && DspGemmRows.Takes(kp)
            ? WidenedBlocks.For(s, kp, fast, granted, ScratchBytes(node), CanWriteOver(node, 0)) : null;
    }

    /// <summary>Scratch: the columns as int16 pairs (CONV_2D: two pixels interleaved; FULLY_CONNECTED: one column per
    /// pixel, at most two), then (with <paramref name="accumulators"/>) one chunk of channels' accumulators, then one
    /// word-padded input row where the gather needs it.</summary>
    internal static (int ColumnBytes, int RowBytes) Scratch(Node node, bool accumulators = true)
    {
        var s = GemmShape.Of(node);
        int words = ColumnLength(s) / 2;
        int column = 4 * (node.Kind != OpKind.FullyConnected ? 2 * words : Math.Min(2, s.Pixels) * words);
        bool needsRow = s.Padded || (s.Spatial && s.InC % 4 != 0);
        int sums = accumulators && node.Kind != OpKind.FullyConnected ? 8 * 2 * ChunkPairs(s) : 0;
        return (column + sums, needsRow ? (Packed(s) ? ColumnLength(s) : s.RowBytes) : 0);
    }

    /// <summary>True when filter rows (fy) do not fill whole words (e.g. 3x3 over 3 channels: 9 values): then the whole
    /// receptive field is one run of values padded once at its end (28 for 27, not 36), gathered through the row buffer,
    /// and the filter is laid out the same way.</summary>
    private static bool Packed(GemmShape s) => s.Spatial && s.Padded && s.FilterH > 1;

    /// <summary>Values per column (and per re-laid filter row set): word-padded filter rows, or packed.</summary>
    internal static int ColumnLength(GemmShape s) => Packed(s) ? (s.FilterH * s.FilterW * s.InC + 3) / 4 * 4 : s.ColumnLength;

    /// <summary>Pairs of filter rows per call of mtvm_gemm16_rows: its accumulators wait in the scratch for
    /// requantization, so a chunk of at most 16 channels keeps that buffer small (128 bytes).</summary>
    private static int ChunkPairs(GemmShape s) => Math.Min(8, (s.OutC + 1) / 2);

    /// <summary>Declares <c>col</c> (<paramref name="columnType"/>) and, where needed, <c>row</c> in the scratch.</summary>
    internal static void DeclareScratch(EmitContext c, GemmShape s, string column, bool accumulators = true)
    {
        var (columnBytes, rowBytes) = Scratch(c.Node, accumulators);
        c.Body.Line(column);
        if (rowBytes == 0) return;
        c.Body.Line($"int8_t* const row = (int8_t*)scratch + {columnBytes};");
        int used = Packed(s) ? s.FilterH * s.FilterW * s.InC : s.FilterW * s.InC;
        if (s.Padded && rowBytes > used) c.Body.Line($"memset(row + {used}, 0, {rowBytes - used}); /* zero weights face these */");
    }

    /// <summary>What Emit and ScratchBytes both decide from the layer: the re-laid filter, the folded bias (scaled for
    /// the widened fast path), the requantization, and whether the per-layer assembly runs it.</summary>
    private sealed record Plan(sbyte[] Laid, int[] Folded, ConvQuantization Q, long[] Bound, DspRequantization? Fast, bool Wide, bool CompactPairs, bool RowsAssembly);

    private Plan Prepare(Node node)
    {
        var s = GemmShape.Of(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        int zx = input.Quantization!.ZeroPoint;
        int kp = ColumnLength(s);
        int rowStart = Packed(s) ? s.FilterW * s.InC : s.RowBytes;

        // Filter re-laid out: [oc][fy][RowBytes] (or packed rows), zero weights in the padding; bias with the zero point folded in.
        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, s.OutC);
        var laid = new sbyte[s.OutC * kp];
        var folded = new int[s.OutC];
        int rowValues = s.FilterW * s.InC;
        for (int oc = 0; oc < s.OutC; oc++)
        {
            long sum = 0;
            for (int fy = 0; fy < s.FilterH; fy++)
                for (int i = 0; i < rowValues; i++)
                {
                    // OHWI; a one-channel depthwise filter is [1, H, W, outputs].
                    sbyte v = node.Kind == OpKind.DepthwiseConv2D ? w[(fy * s.FilterW + i) * s.OutC + oc] : w[(oc * s.FilterH + fy) * rowValues + i];
                    laid[oc * kp + fy * rowStart + i] = v;
                    sum += v;
                }

            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
        }

        var q = ConvQuantization.Derive(input, filter, node.Output, s.OutC, s.Activation);

        // Largest |accumulator| per channel: folded bias plus 128 * sum |w| (inputs are int8, padding holds zx).
        var bound = new long[s.OutC];
        for (int oc = 0; oc < s.OutC; oc++)
            bound[oc] = Math.Abs((long)folded[oc]) + 128L * laid.Skip(oc * kp).Take(kp).Sum(v => Math.Abs((long)v));

        // CONV_2D reuses every weight for each output pixel: widening it once at compile time (int16 pairs in the
        // columns' order) saves the two SXTB16 per weight word in the inner loop, for twice the filter's flash.
        // FULLY_CONNECTED uses each weight once per batch row and stays int8.
        bool wide = node.Kind != OpKind.FullyConnected && !_compact;
        var fast = _generalRequantization ? null : DspRequantization.TryCreate(q, bound);
        if (fast is not null && wide)
            for (int oc = 0; oc < s.OutC; oc++) folded[oc] *= fast.Scale[oc];
        // The per-layer assembly: widened filters, or compact ones whose pairs of channels can share int16 words.
        bool compactPairs = !wide && node.Kind != OpKind.FullyConnected && DspCompactGemm.PairsFit(s, laid, folded);
        bool rows = fast is not null && (wide || compactPairs) && DspGemmRows.Takes(kp);
        return new Plan(laid, folded, q, bound, fast, wide, compactPairs, rows);
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = GemmShape.Of(node);
        var filter = node.Input(1);
        int zx = node.Input(0).Quantization!.ZeroPoint;
        int kp = ColumnLength(s);
        var plan = Prepare(node);
        var (laid, folded, q, bound, fast, wide, _, rows) = plan;
        var blocks = Blocks(node, plan, c.ScratchBytes);
        if (rows || blocks is not null)
        {
            c.Support.Use("mtvm_dsp");
            string zeros = ZeroRow(c, s, zx);
            DspGemmRows.Emit(c, s, kp,
                wide ? Int16Pairs.InSxtb16Order(laid.Select((v, i) => v * fast!.Scale[i / kp]).ToArray())
                    : blocks is not null ? WidenedBlocks.Rows(laid) : DspCompactGemm.SharedWords(s, laid), folded, fast!,
                wide
                    ? $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD as int16 pairs times the requantization's power of two, filter rows zero-padded to whole words"
                    : $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD, int8 per weight, filter rows zero-padded to whole words",
                (body, pixel, column) => Gather(body, s, zx, pixel, column, c.Input(0), zeros, interleaved: true),
                column => DeclareScratch(c, s, column, accumulators: false), c.Input(0), zx, fused: !Packed(s) && !s.Padded,
                wide || blocks is not null ? null : new CompactPairs(fast!.Scale.Select(v => (int)Math.Log2(v)).ToArray()), blocks);
            return;
        }

        // Output channels in pairs (an odd count gets a zero row and a zero bias, never stored); per pair and per 4
        // values of the column, both rows' two words: [pair][step][row][2], the order mtvm_gemm16_rows reads them.
        int pairsOfRows = (s.OutC + 1) / 2;
        if (wide && s.OutC % 2 == 1) folded = folded.Append(0).ToArray();
        var scaled = laid.Select((v, i) => v * (fast is not null && wide ? fast.Scale[i / kp] : 1)).Concat(Enumerable.Repeat(0, wide && s.OutC % 2 == 1 ? kp : 0)).ToArray();
        string wName = wide
            ? c.Constants.Int32($"{c.Prefix}_filter", InterleavedRows(Int16Pairs.InSxtb16Order(scaled), folded, pairsOfRows, kp / 2),
                $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD as int16 pairs{(fast is null ? "" : " (times the requantization's power of two)")}: [{pairsOfRows} channel pairs][the pair's bias - input zero point * sum of its filter row{(fast is null ? "" : " (times the power of two)")}: b0, b0, b1, b1][{kp / 4} steps of 4 values][2 channels][(w0,w2),(w1,w3)], filter rows zero-padded to whole words")
            : "";
        var (mult, shift) = fast is null ? Requantization(c, q) : ("", "");
        c.Support.Use("mtvm_dsp_gemm");
        c.Support.Use("mtvm_dsp_requantize");
        fast?.Declare(c);

        string function = SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        var body = c.Body;
        // acc: a variable (the fast form reads it twice).
        string req(string acc, string oc) => fast is not null
            ? fast.Output(acc, oc)
            : $"{function}({acc}, {string.Format(mult, oc)}, {string.Format(shift, oc)}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        if (!wide)
        {
            DspCompactGemm.Emit(c, s, zx, laid, folded, fast?.Scale, req); // int8 weights: Dsp/DspCompactGemm.cs
            return;
        }

        EmitInterleaved(c, s, zx, wName, req);
    }

    /// <summary>The CONV_2D body: two output pixels' columns, interleaved per 4 values ([step][pixel][2 words]), times
    /// all filter rows, two at a time, by mtvm_gemm16_rows (per step one LDM of the columns, one LDM of both rows, eight
    /// SMLAD), a chunk of at most 16 channels per call; then each chunk's accumulators are requantized. An odd last
    /// pixel is gathered into both halves and stored once.</summary>
    private static void EmitInterleaved(EmitContext c, GemmShape s, int zx, string wName, Func<string, string, string> req)
    {
        var body = c.Body;
        int kp = ColumnLength(s), steps = kp / 4;
        int chunkPairs = ChunkPairs(s), chunk = 2 * chunkPairs;
        int pairWords = 4 + kp; /* bias and filter words per pair of rows */
        DeclareScratch(c, s, $"int32_t* const col = scratch; /* two output pixels' receptive fields as int16 pairs, interleaved per 4 values ({kp} words) */");
        body.Line($"int32_t* const acc = col + {kp}; /* [channel][pixel] accumulators of one chunk of {chunk} channels */");

        string zeroRow = ZeroRow(c, s, zx);
        body.Line("int p, oc;");

        void Channels(bool two)
        {
            if (s.OutC <= chunk)
            {
                body.Line($"mtvm_gemm16_rows(col, {wName}, acc, {steps}, {(s.OutC + 1) / 2});");
                Requantize("0", $"{s.OutC}", two);
                return;
            }

            body.Line("int c0;");
            using (body.Block($"for (c0 = 0; c0 < {s.OutC}; c0 += {chunk})"))
            {
                body.Line($"const int n = {s.OutC} - c0 < {chunk} ? {s.OutC} - c0 : {chunk};");
                body.Line($"mtvm_gemm16_rows(col, {wName} + c0 / 2 * {pairWords}, acc, {steps}, (n + 1) / 2);");
                Requantize("c0", "c0 + n", two);
            }
        }

        void Requantize(string from, string to, bool two)
        {
            // acc per pair of rows: row 0 pixel 0, row 0 pixel 1, row 1 pixel 0, row 1 pixel 1 = [channel][pixel].
            string at = from == "0" ? "2 * oc" : $"2 * (oc - {from})";
            using (body.Block($"for (oc = {from}; oc < {to}; ++oc)"))
            {
                body.Line($"const int32_t a0 = acc[{at}];");
                body.Line($"o0[oc] = {req("a0", "oc")};");
                if (two)
                {
                    body.Line($"const int32_t a1 = acc[{at} + 1];");
                    body.Line($"o1[oc] = {req("a1", "oc")};");
                }
            }
        }

        if (s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
            {
                body.Line($"int8_t* o0 = {c.Output()} + p * {s.OutC};");
                body.Line($"int8_t* o1 = o0 + {s.OutC};");
                Gather(body, s, zx, "p", "col", c.Input(0), zeroRow, interleaved: true);
                Gather(body, s, zx, "p + 1", "col + 2", c.Input(0), zeroRow, interleaved: true);
                Channels(two: true);
            }
        }

        if (s.Pixels % 2 == 1)
        {
            using (body.Block(""))
            {
                body.Line($"int8_t* o0 = {c.Output()} + {s.Pixels - 1} * {s.OutC};");
                body.Line($"p = {s.Pixels - 1};");
                Gather(body, s, zx, "p", "col", c.Input(0), zeroRow, interleaved: true);
                Gather(body, s, zx, "p", "col + 2", c.Input(0), zeroRow, interleaved: true);
                Channels(two: false);
            }
        }
    }

    /// <summary>One pixel of input zero points (the value of padding taps), or NULL where no tap lies outside.</summary>
    private static string ZeroRow(EmitContext c, GemmShape s, int zx) => s.Spatial
        ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {c.Node.Index} one pixel of input zero points, the value of padding taps")
        : "NULL";

    /// <summary>Per pair of rows: the pair's bias words (b0, b0, b1, b1, the accumulators' order), then the rows of
    /// <paramref name="rowWords"/> words interleaved per two words (4 values).</summary>
    private static int[] InterleavedRows(int[] words, int[] bias, int pairs, int rowWords)
    {
        var laid = new int[pairs * (4 + rowWords * 2)];
        int i = 0;
        for (int pair = 0; pair < pairs; pair++)
        {
            laid[i++] = bias[2 * pair];
            laid[i++] = bias[2 * pair];
            laid[i++] = bias[2 * pair + 1];
            laid[i++] = bias[2 * pair + 1];
            for (int step = 0; step < rowWords; step += 2)
                for (int row = 0; row < 2; row++)
                {
                    laid[i++] = words[(2 * pair + row) * rowWords + step];
                    laid[i++] = words[(2 * pair + row) * rowWords + step + 1];
                }
        }

        return laid;
    }

    /// <summary>Statements filling column <paramref name="column"/> with pixel <paramref name="pixel"/>'s receptive field.</summary>
    /// <summary>Interleaved: the column's words are two of every four (the other pixel's are between).</summary>
    internal static void Gather(CodeWriter body, GemmShape s, int zx, string pixel, string column, string image, string zeroRow, bool interleaved = false)
    {
        int spread = interleaved ? 2 : 1;
        int half = s.RowBytes / 2 * spread; /* column words per filter row */
        string copy = interleaved ? "mtvm_widen_x2" : "mtvm_widen";
        string fill = interleaved ? "mtvm_fill_pairs_x2" : "mtvm_fill_pairs";
        if (Packed(s))
        {
            GatherPacked(body, s, zx, pixel, column, image, zeroRow, copy);
            return;
        }

        if (!s.Spatial)
        {
            // Pointwise: the column is the input pixel itself.
            if (!s.Padded)
            {
                body.Line($"{copy}({image} + ({pixel}) * {s.InC}, {column}, {s.RowBytes});");
                return;
            }

            using (body.Block(""))
            {
                body.Line($"memcpy(row, {image} + ({pixel}) * {s.InC}, {s.InC});");
                body.Line($"memset(row + {s.InC}, 0, {s.RowBytes - s.InC});");
                body.Line($"{copy}(row, {column}, {s.RowBytes});");
            }

            return;
        }

        using (body.Block(""))
        {
            body.Line($"const int q = {pixel};");
            body.Line($"const int ox = q % {s.OutW}, oy = (q / {s.OutW}) % {s.OutH};");
            body.Line($"const int8_t* img = {image} + (q / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH}, ix0 = ox * {s.StrideW} - {s.PadW};");
            body.Line($"int32_t* d = {column};");
            body.Line("int fy;");
            using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, d += {half})"))
            {
                body.Line("const int iy = iy0 + fy;");
                body.Line($"if (iy < 0 || iy >= {s.InH}) {{ {fill}(d, {zx}, {s.RowBytes / 2}); continue; }}");
                if (!s.Padded)
                    body.Line($"if (ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW}) {{ {copy}(img + (iy * {s.InW} + ix0) * {s.InC}, d, {s.RowBytes}); continue; }}");
                if (s.InC % 4 == 0)
                {
                    // Whole words per tap: widen each tap from the input or from a row of zero points, no copy.
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line($"{copy}((unsigned)(ix0 + {fx}) < {s.InW}u ? img + (iy * {s.InW} + ix0 + {fx}) * {s.InC} : {zeroRow}, d + {fx * s.InC / 2 * spread}, {s.InC});");
                }
                else if (s.FilterW * s.InC <= 64)
                {
                    // Few bytes per row: copied one by one (unrolled), then widened.
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line($"const int8_t* s{fx} = (unsigned)(ix0 + {fx}) < {s.InW}u ? img + (iy * {s.InW} + ix0 + {fx}) * {s.InC} : {zeroRow};");
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line(string.Join(" ", Enumerable.Range(0, s.InC).Select(i => $"row[{fx * s.InC + i}] = s{fx}[{i}];")));
                    body.Line($"{copy}(row, d, {s.RowBytes});");
                }
                else
                {
                    body.Line("int fx;");
                    using (body.Block($"for (fx = 0; fx < {s.FilterW}; ++fx)"))
                    {
                        body.Line("const int ix = ix0 + fx;");
                        body.Line($"memcpy(row + fx * {s.InC}, (unsigned)ix < {s.InW}u ? img + (iy * {s.InW} + ix) * {s.InC} : {zeroRow}, {s.InC});");
                    }

                    body.Line($"{copy}(row, d, {s.RowBytes});");
                }
            }
        }
    }

    /// <summary>A packed column: each filter row's values copied into the row buffer one after the other (zero points
    /// outside the image), then widened once.</summary>
    private static void GatherPacked(CodeWriter body, GemmShape s, int zx, string pixel, string column, string image, string zeroRow, string copy)
    {
        int rowValues = s.FilterW * s.InC;
        using (body.Block(""))
        {
            body.Line($"const int q = {pixel};");
            body.Line($"const int ox = q % {s.OutW}, oy = (q / {s.OutW}) % {s.OutH};");
            body.Line($"const int8_t* img = {image} + (q / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH}, ix0 = ox * {s.StrideW} - {s.PadW};");
            body.Line("int8_t* r = row;");
            body.Line("int fy;");
            using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, r += {rowValues})"))
            {
                body.Line("const int iy = iy0 + fy;");
                body.Line($"if (iy < 0 || iy >= {s.InH}) {{ memset(r, {zx}, {rowValues}); continue; }}");
                body.Line($"if (ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW}) {{ memcpy(r, img + (iy * {s.InW} + ix0) * {s.InC}, {rowValues}); continue; }}");
                body.Line("int fx;");
                using (body.Block($"for (fx = 0; fx < {s.FilterW}; ++fx)"))
                {
                    body.Line("const int ix = ix0 + fx;");
                    body.Line($"memcpy(r + fx * {s.InC}, (unsigned)ix < {s.InW}u ? img + (iy * {s.InW} + ix) * {s.InC} : {zeroRow}, {s.InC});");
                }
            }

            body.Line($"{copy}(row, {column}, {ColumnLength(s)});");
        }
    }

    /// <summary>Multiplier and shift as C format strings over the channel expression ({0}): literals when every
    /// channel has the same, else constant arrays.</summary>
    internal static (string Multiplier, string Shift) Requantization(EmitContext c, ConvQuantization q)
    {
        if (q.OutputMultipliers.Any(m => m == int.MinValue))
            throw new InvalidOperationException("QuantizeMultiplier never yields INT32_MIN; mtvm_requantize relies on it");
        if (q.OutputMultipliers.Distinct().Count() == 1 && q.OutputShifts.Distinct().Count() == 1)
            return (CLiteral.Int(q.OutputMultipliers[0]), CLiteral.Int(q.OutputShifts[0]));
        string m = c.Constants.Int32($"{c.Prefix}_multiplier", q.OutputMultipliers, $"operator {c.Node.Index} requantization multiplier per channel");
        string s = c.Constants.Int8($"{c.Prefix}_shift", q.OutputShifts.Select(v => (sbyte)v).ToArray(), $"operator {c.Node.Index} requantization shift per channel");
        return ($"{m}[{{0}}]", $"{s}[{{0}}]");
    }
}
