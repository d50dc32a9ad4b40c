using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 SVDF with an int8 state on CPUs with the DSP extension, the arithmetic of <see cref="SvdfKernel"/> (the same
/// zero-point folds, int32 sums modulo 2^32, TFLite's requantization) in three steps per batch row:
/// <list type="bullet">
/// <item>the input widened once into int16 pairs (SXTB16's order: values 0 and 2, then 1 and 3), zero-padded to whole
/// words of 4 values;</item>
/// <item>the feature products of two filters at a time on SMLAD, weights_feature stored widened in the same order, each
/// filter's newest state entry kept in the scratch;</item>
/// <item>per unit, each of its filters' state rows moved one element to the left a word at a time (a row of int8 values
/// is memory / 4 words: each new word is the old one shifted right by 8 bits with the next word's low byte, the last one
/// the newest entry) while the time product consumes the new words (SXTB16 against weights_time widened at compile
/// time). The state keeps TFLM's layout (what a run leaves in it is TFLM's state), and the shift costs one pass over
/// the words the time product reads anyway, instead of a byte-wise memmove of the whole state.</item>
/// </list>
/// Taken where the memory is a multiple of 4 (whole words per state row); otherwise the portable kernel runs.
/// </summary>
internal sealed class DspSvdfKernel : TargetKernel
{
    private const int FilterBlock = 4;

    public override bool Handles(Node node, TargetDescription target)
    {
        if (!target.HasDsp || node.Kind != OpKind.Svdf || SvdfRules.Unsupported(node) is not null) return false;
        if (node.Input(SvdfRules.Input).Type != ElementType.Int8 || node.Input(SvdfRules.State).Type != ElementType.Int8) return false;
        if (SvdfRules.Dimensions(node).Memory % 4 != 0) return false;
        // mtvm_requantize equals TFLite's MultiplyByQuantizedMultiplier for every multiplier but INT32_MIN.
        var q = SvdfQuantization.Derive(node);
        return q.FeatureMultiplier != int.MinValue && q.OutputMultiplier != int.MinValue;
    }

    public override string? Unsupported(Node node) => SvdfRules.Unsupported(node);

    /// <summary>The widened input row (whole words of 4 values, as two int16 pairs) and each filter's newest entry.</summary>
    public override long ScratchBytes(Node node)
    {
        var g = SvdfRules.Dimensions(node);
        return 8L * Words(g.InputSize) + g.Filters;
    }

    public override int ScratchAlignment(Node node) => 4;

    private static int Words(int values) => (values + 3) / 4;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var g = SvdfRules.Dimensions(node);
        var q = SvdfQuantization.Derive(node);
        var body = c.Body;
        int words = Words(g.InputSize);
        string s = c.Input(SvdfRules.State);
        var (fold1, fold2) = SvdfKernel.DeclareFolds(c, g, q);
        var feature = node.Input(SvdfRules.WeightsFeature);
        var time = node.Input(SvdfRules.WeightsTime);
        string w1 = c.Constants.Int32($"{c.Prefix}_weights_feature16", Widen(Decode.Int8(feature.Data!), g.Filters, g.InputSize, interleave: true),
            $"operator {node.Index} weights_feature {feature.Name} {Dims(feature)} as int16 pairs (values 0 and 2, 1 and 3 of each 4, zero-padded; blocks of filters interleaved per word)");
        string w2 = c.Constants.Int32($"{c.Prefix}_weights_time16", Widen(Decode.Int8(time.Data!), g.Filters, g.Memory, interleave: false),
            $"operator {node.Index} weights_time {time.Name} {Dims(time)} as int16 pairs (values 0 and 2, 1 and 3 of each 4)");
        var featureRequantize = Requantize(q.FeatureMultiplier, q.FeatureShift, 0, FeatureBound(node, g), q.StateZeroPoint);
        var outputRequantize = Requantize(q.OutputMultiplier, q.OutputShift, q.OutputZeroPoint, TimeBound(node, g), 0);
        c.Support.Use("mtvm_dsp");
        c.Support.Use("mtvm_dsp_requantize");
        c.Support.UseMemcpy();

        body.Line("int32_t* const xw = (int32_t*)scratch;");
        body.Line($"int8_t* const newest = (int8_t*)scratch + {8 * words};");
        using (body.Block($"for (int b = 0; b < {g.Batches}; ++b)"))
        {
            body.Line($"const int8_t* x = {c.Input(SvdfRules.Input)} + b * {g.InputSize};");
            body.Line($"int8_t* const st = {s} + b * {(long)g.Filters * g.Memory};");
            WidenInput(body, g.InputSize);

            body.Line("/* Each filter's newest entry: weights_feature . input at the state's scale, clamped to int8, plus the zero point");
            body.Line("   (the sum wraps as a C conversion does on every target compiler, as in TFLM). */");
            foreach (var (first, count, size) in Blocks(g.Filters))
                using (body.Block(count == 1 ? $"for (int f = {first}; f < {first + 1}; ++f)" : $"for (int f = {first}; f < {first + count * size}; f += {size})"))
                    FeatureBlock(body, size, words, w1, fold1, featureRequantize);

            body.Line("/* Per unit: its filters' rows move one element to the left (the oldest falls out, the newest comes in at the end),");
            body.Line("   and the bias plus the time products of the new rows give the unit's output (no fused activation, as TFLM). */");
            using (body.Block($"for (int u = 0; u < {g.Units}; ++u)"))
            {
                body.Line($"int32_t acc = {fold2}[u];");
                body.Line($"const int32_t* tw = {w2} + u * {g.Rank * g.Memory / 2};");
                using (body.Block(g.Rank == 1 ? "" : $"for (int f = u * {g.Rank}; f < u * {g.Rank} + {g.Rank}; ++f)"))
                {
                    if (g.Rank == 1) body.Line("const int f = u;");
                    body.Line($"int8_t* const row = st + f * {g.Memory};");
                    body.Line("uint32_t cur = mtvm_load4(row);");
                    if (g.Memory > 4)
                        using (body.Block($"for (int k = 0; k < {g.Memory / 4 - 1}; ++k)"))
                        {
                            body.Line("const uint32_t next = mtvm_load4(row + 4 * k + 4);");
                            ShiftedWord(body, "(cur >> 8) | (next << 24)", "row + 4 * k");
                            body.Line("cur = next;");
                        }

                    ShiftedWord(body, "(cur >> 8) | ((uint32_t)(uint8_t)newest[f] << 24)", $"row + {g.Memory - 4}");
                }

                body.Line($"{c.Output()}[b * {g.Units} + u] = (int8_t){outputRequantize("acc")};");
            }
        }
    }

    /// <summary>TFLite's requantization of an accumulator plus <paramref name="offset"/>, clamped to int8, plus
    /// <paramref name="after"/> (C text of an int32 value): SMMULR-based where the accumulator bound proves
    /// |acc * 2^left| &lt; 2^30 (mtvm_requantize_small), else the general form.</summary>
    private static Func<string, string> Requantize(int multiplier, int shift, int offset, long bound, int after)
    {
        bool small = bound << Math.Max(0, shift) < 1L << 30;
        return small
            ? acc => $"mtvm_ssat8(mtvm_requantize_small({acc}, {multiplier}, {shift}){Plus(offset)}){Plus(after)}"
            : acc => $"mtvm_clamp(mtvm_requantize({acc}, {multiplier}, {shift}){Plus(offset)}, -128, 127){Plus(after)}";
    }

    /// <summary>|feature accumulator| &lt;= 256 * sum of |weights_feature| of the filter (|fold| and |Σ x·w| each at most
    /// 128 times it), the largest over the filters.</summary>
    private static long FeatureBound(Node node, SvdfRules.Geometry g)
    {
        var w = Decode.Int8(node.Input(SvdfRules.WeightsFeature).Data!);
        return Enumerable.Range(0, g.Filters).Max(f => 256L * w.Skip(f * g.InputSize).Take(g.InputSize).Sum(v => Math.Abs((long)v)));
    }

    /// <summary>|time accumulator| &lt;= |bias| + 256 * sum of |weights_time| of the unit, the largest over the units.</summary>
    private static long TimeBound(Node node, SvdfRules.Geometry g)
    {
        var t = Decode.Int8(node.Input(SvdfRules.WeightsTime).Data!);
        var bias = node.Inputs[SvdfRules.Bias] is { } b ? Decode.Int32(b.Data!) : new int[g.Units];
        int run = g.Rank * g.Memory;
        return Enumerable.Range(0, g.Units).Max(u => Math.Abs((long)bias[u]) + 256L * t.Skip(u * run).Take(run).Sum(v => Math.Abs((long)v)));
    }

    /// <summary>One new state word: stored, and its four values times the next four time weights added to acc.</summary>
    private static void ShiftedWord(CodeWriter body, string value, string at)
    {
        body.Line($"const uint32_t v = {value};");
        body.Line($"memcpy({at}, &v, 4);");
        body.Line("int32_t te, to;");
        body.Line("MTVM_LOAD2(te, to, tw);");
        body.Line("acc = mtvm_smlad(mtvm_sxtb16(v), te, acc);");
        body.Line("acc = mtvm_smlad(mtvm_sxtb16_ror8(v), to, acc);");
    }

    /// <summary>The input row as int16 pairs in <c>xw</c>, the last word's missing values 0.</summary>
    private static void WidenInput(CodeWriter body, int count)
    {
        if (count >= 4)
            using (body.Block($"for (int k = 0; k < {count / 4}; ++k)"))
            {
                body.Line("const uint32_t v = mtvm_load4(x + 4 * k);");
                body.Line("xw[2 * k] = mtvm_sxtb16(v);");
                body.Line("xw[2 * k + 1] = mtvm_sxtb16_ror8(v);");
            }

        int from = count / 4 * 4;
        if (from == count) return;
        string At(int i) => i < count ? $"x[{i}]" : "0";
        body.Line($"xw[{from / 2}] = mtvm_pack16({At(from)}, {At(from + 2)});");
        body.Line($"xw[{from / 2 + 1}] = mtvm_pack16({At(from + 1)}, {At(from + 3)});");
    }

    /// <summary><paramref name="n"/> filters from f: their feature products on SMLAD (the block's widened weights
    /// interleaved per word of the input, read in order by LDRD), then their newest entries.</summary>
    private static void FeatureBlock(CodeWriter body, int n, int words, string weights, string fold, Func<string, string> requantize)
    {
        body.Line($"const int32_t* w = {weights} + f * {2 * words};");
        body.Line("const int32_t* xp = xw;");
        for (int i = 0; i < n; i++) body.Line($"int32_t a{i} = {fold}[f + {i}];");
        using (body.Block($"for (int k = 0; k < {words}; ++k)"))
        {
            body.Line("int32_t even, odd, we, wo;");
            body.Line("MTVM_LOAD2(even, odd, xp);");
            for (int i = 0; i < n; i++)
            {
                body.Line("MTVM_LOAD2(we, wo, w);");
                body.Line($"a{i} = mtvm_smlad(we, even, a{i});");
                body.Line($"a{i} = mtvm_smlad(wo, odd, a{i});");
            }
        }

        for (int i = 0; i < n; i++) body.Line($"newest[f + {i}] = (int8_t)({requantize($"a{i}")});");
    }

    /// <summary>The filters as blocks of <see cref="FilterBlock"/>, then of 2 and 1: (first filter, blocks, size).</summary>
    private static IEnumerable<(int First, int Count, int Size)> Blocks(int filters)
    {
        int first = 0;
        foreach (int size in new[] { FilterBlock, 2, 1 })
        {
            int count = (filters - first) / size;
            if (count > 0) yield return (first, count, size);
            first += count * size;
        }
    }

    /// <summary>Rows of int8 values as int16 pairs per 4 values (0 and 2, then 1 and 3), each row zero-padded to whole
    /// words; with <paramref name="interleave"/>, the rows of each filter block (<see cref="Blocks"/>) interleaved word
    /// by word.</summary>
    private static int[] Widen(sbyte[] values, int rows, int length, bool interleave)
    {
        int words = Words(length);
        var packed = new int[rows * 2 * words];
        var blocks = interleave ? Blocks(rows).SelectMany(b => Enumerable.Range(0, b.Count).Select(i => (First: b.First + i * b.Size, b.Size))) : Enumerable.Range(0, rows).Select(r => (First: r, Size: 1));
        foreach (var (first, size) in blocks)
            for (int i = 0; i < size; i++)
                for (int k = 0; k < words; k++)
                {
                    int r = first + i;
                    int At(int j) => 4 * k + j < length ? values[r * length + 4 * k + j] : 0;
                    int at = first * 2 * words + (k * size + i) * 2;
                    packed[at] = Int16Pairs.Pack(At(0), At(2));
                    packed[at + 1] = Int16Pairs.Pack(At(1), At(3));
                }

        return packed;
    }
}
