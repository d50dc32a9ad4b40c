using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tuning;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 FULLY_CONNECTED for CPUs with the DSP extension, blocked over output rows: each batch row of the input is
/// widened once into int16 pairs (SXTB16 order), and every 4 values of it (two words, one LDRD) serve four weight
/// rows at once. The weight rows are re-laid out at compile time in blocks of four, interleaved per 4 values
/// ([block][step][row][4 values]), zero-padded to whole words; one or two rows left over make a last block of two
/// (<c>mtvm_fc8_1x2</c>, <c>mtvm_fc16_1x2</c>), three a block of four with a zero row whose output is never stored. The layout knob keeps them int8 (SXTB16 and SXTB16 ROR #8 unpack each word in the loop:
/// <c>mtvm_fc8_1x4</c>, 19 instructions per 16 MACs) or widens them to int16 pairs at compile time (twice the flash;
/// one LDM brings two rows' next 4 values: <c>mtvm_fc16_1x4</c>, 11 instructions per 16 MACs). The input zero point
/// is folded into the bias; int32 wrap-around accumulation equals TFLite's sum; requantization is bit-exact
/// (<see cref="DspRequantization"/>, else mtvm_requantize_int8).
/// </summary>
internal sealed class DspFullyConnectedKernel : TargetKernel
{
    /// <summary>Output rows per block: the accumulators one input word serves.</summary>
    private const int Block = 4;

    /// <summary>Weights widened to int16 pairs at compile time, or kept int8 (half the flash).</summary>
    internal static readonly Knob Layout = new("layout", new[] { "int16", "int8" }, Compact: "int8");

    private bool _compact;
    private bool _generalRequantization;

    public override bool Handles(Node node, TargetDescription target) =>
        target.HasDsp && node.Kind == OpKind.FullyConnected && GemmShape.Takes(node);

    public override IReadOnlyList<Knob> Knobs(Node node) => new[] { Layout, DspGemmKernel.RequantizationPath };

    public override TargetKernel Configure(Schedule schedule) =>
        new DspFullyConnectedKernel { _compact = schedule.Get(Layout) == "int8", _generalRequantization = schedule.Get(DspGemmKernel.RequantizationPath) == "general" };

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>Values of a long input row widened at a time. A row of more than twice this many values is taken in
    /// chunks, every block of weight rows summing over one chunk before the next is widened, so that the scratch stays
    /// small beside the activations (micro_speech's 4,000-value row would take 8,000 B widened whole, more than the
    /// model's activations); the partial sums then wait in the scratch, one word per row.</summary>
    private const int ChunkValues = 512;

    private static int Chunk(GemmShape s) => s.RowBytes > 2 * ChunkValues ? ChunkValues : s.RowBytes;

    /// <summary>Scratch: the widened input row or chunk (int16 pairs), then a word-padded copy of the row or chunk when
    /// the row's length is not a multiple of 4, then (in chunks) the rows' partial sums.</summary>
    public override long ScratchBytes(Node node)
    {
        var s = GemmShape.Of(node);
        int chunk = Chunk(s);
        return 2 * chunk + (s.Padded ? chunk : 0) + (chunk < s.RowBytes ? 4 * BlockSizes(s.OutC).Sum() : 0);
    }

