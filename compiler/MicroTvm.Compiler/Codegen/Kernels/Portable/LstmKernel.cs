using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// UNIDIRECTIONAL_SEQUENCE_LSTM (float32, int8, 16x8), one hidden unit at a time: the unit's four gates (the four
/// input products side by side, each input value loaded once, then the four recurrent products), its cell update and
/// its hidden value, written to the step's output row. The previous hidden state stays intact while the row is
/// computed and is then copied from it. Every element goes through the same operations as in TensorFlow Lite Micro's
/// gate-by-gate order (float sums in the same order), so the results are equal. Weights are laid out
/// [unit][gate][depth] so that a unit's rows are contiguous; for int8 the input and hidden zero points are folded into
/// per-row constants (exact in int32). With <see cref="Dsp"/> (int8 on CPUs with the DSP extension) the step's input
/// and hidden values are widened once into int16 pairs in the scratch (zero-padded to whole words), the weights are
/// stored as int16 pairs in the order the unrolled SMLAD loop reads them (one LDRD per gate and word), and the
/// requantizations run on SMMULR where their bounds allow.
/// </summary>
internal class LstmKernel : Kernel
{
    /// <summary>The SMLAD variant (see <see cref="DspLstmKernel"/>).</summary>
    protected virtual bool Dsp => false;

    // The importer's checks (Lstm.Check) are all this kernel needs.
    public override string? Unsupported(Node node) => null;

    /// <summary>The DSP variant's widened input and hidden rows: int16 pairs, zero-padded to whole words of 4 values.</summary>
    public override long ScratchBytes(Node node)
    {
        if (!Dsp) return 0;
        var s = Lstm.SizesOf(node);
        return 8L * (Words(s.InputSize) + Words(s.StateSize));
    }

    public override int ScratchAlignment(Node node) => Dsp ? 4 : 1;

    private static int Words(int values) => (values + 3) / 4;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = Lstm.SizesOf(node);
        var body = c.Body;
        var input = node.Input(Lstm.Input);
        bool isFloat = input.Type == ElementType.Float32;
        string act = input.Type.CType();
        string hidden = c.Input(Lstm.OutputState), cell = c.Input(Lstm.CellState);
        bool timeMajor = node.AttributesAs<LstmAttributes>().TimeMajor;
        string row = timeMajor ? $"t * {s.Batch} + b" : $"b * {s.Time} + t";
        if (Dsp)
        {
            c.Support.Use("mtvm_dsp");
            body.Line("int32_t* const xw = (int32_t*)scratch;");
            body.Line($"int32_t* const hw = (int32_t*)scratch + {2 * Words(s.InputSize)};");
        }

