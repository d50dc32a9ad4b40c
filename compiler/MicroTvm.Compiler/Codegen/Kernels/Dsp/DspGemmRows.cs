using System.Globalization;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The widened CONV_2D body of <see cref="DspGemmKernel"/> where the fast requantization is exact: per two output
/// pixels, one assembly statement written for this layer runs over all pairs of filter rows. Per pair: the bias words
/// (one LDM into the four accumulators), the column steps (one LDM of both pixels' columns, one of both rows, eight
/// SMLAD per 16 MACs; unrolled, or for long columns a loop of 16 steps after the remainder), the pair's requantization
/// operands from the same stream (one LDM), SMMLAR and SSAT (a uniform shift rides on SSAT) per output and four byte
/// stores. No accumulators go through memory and no C loop runs per channel. An odd last pixel is gathered into both
/// halves and stored once (both pointers at it); an odd channel count ends with one pair whose second row (zeros) is not
/// stored. Off target the same statements run as portable C (mtvm_gemm16_pair), the arithmetic the host tests check.
/// </summary>
internal static class DspGemmRows
{
    /// <summary>Column steps (4 values each) unrolled in full; longer columns loop over <see cref="LoopSteps"/> at a time.</summary>
    private const int Unrolled = 40;

    private const int LoopSteps = 16;

    /// <summary>One step: 4 column words (2 per pixel) into r8-r11, both rows' 4 words into r4-r7, eight SMLAD into the
    /// accumulators r2 (row 0, pixel 0), r3 (row 0, pixel 1), r12 (row 1, pixel 0), lr (row 1, pixel 1).</summary>
    private static readonly string[] Step =
    [
        "ldmia r0!, {r8, r9, r10, r11}", "ldmia r1!, {r4, r5, r6, r7}",
        "smlad r2, r8, r4, r2", "smlad r3, r10, r4, r3", "smlad r2, r9, r5, r2", "smlad r3, r11, r5, r3",
        "smlad r12, r8, r6, r12", "smlad lr, r10, r6, lr", "smlad r12, r9, r7, r12", "smlad lr, r11, r7, lr",
    ];

    /// <summary>True when the column's byte length can be an immediate or one MOVW.</summary>
    public static bool Takes(int columnValues) => 4 * columnValues < 65536;