    /// <summary>The blocks of weight rows: full blocks of four, then a last block of two (one or two rows left) or four
    /// (three left) whose extra rows are zeros.</summary>
    private static int[] BlockSizes(int units)
    {
        int left = units % Block, tail = left == 0 ? 0 : left <= 2 ? 2 : Block;
        return Enumerable.Repeat(Block, units / Block).Append(tail).Where(size => size > 0).ToArray();
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = GemmShape.Of(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        int depth = s.InC, kp = s.RowBytes, steps = kp / 4, units = s.OutC;
        var blockSizes = BlockSizes(units);
        int full = units / Block, left = units % Block, rows = blockSizes.Sum(), tail = rows - full * Block;
        int zx = input.Quantization!.ZeroPoint;

        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, units);
        var folded = new int[rows];
        var bound = new long[units];
        for (int oc = 0; oc < units; oc++)
        {
            long sum = 0, abs = 0;
            for (int i = 0; i < depth; i++) { sum += w[oc * depth + i]; abs += Math.Abs((int)w[oc * depth + i]); }
            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
            // Largest |accumulator|: folded bias plus 128 * sum |w| (inputs are int8).
            bound[oc] = Math.Abs((long)folded[oc]) + 128L * abs;
        }

        var q = ConvQuantization.Derive(input, filter, node.Output, units, s.Activation);
        bool wide = !_compact;
        var fast = _generalRequantization ? null : DspRequantization.TryCreate(q, bound);
        // Int8 weights cannot carry the fast requantization's power of two: the accumulator is shifted at run time
        // instead, by one amount for every channel.
        if (fast is not null && !wide && fast.Scale.Distinct().Count() != 1) fast = null;
        int runtimeShift = fast is not null && !wide ? (int)Math.Log2(fast.Scale[0]) : 0;
        int Scale(int oc) => fast is not null && wide && oc < units ? fast.Scale[oc] : 1;
        for (int oc = 0; oc < units; oc++) folded[oc] *= Scale(oc);

        // [block][step][row of the block][4 values]; rows past the last unit and values past the depth are zero.
        var laid = new int[rows * kp];
        int n = 0, first = 0;
        foreach (int size in blockSizes)
        {
            for (int step = 0; step < steps; step++)
                for (int r = 0; r < size; r++)
                    for (int i = 0; i < 4; i++)
                    {
                        int oc = first + r, d = step * 4 + i;
                        laid[n++] = oc < units && d < depth ? w[oc * depth + d] * Scale(oc) : 0;
                    }

            first += size;
        }

        string layout = $"[{full} blocks of {Block} rows{(tail == 0 ? "" : $", then one of {tail}")}][{steps} steps of 4 values][rows of the block]";
        string wName = wide
            ? c.Constants.Int32($"{c.Prefix}_filter", Int16Pairs.InSxtb16Order(laid),
                $"operator {node.Index} weights {filter.Name} {Dims(filter)} re-laid out for SMLAD as int16 pairs{(fast is null ? "" : " (times the requantization's power of two)")}: {layout}[(w0,w2),(w1,w3)]")
            : c.Constants.Int8($"{c.Prefix}_filter", laid.Select(v => (sbyte)v).ToArray(),
                $"operator {node.Index} weights {filter.Name} {Dims(filter)} re-laid out for SMLAD: {layout}[4 values]");
        string bName = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the weight row{(fast is not null && wide ? ", times the requantization's power of two" : "")}, per unit (zero for padding rows)");
        var (mult, shift) = fast is null ? DspGemmKernel.Requantization(c, q) : ("", "");
        c.Support.Use("mtvm_dsp_fc");
        c.Support.Use("mtvm_dsp_requantize");
        fast?.Declare(c);
        string function = DspGemmKernel.SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        string Requantize(string acc, int r) => fast is not null
            ? fast.Output(runtimeShift == 0 ? acc : $"(int32_t)((uint32_t){acc} << {runtimeShift})", $"oc{Plus(r)}")
            : $"{function}({acc}, {string.Format(mult, $"oc{Plus(r)}")}, {string.Format(shift, $"oc{Plus(r)}")}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        var body = c.Body;
        string wType = wide ? "int32_t" : "int8_t";
        int blockStride = wide ? Block * kp / 2 : Block * kp;
        string dot = wide ? "mtvm_fc16_1x" : "mtvm_fc8_1x";
        int chunk = Chunk(s);
        if (chunk < kp)
        {
            EmitChunked(c, s, chunk, blockSizes, wName, wide, bName, rows, Requantize);
            return;
        }

        body.Line($"int32_t* const col = scratch; /* one input row as int16 pairs ({kp / 2} words) */");
        if (s.Padded) body.Line($"int8_t* const row = (int8_t*)scratch + {2 * kp}; /* the input row padded to whole words */");
        body.Line("int p, oc;");
        using (body.Block($"for (p = 0; p < {s.Pixels}; ++p)"))
        {
            body.Line($"const {wType}* w = {wName};");
            body.Line($"int8_t* const o = {c.Output()} + p * {units};");
            WidenRow(c, s, "0", CLiteral.Int(kp), "row", "col");

            void Rows(int size, int count)
            {
                body.Line($"int32_t acc[{size}];");
                body.Line(string.Join(" ", Enumerable.Range(0, size).Select(r => $"acc[{r}] = {bName}[oc{Plus(r)}];")));
                body.Line($"{dot}{size}(col, w, {steps}, acc);");
                for (int r = 0; r < count; r++) body.Line($"o[oc{Plus(r)}] = {Requantize($"acc[{r}]", r)};");
            }

            if (full > 0)
                using (body.Block($"for (oc = 0; oc < {full * Block}; oc += {Block}, w += {blockStride})"))
                    Rows(Block, Block);
            if (tail > 0)
                using (body.Block(""))
                {
                    body.Line($"oc = {full * Block};");
                    Rows(tail, left);
                }
        }
    }

    /// <summary>Widens <paramref name="count"/> values of pixel p's input row from value <paramref name="start"/> (a
    /// multiple of 4) into <paramref name="col"/>; values past the row's depth go through <paramref name="row"/> as zeros.</summary>
    private static void WidenRow(EmitContext c, GemmShape s, string start, string count, string row, string col)
    {
        string source = $"{c.Input(0)} + p * {s.InC} + {start}";
        if (!s.Padded)
        {
            c.Body.Line($"mtvm_fc_widen({source}, {col}, {count});");
            return;
        }

        // Only the last chunk reaches past the depth; the copy keeps every read inside the input.
        c.Body.Line($"{{ const int real = {s.InC} - ({start}) < {count} ? {s.InC} - ({start}) : {count};");
        c.Body.Line($"  memcpy({row}, {source}, (size_t)real); memset({row} + real, 0, (size_t)({count} - real));");
        c.Body.Line($"  mtvm_fc_widen({row}, {col}, {count}); }}");
        c.Support.UseMemcpy();
    }

    /// <summary>A long input row in chunks of <paramref name="chunk"/> values: per chunk the chunk is widened, then every
    /// block of rows adds its sums over the chunk to the rows' partial sums in the scratch; the sums are requantized
    /// after the last chunk.</summary>
    private static void EmitChunked(EmitContext c, GemmShape s, int chunk, int[] blockSizes, string wName, bool wide, string bName, int rows,
        Func<string, int, string> requantize)
    {
        var body = c.Body;
        int kp = s.RowBytes, units = s.OutC;
        // Weight elements (int8 values, or words of two int16) per value of a row.
        int Elements(int values) => wide ? values / 2 : values;
        body.Line($"int32_t* const col = scratch; /* {chunk} values of the input row as int16 pairs ({chunk / 2} words) */");
        if (s.Padded) body.Line($"int8_t* const row = (int8_t*)scratch + {2 * chunk}; /* the chunk padded to whole words */");
        body.Line($"int32_t* const acc = (int32_t*)((int8_t*)scratch + {2 * chunk + (s.Padded ? chunk : 0)}); /* the rows' partial sums */");
        body.Line("int p, oc, start;");
        using (body.Block($"for (p = 0; p < {s.Pixels}; ++p)"))
        {
            body.Line($"int8_t* const o = {c.Output()} + p * {units};");
            body.Line($"for (oc = 0; oc < {rows}; ++oc) acc[oc] = {bName}[oc];");
            using (body.Block($"for (start = 0; start < {kp}; start += {chunk})"))
            {
                body.Line($"const int count = {kp} - start < {chunk} ? {kp} - start : {chunk};");
                WidenRow(c, s, "start", "count", "row", "col");
                int first = 0;
                foreach (int size in blockSizes)
                {
                    // Block [first, first + size): its weights are [step][row][4 values]; this chunk's steps start at start / 4.
                    body.Line($"mtvm_fc{(wide ? 16 : 8)}_1x{size}(col, {wName} + {Elements(first * kp)} + {Elements(size)} * start, count / 4, acc + {first});");
                    first += size;
                }
            }

            using (body.Block($"for (oc = 0; oc < {units}; ++oc)"))
                body.Line($"o[oc] = {requantize("acc[oc]", 0)};");
        }
    }
}
