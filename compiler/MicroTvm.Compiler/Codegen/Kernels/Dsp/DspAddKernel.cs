using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 ADD/SUB for CPUs with the DSP extension. Where <see cref="DspLinearAdd"/> proves its affine form exact, four
/// elements per step: one LDR per input, two SXTB16 (or two masks) per input give the four bytes in int16 lanes, two
/// SMLAWB/SMLAWT per element, an SSAT with the shift built in, BFI packing and one STR (about 6 instructions per
/// element). Otherwise <see cref="AddTables"/>: per element two byte loads, two table loads, an add,
/// SMMLAR (the product's rounded high word plus K), the sign correction and an SSAT with the right shift built in;
/// four results are packed into a word with BFI, clamped to the activation range bytewise (SSUB8 + SEL) and stored
/// with one STR.
/// </summary>
internal sealed class DspAddKernel : TargetKernel
{
    private readonly BinaryElementwiseKernel _portable = new();

    public override bool Handles(Node node, TargetDescription target) => target.HasDsp && AddTables.For(node, doubled: true) is not null;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    /// <summary>Each group of elements is read before its results are stored, and both inputs have the output's
    /// shape and type (<see cref="AddTables.For"/>): the output may take either input's bytes.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        if (DspLinearAdd.For(c.Node) is { } linear)
        {
            EmitLinear(c, linear);
            return;
        }

        var p = AddTables.For(c.Node, doubled: true)!;
        var (t1, t2) = p.Emit(c, ", doubled for SMMLAR");
        c.Support.Use("mtvm_dsp");
        c.Support.UseMemcpy();
        var body = c.Body;
        body.Line($"const uint8_t* a = (const uint8_t*){c.Input(0)};");
        body.Line($"const uint8_t* b = (const uint8_t*){c.Input(1)};");
        body.Line($"int8_t* o = {c.Output()};");
        int words = p.Count / 4;
        string Element(string result, int k) => p.Shift > 0
            ? $"{{ const int32_t s = {t1}[a[{k}]] + {t2}[b[{k}]]; const int32_t v = mtvm_smmlar(s, {p.Multiplier}, {p.Constant}) + (s >> 31); MTVM_SSAT8_ASR({result}, v, {p.Shift}); }}"
            : $"{{ const int32_t s = {t1}[a[{k}]] + {t2}[b[{k}]]; {result} = mtvm_ssat8(mtvm_smmlar(s, {p.Multiplier}, {p.Constant})); }}";
        if (words > 0)
        {
            body.Line($"const uint8_t* const end = a + {words * 4};");
            using (body.Block("while (a != end)"))
            {
                body.Line("int32_t w, t;");
                body.Line(Element("w", 0));
                for (int k = 1; k < 4; k++) body.Line($"{Element("t", k)} MTVM_BFI8(w, t, {8 * k});");
                ClampAndStore(body, p.Activation);
                body.Line("a += 4; b += 4; o += 4;");
            }
        }