    /// <summary>Writes the filter stream and the body. <paramref name="words"/>: the filter as int16 pairs in SXTB16
    /// order, [channel][columnValues / 2], times the requantization's power of two; <paramref name="bias"/> per channel, scaled too.
    /// With <paramref name="compact"/> (the int8 layout, <see cref="DspCompactGemm"/>): <paramref name="words"/> are the
    /// pairs' shared words h = w0 + 256 * w1, [pair][columnValues / 2], and the bias is not scaled: the accumulators are, after the steps.</summary>
    public static void Emit(EmitContext c, GemmShape s, int columnValues, int[] words, int[] bias, DspRequantization fast, string filterDescription,
        Action<CodeWriter, string, string> gather, Action<string> declareScratch, string image, int zx, bool fused, CompactPairs? compact = null,
        WidenedBlocks? blocks = null)
    {
        var body = c.Body;
        int steps = columnValues / 4, rowWords = columnValues / 2;
        int pairs = (s.OutC + 1) / 2, fullPairs = s.OutC / 2;
        int operandWords = fast.StreamedOperands(0).Length;
        int tailWords = 2 * operandWords + (compact?.ShiftWords ?? blocks?.ShiftWords ?? 0);
        int pairWords = 4 + (compact is null ? 2 * rowWords : rowWords) + tailWords;
        if (blocks is not null) pairWords = 4 + 2 * steps + tailWords; // int8 rows in flash; widened (4 * steps) in the scratch

        var stream = new int[pairs * pairWords];
        int i = 0;
        for (int pair = 0; pair < pairs; pair++)
        {
            int r0 = 2 * pair, r1 = Math.Min(2 * pair + 1, s.OutC); // r1 == OutC: the zero row of an odd count
            int b1 = r1 < s.OutC ? bias[r1] : 0;
            if (blocks is not null)
            {
                foreach (int v in new[] { bias[r0], bias[r0], b1, b1 }) stream[i++] = v;
                for (int step = 0; step < steps; step++)
                    foreach (int row in new[] { r0, r1 }) stream[i++] = words[row * steps + step];
            }
            else if (compact is null)
            {
                foreach (int v in new[] { bias[r0], bias[r0], b1, b1 }) stream[i++] = v;
                for (int step = 0; step < rowWords; step += 2)
                    foreach (int row in new[] { r0, r1 })
                        for (int k = 0; k < 2; k++)
                            stream[i++] = row < s.OutC ? words[row * rowWords + step + k] : 0;
            }
            else
            {
                int sum = unchecked(bias[r0] + (int)((uint)b1 << 8));
                foreach (int v in new[] { bias[r0], bias[r0], sum, sum }) stream[i++] = v;
                for (int k = 0; k < rowWords; k++) stream[i++] = words[pair * rowWords + k];
            }

            foreach (int v in fast.StreamedOperands(r0).Concat(fast.StreamedOperands(r1 < s.OutC ? r1 : r0))) stream[i++] = v;
            if (compact is not null) foreach (int v in compact.Words(r0, r1 < s.OutC ? r1 : r0)) stream[i++] = v;
            if (blocks is not null) foreach (int v in blocks.Words(r0, r1)) stream[i++] = v;
        }

        string operandsText = $"[requantization operands of both channels: {(operandWords == 3 ? "multiplier, constant, right shift" : "multiplier, constant")}]";
        string filter = c.Constants.Int32($"{c.Prefix}_filter", stream, blocks is not null
            ? blocks.Description(filterDescription, pairs, steps, operandsText)
            : compact is null
            ? $"{filterDescription}: [{pairs} channel pairs][the pair's bias - input zero point * sum of its filter row, times the power of two: b0, b0, b1, b1]" +
              $"[{steps} steps of 4 values][2 channels][(w0,w2),(w1,w3)]{operandsText}" + (s.OutC % 2 == 1 ? "; the last pair's second row is zeros" : "")
            : $"{filterDescription}: [{pairs} channel pairs][the accumulators' start, b = bias - input zero point * sum of the filter row: b0, b0, b0 + 256 * b1, b0 + 256 * b1]" +
              $"[{steps} steps of 4 values][(h0,h2),(h1,h3)], h = w0 + 256 * w1{operandsText}{(compact.ShiftWords == 0 ? "" : "[accumulator shifts: left of channel 0, right of channel 1's 256 * acc1]")}" +
              (s.OutC % 2 == 1 ? "; the last pair's w1 are zeros" : ""));
        c.Support.Use(compact is null && blocks is null ? "mtvm_dsp_gemm" : "mtvm_dsp_gemm8");

        declareScratch($"int32_t* const col = scratch; /* two output pixels' receptive fields as int16 pairs, interleaved per 4 values ({columnValues} words) */");
        // With blocks: the asm reads the block widened in the scratch; c0 is the block's first channel.
        var (rows, end, c0) = blocks is null ? (filter, $"{filter} + {fullPairs * pairWords}", "") : blocks.Open(body, filter, pairs, steps, tailWords);
        body.Line("int p;");
        using (body.Block($"for (p = 0; p < {s.Pixels}; p += 2)"))
        {
            body.Line(s.Pixels % 2 == 1 ? $"const int p1 = p + 1 < {s.Pixels} ? p + 1 : p; /* an odd last pixel twice, stored once */" : "const int p1 = p + 1;");
            body.Line($"int8_t* const o0 = {c.Output()} + p * {s.OutC}{c0};");
            body.Line($"int8_t* const o1 = {c.Output()} + p1 * {s.OutC}{c0};");
            GatherPair(body, s, gather, image, zx, fused);
            body.Line("#if defined(MTVM_DSP_ASM)");
            using (body.Block(""))
            {
                body.Line($"const void* const args[5] = {{ col, {rows}, o0, o1, {end} }};");
                body.Line($"/* {pairs} pairs of filter rows; {steps} column steps each{(steps > Unrolled ? $" ({steps % LoopSteps} unrolled, then a loop of {LoopSteps})" : "")} */");
                body.Line("__asm__ volatile(");
                foreach (var line in Assembly(s, steps, fullPairs, fast, operandWords, compact, blocks))
                    body.Line($"    \"{line}\\n\\t\"");
                body.Line("    : : \"r\"(args) : \"memory\", \"cc\");");
            }

            body.Line("#else");
            using (body.Block(""))
            {
                body.Line($"const int32_t* w = {rows};");
                body.Line("int pr;");
                using (body.Block(blocks is null ? $"for (pr = 0; pr < {pairs}; ++pr, w += {tailWords})" : $"for (pr = 0; w != {end}; ++pr, w += {tailWords})"))
                {
                    body.Line("int32_t a[4];");
                    body.Line($"w = mtvm_gemm{(compact is null ? 16 : 8)}_pair(col, w, {steps}, a);");
                    if (blocks is not null) body.Line(blocks.CScale(2 * operandWords));
                    if (compact is not null)
                    {
                        // a: acc0 of both pixels, acc0 + 256 * acc1 of both; scaled as the widened path's are.
                        var (left, right) = compact.CShifts(2 * operandWords);
                        body.Line($"a[2] = mtvm_gemm8_high(a[2], a[0], {right}); a[3] = mtvm_gemm8_high(a[3], a[1], {right});");
                        body.Line($"a[0] = (int32_t)((uint32_t)a[0] << {left}); a[1] = (int32_t)((uint32_t)a[1] << {left});");
                    }

                    string Out(string acc, int row) => fast.Output(acc, Enumerable.Range(0, operandWords).Select(k => $"w[{row * operandWords + k}]").ToList());
                    body.Line($"o0[2 * pr] = {Out("a[0]", 0)};");
                    body.Line($"o1[2 * pr] = {Out("a[1]", 0)};");
                    using (body.Block(s.OutC % 2 == 1 ? $"if (2 * pr + 1 < {s.OutC})" : ""))
                    {
                        body.Line($"o0[2 * pr + 1] = {Out("a[2]", 1)};");
                        body.Line($"o1[2 * pr + 1] = {Out("a[3]", 1)};");
                    }
                }
            }

            body.Line("#endif");
        }

        blocks?.Close(body);
    }

    /// <summary>Both pixels' columns. Where filter rows fill whole words: a pointwise pair, and a pair in one output row
    /// whose windows lie inside the image's width, widen both pixels' runs of each filter row together (mtvm_widen2_x2);
    /// otherwise each pixel is gathered on its own.</summary>
    private static void GatherPair(CodeWriter body, GemmShape s, Action<CodeWriter, string, string> gather, string image, int zx, bool fused)
    {
        if (fused && !s.Spatial)
        {
            body.Line($"mtvm_widen2_x2({image} + p * {s.InC}, {image} + p1 * {s.InC}, col, {s.RowBytes});");
            return;
        }

        if (!fused)
        {
            gather(body, "p", "col");
            gather(body, "p1", "col + 2");
            return;
        }

        body.Line($"const int ox = p % {s.OutW}, oy = (p / {s.OutW}) % {s.OutH};");
        body.Line($"const int ix0 = ox * {s.StrideW} - {s.PadW};");
        using (body.Block($"if (p1 == p + 1 && ox + 1 < {s.OutW} && ix0 >= 0 && ix0 + {s.StrideW + s.FilterW} <= {s.InW})"))
        {
            body.Line($"const int8_t* const img = {image} + (p / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH};");
            body.Line("int32_t* d = col;");
            body.Line("int fy;");
            using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, d += {s.RowBytes})"))
            {
                body.Line("const int iy = iy0 + fy;");
                body.Line($"if (iy < 0 || iy >= {s.InH}) {{ mtvm_fill_pairs(d, {zx}, {s.RowBytes}); continue; }}");
                body.Line($"mtvm_widen2_x2(img + (iy * {s.InW} + ix0) * {s.InC}, img + (iy * {s.InW} + ix0 + {s.StrideW}) * {s.InC}, d, {s.RowBytes});");
            }
        }

        using (body.Block("else"))
        {
            gather(body, "p", "col");
            gather(body, "p1", "col + 2");
        }
    }