        using (body.Block($"for (int b = 0; b < {s.Batch}; ++b)"))
        {
            body.Line($"{act}* h = {hidden} + b * {s.StateSize};");
            body.Line($"{(isFloat ? "float" : "int16_t")}* cell = {cell} + b * {s.StateSize};");
            using (body.Block($"for (int t = 0; t < {s.Time}; ++t)"))
            {
                body.Line($"const {act}* x = {c.Input(Lstm.Input)} + ({row}) * {s.InputSize};");
                body.Line($"{act}* y = {c.Output()} + ({row}) * {s.StateSize};");
                if (Dsp)
                {
                    Widen(body, "x", "xw", s.InputSize);
                    Widen(body, "h", "hw", s.StateSize);
                }

                using (body.Block($"for (int j = 0; j < {s.StateSize}; ++j)"))
                {
                    if (isFloat) EmitFloatUnit(c, s);
                    else EmitIntegerUnit(c, s);
                }

                body.Line($"for (int j = 0; j < {s.StateSize}; ++j) h[j] = y[j];");
            }
        }
    }

    /// <summary>Each word of 4 int8 values as two int16 pairs: values 0 and 2, then 1 and 3 (SXTB16's order); the last
    /// word's missing values 0.</summary>
    private static void Widen(CodeWriter body, string from, string to, int count)
    {
        if (count >= 4)
            using (body.Block($"for (int k = 0; k < {count / 4}; ++k)"))
            {
                body.Line($"const uint32_t v = mtvm_load4((const int8_t*){from} + 4 * k);");
                body.Line($"{to}[2 * k] = mtvm_sxtb16(v);");
                body.Line($"{to}[2 * k + 1] = mtvm_sxtb16_ror8(v);");
            }

        int last = count / 4 * 4;
        if (last == count) return;
        string At(int i) => i < count ? $"{from}[{i}]" : "0";
        body.Line($"{to}[{last / 2}] = mtvm_pack16({At(last)}, {At(last + 2)});");
        body.Line($"{to}[{last / 2 + 1}] = mtvm_pack16({At(last + 1)}, {At(last + 3)});");
    }

    /// <summary>Four dot products of <paramref name="x"/> with the unit's four gate rows at <paramref name="w"/> (+0,
    /// +depth, +2 depth, +3 depth), added to <paramref name="acc"/>0..3 in increasing d.</summary>
    private static void EmitDots(CodeWriter body, string x, string w, int depth, string acc, string valueType, bool wide)
    {
        using (body.Block($"for (int d = 0; d < {depth}; ++d)"))
        {
            body.Line($"const {valueType} v = {x}[d];");
            for (int g = 0; g < 4; g++)
                body.Line($"{acc}{g} += {(wide ? $"(int64_t)(v * {w}[{g * depth} + d])" : $"v * {w}[{g * depth} + d]")};");
        }
    }

    /// <summary>The DSP variant's four dot products: per word of the widened row (one LDRD), each gate's two weight
    /// pairs (one LDRD from the unit's interleaved int16 weights at <paramref name="w"/>) on two SMLADs; unrolled.</summary>
    private static void EmitDspDots(CodeWriter body, string widened, string w, int depth, string acc)
    {
        body.Line($"const int32_t* {widened}p = {widened};");
        for (int k = 0; k < Words(depth); k++)
        {
            body.Line($"MTVM_LOAD2(even, odd, {widened}p);");
            for (int g = 0; g < 4; g++)
            {
                body.Line($"MTVM_LOAD2(we, wo, {w});");
                body.Line($"{acc}{g} = mtvm_smlad(we, even, {acc}{g});");
                body.Line($"{acc}{g} = mtvm_smlad(wo, odd, {acc}{g});");
            }
        }
    }

    /// <summary>The DSP variant's weights: per unit and word of 4 depth values, each gate's values 0 and 2 then 1 and 3
    /// as int16 pairs (zero-padded), in the order <see cref="EmitDspDots"/> reads them.</summary>
    private static (string Input, string Recurrent) DspWeights(EmitContext c, Lstm.Sizes s)
    {
        var node = c.Node;
        string Pack(int first, int depth, string what)
        {
            var rows = Enumerable.Range(0, 4).Select(g => Decode.Int8(node.Input(first + g).Data!)).ToArray();
            int words = Words(depth);
            var packed = new int[s.StateSize * words * 8];
            for (int j = 0; j < s.StateSize; j++)
                for (int k = 0; k < words; k++)
                    for (int g = 0; g < 4; g++)
                    {
                        int At(int i) => 4 * k + i < depth ? rows[g][j * depth + 4 * k + i] : 0;
                        int at = ((j * words + k) * 4 + g) * 2;
                        packed[at] = Int16Pairs.Pack(At(0), At(2));
                        packed[at + 1] = Int16Pairs.Pack(At(1), At(3));
                    }

            return c.Constants.Int32($"{c.Prefix}_{what}16", packed, $"operator {node.Index} {what} weights as int16 pairs [unit][word of 4][gate i,f,c,o][values 0,2 | 1,3]");
        }

        return (Pack(Lstm.InputWeights, s.InputSize, "input_weights"), Pack(Lstm.RecurrentWeights, s.StateSize, "recurrent_weights"));
    }

    /// <summary>The eight weight matrices as one constant, [unit][gate][depth] for the input and the recurrent side.</summary>
    private static (string Input, string Recurrent) Weights(EmitContext c, Lstm.Sizes s)
    {
        var node = c.Node;
        string Pack(int first, int depth, string what)
        {
            var rows = Enumerable.Range(0, 4).Select(g => node.Input(first + g)).ToArray();
            int size = rows[0].Type.SizeInBytes();
            var packed = new byte[4L * s.StateSize * depth * size];
            for (int j = 0; j < s.StateSize; j++)
                for (int g = 0; g < 4; g++)
                    Array.Copy(rows[g].Data!, (long)j * depth * size, packed, ((long)j * 4 + g) * depth * size, (long)depth * size);
            var tensor = new Tensor(-1, what, rows[0].Type, new[] { s.StateSize, 4, depth }, rows[0].Quantization, packed);
            return c.Constants.Tensor($"{c.Prefix}_{what}", tensor, $"operator {node.Index} {what} weights [unit][gate i,f,c,o][{depth}]");
        }

        return (Pack(Lstm.InputWeights, s.InputSize, "input_weights"), Pack(Lstm.RecurrentWeights, s.StateSize, "recurrent_weights"));
    }

    private void EmitFloatUnit(EmitContext c, Lstm.Sizes s)
    {
        var node = c.Node;
        var body = c.Body;
        var (wx, wh) = Weights(c, s);
        var biases = new float[4 * s.StateSize];
        for (int g = 0; g < 4; g++)
        {
            var bias = Decode.Float32(node.Input(Lstm.Biases + g).Data!);
            for (int j = 0; j < s.StateSize; j++) biases[j * 4 + g] = bias[j];
        }

        string b = c.Constants.Float($"{c.Prefix}_bias", biases, $"operator {node.Index} gate biases [unit][gate i,f,c,o]");
        c.Support.Use("mtvm_float_math");
        c.Support.Use("mtvm_minmax");
        // TFLite's order: each product summed from zero in input order, then its bias added (0.0f for the recurrent one).
        body.Line("float x0 = 0.0f, x1 = 0.0f, x2 = 0.0f, x3 = 0.0f, h0 = 0.0f, h1 = 0.0f, h2 = 0.0f, h3 = 0.0f;");
        body.Line($"const float* wx = {wx} + j * {4 * s.InputSize};");
        body.Line($"const float* wh = {wh} + j * {4 * s.StateSize};");
        EmitDots(body, "x", "wx", s.InputSize, "x", "float", false);
        EmitDots(body, "h", "wh", s.StateSize, "h", "float", false);
        for (int g = 0; g < 4; g++)
        {
            body.Line($"const float v{g} = (x{g} + {b}[j * 4 + {g}]) + (h{g} + 0.0f);");
            body.Line(g == Lstm.CellGate
                ? $"const float g{g} = mtvm_tanh_f32(v{g});"
                : $"const float g{g} = v{g} > 16.619047164916992188f ? 1.0f : v{g} < -9.0f ? mtvm_exp_f32(v{g}) : 1.0f / (1.0f + mtvm_exp_f32(-v{g}));");
        }

        float clip = node.AttributesAs<LstmAttributes>().CellClip;
        body.Line($"const float kept = g{Lstm.ForgetGate} * cell[j];");
        body.Line($"const float added = g{Lstm.InputGate} * g{Lstm.CellGate};");
        body.Line("float v = kept + added;");
        if (clip > 0) body.Line($"v = mtvm_max_f32(mtvm_min_f32({CLiteral.Float(clip)}, v), {CLiteral.Float(-clip)});");
        body.Line("cell[j] = v;");
        body.Line($"y[j] = mtvm_tanh_f32(v) * g{Lstm.OutputGate};");
    }

    private void EmitIntegerUnit(EmitContext c, Lstm.Sizes s)
    {
        var node = c.Node;
        var body = c.Body;
        var q = LstmQuantization.Derive(node);
        bool wide = node.Input(Lstm.Input).Type == ElementType.Int16;
        string table = c.Constants.UInt16($"{c.Prefix}_sigmoid", SigmoidInt16Quantization.SigmoidTable.ToArray(), "sigmoid(i/24) in unsigned Q0.16, i = 0..255 (TFLite's interpolation table)");
        c.Support.Use("mtvm_fixed_point");
        c.Support.Use("mtvm_lstm");

        // Per row: the bias plus the input zero-point correction; for int8 also the hidden zero point's.
        var inputRowBias = new long[4 * s.StateSize];
        var hiddenRowBias = new int[4 * s.StateSize];
        // Per gate, bounds of |input product| and |recurrent product| over the units (as AccumulatorBound's).
        var inputBound = new long[4];
        var recurrentBound = new long[4];
        for (int g = 0; g < 4; g++)
        {
            var biasTensor = node.Input(Lstm.Biases + g);
            var bias = wide ? Decode.Int64(biasTensor.Data!) : Array.ConvertAll(Decode.Int32(biasTensor.Data!), v => (long)v);
            var w = Decode.Int8(node.Input(Lstm.InputWeights + g).Data!);
            var r = Decode.Int8(node.Input(Lstm.RecurrentWeights + g).Data!);
            for (int j = 0; j < s.StateSize; j++)
            {
                long wsum = 0, rsum = 0;
                for (int d = 0; d < s.InputSize; d++) wsum += w[j * s.InputSize + d];
                for (int d = 0; d < s.StateSize; d++) rsum += r[j * s.StateSize + d];
                long wabs = 0, rabs = 0;
                for (int d = 0; d < s.InputSize; d++) wabs += Math.Abs((long)w[j * s.InputSize + d]);
                for (int d = 0; d < s.StateSize; d++) rabs += Math.Abs((long)r[j * s.StateSize + d]);
                inputBound[g] = Math.Max(inputBound[g], Math.Abs(bias[j]) + 256 * wabs);
                recurrentBound[g] = Math.Max(recurrentBound[g], 256 * rabs);
                inputRowBias[j * 4 + g] = wide ? bias[j] : ConvQuantization.FoldInputZeroPoint((int)bias[j], -q.InputOffset, wsum);
                hiddenRowBias[j * 4 + g] = ConvQuantization.FoldInputZeroPoint(0, -q.HiddenOffset, rsum);
            }
        }

        string comment = $"operator {node.Index} gate bias + input zero point correction [unit][gate i,f,c,o]";
        string bx = wide
            ? c.Constants.Int64($"{c.Prefix}_input_bias", inputRowBias, comment)
            : c.Constants.Int32($"{c.Prefix}_input_bias", inputRowBias.Select(v => (int)v).ToArray(), comment);
        bool hiddenFold = hiddenRowBias.Any(v => v != 0);
        string? bh = hiddenFold ? c.Constants.Int32($"{c.Prefix}_recurrent_bias", hiddenRowBias, $"operator {node.Index} output state zero point correction [unit][gate i,f,c,o]") : null;
        string accType = wide ? "int64_t" : "int32_t";
        // The DSP variant's requantization is TFLite's bit for bit in fewer instructions (no multiplier is INT32_MIN), on
        // SMMULR where the value's bound proves |x * 2^left| < 2^30 (the gate products: a sigmoid in [0, 32767] times an int16).
        if (Dsp) c.Support.Use("mtvm_dsp_requantize");
        string Requantize(long bound, int shift) => !Dsp ? "mtvm_mbqm" : bound << Math.Max(0, shift) < 1L << 30 ? "mtvm_requantize_small" : "mtvm_requantize";
        const long productBound = 32768L * 32767;
        string clamp16 = Dsp ? "mtvm_ssat16" : "mtvm_clamp_i16";
        string requantizeForget = Requantize(productBound, q.ForgetTimesCell.Shift);
        string requantizeInput = Requantize(productBound, q.InputTimesCellGate.Shift);
        string requantizeOutput = Requantize(productBound, q.CellTanhTimesOutput.Shift);

        body.Line($"{accType} x0 = {bx}[j * 4], x1 = {bx}[j * 4 + 1], x2 = {bx}[j * 4 + 2], x3 = {bx}[j * 4 + 3];");
        body.Line(bh is null
            ? $"{accType} h0 = 0, h1 = 0, h2 = 0, h3 = 0;"
            : $"{accType} h0 = {bh}[j * 4], h1 = {bh}[j * 4 + 1], h2 = {bh}[j * 4 + 2], h3 = {bh}[j * 4 + 3];");
        if (Dsp)
        {
            var (wx, wh) = DspWeights(c, s);
            body.Line($"const int32_t* wx = {wx} + j * {8 * Words(s.InputSize)};");
            body.Line($"const int32_t* wh = {wh} + j * {8 * Words(s.StateSize)};");
            body.Line("int32_t even, odd, we, wo;");
            EmitDspDots(body, "xw", "wx", s.InputSize, "x");
            EmitDspDots(body, "hw", "wh", s.StateSize, "h");
        }
        else
        {
            var (wx, wh) = Weights(c, s);
            body.Line($"const int8_t* wx = {wx} + j * {4 * s.InputSize};");
            body.Line($"const int8_t* wh = {wh} + j * {4 * s.StateSize};");
            EmitDots(body, "x", "wx", s.InputSize, "x", "int32_t", wide);
            EmitDots(body, "h", "wh", s.StateSize, "h", "int32_t", wide);
        }
        for (int g = 0; g < 4; g++)
        {
            var (mi, si) = q.Gates[g].Input;
            var (mr, sr) = q.Gates[g].Recurrent;
            string rx = wide ? "mtvm_mbqm64" : Requantize(inputBound[g], si), rh = wide ? "mtvm_mbqm64" : Requantize(recurrentBound[g], sr);
            body.Line($"const int32_t v{g} = {clamp16}({clamp16}({rx}(x{g}, {mi}, {si})) + {clamp16}({rh}(h{g}, {mr}, {sr})));");
            body.Line($"const int32_t g{g} = {(g == Lstm.CellGate ? "mtvm_tanh_q15" : "mtvm_sigmoid_q15")}({table}, v{g} * 3);");
        }

        var gateActivation = LstmQuantization.GateActivation;
        if (gateActivation.InputMultiplier != 3 || gateActivation.InputLeftShift != 0) throw new InvalidOperationException("the gate activation's scaling is x * 3");
        body.Line($"const int32_t kept = {clamp16}({requantizeForget}(g{Lstm.ForgetGate} * (int32_t)cell[j], {q.ForgetTimesCell.Multiplier}, {q.ForgetTimesCell.Shift}));");
        body.Line($"const int32_t added = {clamp16}({requantizeInput}(g{Lstm.InputGate} * g{Lstm.CellGate}, {q.InputTimesCellGate.Multiplier}, {q.InputTimesCellGate.Shift}));");
        body.Line($"int32_t v = {clamp16}(kept + added);");
        if (q.CellClip is int clip)
        {
            body.Line($"if (v > {clip}) v = {clip};");
            body.Line($"if (v < {-clip}) v = {-clip};");
        }

        body.Line("cell[j] = (int16_t)v;");
        var t = q.CellTanh;
        int round = t.InputLeftShift > 0 ? 1 << (t.InputLeftShift - 1) : 0;
        string scaled = t.InputLeftShift > 0 ? $"(v * {t.InputMultiplier}{Plus(round)}) >> {t.InputLeftShift}" : $"v * {t.InputMultiplier}";
        body.Line($"const int32_t tanh_cell = mtvm_tanh_q15({table}, {scaled});");
        body.Line($"int32_t out = {requantizeOutput}(tanh_cell * g{Lstm.OutputGate}, {q.CellTanhTimesOutput.Multiplier}, {q.CellTanhTimesOutput.Shift}){Plus(q.HiddenZeroPoint)};");
        Clamp(body, "out", q.HiddenMin, q.HiddenMax);
        body.Line($"y[j] = ({node.Output.Type.CType()})out;");
    }
}
