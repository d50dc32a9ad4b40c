using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// <see cref="AddTables"/> for CPUs with the DSP extension: per element two byte loads, two table loads, an add,
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
        string lo = CLiteral.Int(unchecked((int)(0x01010101u * (byte)(sbyte)Math.Max(p.Activation.Min, -128))));
        string hi = CLiteral.Int(unchecked((int)(0x01010101u * (byte)(sbyte)Math.Min(p.Activation.Max, 127))));
        if (words > 0)
        {
            body.Line($"const uint8_t* const end = a + {words * 4};");
            using (body.Block("while (a != end)"))
            {
                body.Line("int32_t w, t;");
                body.Line(Element("w", 0));
                for (int k = 1; k < 4; k++) body.Line($"{Element("t", k)} MTVM_BFI8(w, t, {8 * k});");
                if (p.Activation.Min > -128) body.Line($"w = (int32_t)mtvm_max8((uint32_t)w, (uint32_t){lo});");
                if (p.Activation.Max < 127) body.Line($"w = (int32_t)mtvm_min8((uint32_t)w, (uint32_t){hi});");
                body.Line("memcpy(o, &w, 4);");
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
}