    /// <summary>The statement's instructions. args: column, filter stream, o0, o1, end of the whole pairs. The stack
    /// holds o0, o1, that end and the column's end; every register is saved and restored around it.</summary>
    private static IEnumerable<string> Assembly(GemmShape s, int steps, int fullPairs, DspRequantization fast, int operandWords, CompactPairs? compact, WidenedBlocks? blocks)
    {
        IEnumerable<string> Steps(int count) => compact is null ? Enumerable.Repeat(Step, count).SelectMany(x => x) : CompactPairs.Steps(count);

        int columnBytes = 16 * steps;
        bool loop = steps > Unrolled;
        var asm = new List<string> { "push {r0-r12, lr}", "sub sp, sp, #16", "ldm %0, {r0, r1, r2, r3, r4}" };
        if (loop)
        {
            asm.AddRange(AddImmediate("r5", "r0", columnBytes, "r5"));
            asm.Add("stm sp, {r2, r3, r4, r5}");
        }
        else
        {
            asm.Add("stm sp, {r2, r3, r4}");
        }

        void Pair(bool secondRow)
        {
            asm.Add("ldmia r1!, {r2, r3, r12, lr}");
            if (!loop)
            {
                asm.AddRange(Steps(steps));
            }
            else
            {
                asm.AddRange(Steps(steps % LoopSteps));
                asm.Add("2:");
                asm.AddRange(Steps(LoopSteps));
                asm.Add("ldr r4, [sp, #12]");
                asm.Add("cmp r0, r4");
                asm.Add("bne 2b");
            }

            // Operands: row 0's in r4, r5 (r8), row 1's in r6, r7 (r9); r10, r11 free (after the compact pair's shifts).
            string shiftRegisters = (compact?.ShiftWords ?? blocks?.ShiftWords) > 0 ? ", r10, r11" : "";
            asm.Add(operandWords == 3 ? $"ldmia r1!, {{r4, r5, r6, r7, r8, r9{shiftRegisters}}}" : $"ldmia r1!, {{r4, r5, r6, r7{shiftRegisters}}}");
            if (compact is not null) asm.AddRange(compact.Scale(secondRow));
            if (blocks is not null) asm.AddRange(blocks.Scale());
            var (m0, d0, e0) = operandWords == 3 ? ("r4", "r5", "r6") : ("r4", "r5", "");
            var (m1, d1, e1) = operandWords == 3 ? ("r7", "r8", "r9") : ("r6", "r7", "");
            asm.AddRange(fast.Assembly("r2", m0, d0, e0, "r10"));
            asm.AddRange(fast.Assembly("r3", m0, d0, e0, "r11"));
            if (!secondRow) return;
            asm.AddRange(fast.Assembly("r12", m1, d1, e1, "r10"));
            asm.AddRange(fast.Assembly("lr", m1, d1, e1, "r11"));
        }

        if (fullPairs > 0)
        {
            asm.Add("1:");
            Pair(secondRow: true);
            asm.AddRange(["ldm sp, {r4, r5, r6}", "strb r2, [r4], #1", "strb r12, [r4], #1", "strb r3, [r5], #1", "strb lr, [r5], #1", "stm sp, {r4, r5}"]);
            asm.AddRange(AddImmediate("r0", "r0", -columnBytes, "r7"));
            asm.AddRange(["cmp r1, r6", "bne 1b"]);
        }

        if (s.OutC % 2 == 1)
        {
            Pair(secondRow: false);
            asm.AddRange(["ldm sp, {r4, r5}", "strb r2, [r4]", "strb r3, [r5]"]);
        }

        asm.AddRange(["add sp, sp, #16", "pop {r0-r12, lr}"]);
        return asm;
    }

    /// <summary>destination = source + value (|value| &lt; 65536): ADDW/SUBW, or MOVW into <paramref name="temporary"/> first.</summary>
    private static IEnumerable<string> AddImmediate(string destination, string source, int value, string temporary)
    {
        string op = value < 0 ? "sub" : "add";
        int magnitude = Math.Abs(value);
        if (magnitude <= 4095)
            return [$"{op}w {destination}, {source}, #{magnitude.ToString(CultureInfo.InvariantCulture)}"];
        return [$"movw {temporary}, #{magnitude.ToString(CultureInfo.InvariantCulture)}", $"{op} {destination}, {source}, {temporary}"];
    }
}
