using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// float32 → int8/int16 QUANTIZE on a core with a single-precision FPU, computed as TFLite does instead of by the
/// portable kernel's threshold search: <c>x / scale</c> is one VDIV.F32, the same IEEE-754 division (correctly rounded,
/// subnormals kept: the boards leave FPSCR.FZ clear) as TFLite's <c>val / (float)scale</c> and the evaluator's, for
/// every float; what remains is rounding half away from zero with int32 saturation (NaN: 0), the zero point added
/// with wrap-around, and the clamp (<see cref="AffineQuantization.Quantize"/>).
/// <list type="bullet">
/// <item>FPv5 and Armv8-M FP (<see cref="TargetDescription.FpuVersion"/> 5): VCVTA.S32.F32 is that rounding and
/// saturation in one instruction, so the result equals the reference's for every input (int8 and int16).</item>
/// <item>FPv4 (Cortex-M4, no VCVTA), int8: n = VCVT.S16.F32 #1 = trunc(2v) saturated to int16; round half away of v is
/// (n + 1) &gt;&gt; 1 for n ≥ 0 and n &gt;&gt; 1 for n &lt; 0, i.e. (n + (n &gt;&gt; 31) + 1) &gt;&gt; 1, and adding the zero
/// point goes inside the shift as 2·zp; a saturated n (|v| ≥ 16383.5) lands outside int8 either way. The int32 wrap
/// of the zero-point addition (only where the quotient reaches ±2^31) is the one thing this cannot see: the
/// threshold search's wrap points (<see cref="QuantizationThresholds"/>, found from the reference itself) are
/// compared first, so where they cannot be found the portable kernel stays.</item>
/// </list>
/// </summary>
internal sealed class FpuQuantizeKernel(int fpuVersion) : TargetKernel
{
    private readonly QuantizeKernel _portable = new();

    public override bool Handles(Node node, TargetDescription target) =>
        target.FpuVersion == fpuVersion && node.Kind == OpKind.Quantize && _portable.Unsupported(node) is null && Wraps(node, fpuVersion) is not null;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    /// <summary>The one decision: null where this kernel cannot be exact (no FPU, FPv4 with int16 output or with
    /// wrap points the search cannot find), else the reference's wrap-around thresholds the FPv4 code must compare
    /// first (none needed with VCVTA).</summary>
    private static QuantizationThresholds? Wraps(Node node, int fpuVersion)
    {
        var output = node.Output;
        if (node.Input(0).Type != ElementType.Float32 || output.Type is not (ElementType.Int8 or ElementType.Int16)) return null;
        var q = output.Quantization!;
        if (!(q.Scale > 0) || !float.IsFinite(q.Scale)) return null;
        return fpuVersion switch
        {
            >= 5 => Unused,
            4 when output.Type == ElementType.Int8 => QuantizationThresholds.Find(q.Scale, q.ZeroPoint, QuantizedRange.Of(output.Type)),
            _ => null,
        };
    }

    private static readonly QuantizationThresholds Unused = new([], 0, null, 0, null, 0);

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var output = node.Output;
        var q = output.Quantization!;
        string t = output.Type.CType();
        string scale = CLiteral.Float(q.Scale);
        var body = c.Body;
        c.Support.Use("mtvm_fpu");
        string sat = output.Type == ElementType.Int8 ? "mtvm_sat8" : "mtvm_sat16";
        var wraps = Wraps(node, fpuVersion)!;
        // Four elements per iteration: the loop's compare and branch are a fifth of the rest.
        UnrolledLoop(body, output.ElementCount, 4, i =>
        {
            if (fpuVersion >= 5)
            {
                // VDIV, VCVTA, then the zero point with wrap-around (through uint32, defined in C) and SSAT.
                body.Line($"const int32_t q = (int32_t)((uint32_t)mtvm_cvta_s32({c.Input(0)}[{i}] / {scale}) + (uint32_t){CLiteral.Int(q.ZeroPoint)});");
                body.Line($"{c.Output()}[{i}] = ({t}){sat}(q);");
                return;
            }

            body.Line($"const float x = {c.Input(0)}[{i}];");
            body.Line("int32_t q;");
            string keyword = "if";
            if (wraps.WrapAbove is { } above) { body.Line($"if (x >= {CLiteral.Float(above)}) q = {wraps.AboveResult}; /* the saturated quotient plus the zero point wraps */"); keyword = "else if"; }
            if (wraps.WrapBelow is { } below) { body.Line($"{keyword} (x <= {CLiteral.Float(below)}) q = {wraps.BelowResult};"); keyword = "else if"; }
            using (body.Block(keyword == "if" ? "" : "else"))
            {
                body.Line($"const int32_t n = mtvm_cvt_twice_s16(x / {scale});");
                body.Line($"q = mtvm_sat8((n + (n >> 31) + {CLiteral.Int(1 + 2 * q.ZeroPoint)}) >> 1);");
            }

            body.Line($"{c.Output()}[{i}] = ({t})q;");
        });
    }
}
