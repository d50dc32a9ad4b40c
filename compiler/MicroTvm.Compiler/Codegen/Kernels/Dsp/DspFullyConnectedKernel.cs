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

    /// <summary>Scratch: the widened input row (int16 pairs), then a word-padded copy of the row when its length is
    /// not a multiple of 4.</summary>
    public override long ScratchBytes(Node node)
    {
        var s = GemmShape.Of(node);
        return 2 * s.RowBytes + (s.Padded ? s.RowBytes : 0);
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = GemmShape.Of(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        int depth = s.InC, kp = s.RowBytes, steps = kp / 4, units = s.OutC;
        // Full blocks of four rows, then a last block of two rows (one or two left) or four (three left).
        int full = units / Block, left = units % Block, tail = left == 0 ? 0 : left <= 2 ? 2 : Block, rows = full * Block + tail;
        var blockSizes = Enumerable.Repeat(Block, full).Append(tail).Where(size => size > 0).ToArray();
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
        body.Line($"int32_t* const col = scratch; /* one input row as int16 pairs ({kp / 2} words) */");
        if (s.Padded) body.Line($"int8_t* const row = (int8_t*)scratch + {2 * kp}; /* the input row padded to whole words */");
        body.Line("int p, oc;");
        using (body.Block($"for (p = 0; p < {s.Pixels}; ++p)"))
        {
            body.Line($"const {wType}* w = {wName};");
            body.Line($"int8_t* const o = {c.Output()} + p * {units};");
            if (s.Padded)
            {
                body.Line($"memcpy(row, {c.Input(0)} + p * {depth}, {depth});");
                body.Line($"memset(row + {depth}, 0, {kp - depth});");
                body.Line($"mtvm_fc_widen(row, col, {kp});");
                c.Support.UseMemcpy();
            }
            else
            {
                body.Line($"mtvm_fc_widen({c.Input(0)} + p * {depth}, col, {kp});");
            }

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

}