        for (int k = 0; k < p.Count % 4; k++)
        {
            using (body.Block(""))
            {
                body.Line("int32_t t;");
                body.Line(Element("t", k));
                Clamp(body, "t", p.Activation);
                body.Line($"o[{k}] = (int8_t)t;");
            }
        }
    }

    /// <summary>Clamps the four packed results in w to the activation range bytewise (SSUB8 + SEL) where a bound binds,
    /// and stores them.</summary>
    private static void ClampAndStore(CodeWriter body, QuantizedRange activation, string target = "o")
    {
        string Bytes(int v) => CLiteral.Int(unchecked((int)(0x01010101u * (byte)(sbyte)v)));
        if (activation.Min > -128) body.Line($"w = (int32_t)mtvm_max8((uint32_t)w, (uint32_t){Bytes(activation.Min)});");
        if (activation.Max < 127) body.Line($"w = (int32_t)mtvm_min8((uint32_t)w, (uint32_t){Bytes(activation.Max)});");
        body.Line($"memcpy({target}, &w, 4);");
    }

    private static void EmitLinear(EmitContext c, DspLinearAdd p)
    {
        c.Support.Use("mtvm_dsp");
        c.Support.UseMemcpy();
        var body = c.Body;
        body.Line($"/* proven on all 65,536 input pairs: out = clamp(({p.Constant} + SMLAW({p.A}, a{(p.WideA ? "*256" : "")}) + SMLAW({p.B}, b{(p.WideB ? "*256" : "")})) >> {p.Shift}) */");
        body.Line($"const int8_t* a = {c.Input(0)};");
        body.Line($"const int8_t* b = {c.Input(1)};");
        body.Line($"int8_t* o = {c.Output()};");
        // Bytes 0/2 and 1/3 of a word in int16 lanes: sign-extended, or in each lane's high byte (the value times 256).
        string Even(string w, bool wide) => wide ? $"mtvm_bytes02_hi({w})" : $"mtvm_sxtb16({w})";
        string Odd(string w, bool wide) => wide ? $"(int32_t)({w} & 0xFF00FF00u)" : $"mtvm_sxtb16_ror8({w})";
        string Sum(string half, string x, string y, bool packed = false) =>
            $"mtvm_smlaw{half}({CLiteral.Int(p.B)}, {y}, mtvm_smlaw{half}({CLiteral.Int(p.A)}, {x}, {CLiteral.Int(p.Constant + (packed ? DspLinearAdd.PackedOffset : 0))}))";
        // One word of four elements from a and b (both move on by 4), to offset `at` of o.
        void Word(int at)
        {
            using (body.Block(""))
            {
                body.Line("uint32_t wa, wb;");
                body.Line("MTVM_LOAD4_NEXT(wa, a); MTVM_LOAD4_NEXT(wb, b);");
                body.Line($"const int32_t a02 = {Even("wa", p.WideA)}, a13 = {Odd("wa", p.WideA)};");
                body.Line($"const int32_t b02 = {Even("wb", p.WideB)}, b13 = {Odd("wb", p.WideB)};");
                if (p.Packed)
                {
                    // Results 0/2 and 1/3 as the high halves of two words, each lane saturated to out + 128 in [0, 255].
                    body.Line($"const int32_t e = mtvm_usat16_8(mtvm_pack_hi16({Sum("b", "a02", "b02", packed: true)}, {Sum("t", "a02", "b02", packed: true)}));");
                    body.Line($"const int32_t d = mtvm_usat16_8(mtvm_pack_hi16({Sum("b", "a13", "b13", packed: true)}, {Sum("t", "a13", "b13", packed: true)}));");
                    body.Line("const uint32_t w = ((uint32_t)e | ((uint32_t)d << 8)) ^ 0x80808080u;");
                    body.Line($"memcpy(o + {at}, &w, 4);");
                    return;
                }

                body.Line("int32_t w, t;");
                body.Line($"MTVM_SSAT8_ASR(w, {Sum("b", "a02", "b02")}, {p.Shift});");
                body.Line($"MTVM_SSAT8_ASR(t, {Sum("b", "a13", "b13")}, {p.Shift}); MTVM_BFI8(w, t, 8);");
                body.Line($"MTVM_SSAT8_ASR(t, {Sum("t", "a02", "b02")}, {p.Shift}); MTVM_BFI8(w, t, 16);");
                body.Line($"MTVM_SSAT8_ASR(t, {Sum("t", "a13", "b13")}, {p.Shift}); MTVM_BFI8(w, t, 24);");
                ClampAndStore(body, p.Activation, $"o + {at}");
            }
        }

        // Two words per iteration (the loop's compare and branch once per 8 elements), then an odd word.
        int words = p.Count / 4;
        if (words >= 2)
        {
            body.Line($"const int8_t* const end = a + {words / 2 * 8};");
            using (body.Block("while (a != end)"))
            {
                Word(0);
                Word(4);
                body.Line("o += 8;");
            }
        }

        if (words % 2 == 1)
        {
            Word(0);
            body.Line("o += 4;");
        }

        string Lane(string x, bool wide) => wide ? $"{x} * 256" : x;
        for (int k = 0; k < p.Count % 4; k++)
        {
            using (body.Block(""))
            {
                body.Line($"int32_t t = {Sum("b", Lane($"a[{k}]", p.WideA), Lane($"b[{k}]", p.WideB))} >> {p.Shift};");
                Clamp(body, "t", Math.Max(p.Activation.Min, -128), Math.Min(p.Activation.Max, 127));
                body.Line($"o[{k}] = (int8_t)t;");
            }
        }
    }
}
