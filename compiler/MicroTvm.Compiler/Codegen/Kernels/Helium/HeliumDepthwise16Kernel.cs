using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// 16x8 DEPTHWISE_CONV_2D for Helium (MVE, Cortex-M55): 4 output channels per vector, per valid tap one widening load
/// of 4 int16 values and of 4 weights, VMUL and VADD (mtvm_c16_mla4 of mtvm_mve_conv16.h; taps outside the image are
/// skipped by clamping the window, the int16 zero point being 0, and dilation only spaces the taps); the last group of
/// channels is predicated. With a depth multiplier m > 1 output channel oc reads input channel oc / m, so the int16
/// load is a gather by a constant table of those input channels (mtvm_c16_mla4g: VLDRH.S32 by shifted offsets, the
/// offsets loaded once per group and pixel). TFLite accumulates these layers in int64 and requantizes in 64 bits; the
/// kernel takes a layer only where bias plus sum provably stay within int32 and every shift is in [-16, 0], so that the
/// int32 sums are exact and the 64-bit requantization is one VQRDMULH per 4 channels
/// (<see cref="HeliumGemm16Kernel.VectorMultipliers"/>); other 16x8 depthwise layers stay with the portable kernel.
/// </summary>
internal sealed class HeliumDepthwise16Kernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) => target.HasMve && Takes(node);

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    internal static bool Takes(Node node)
    {
        if (node.Kind != OpKind.DepthwiseConv2D || node.Input(0).Type != ElementType.Int16 || node.Output.Type != ElementType.Int16
            || node.Input(1).Type != ElementType.Int8 || TargetEligibility.Unsupported(node) is not null) return false;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        int channels = node.Output.Shape[3];
        if (node.Input(0).Shape[3] > ushort.MaxValue) return false; // the gather's table of input channels is uint16
        var q = ConvQuantization.Derive(node.Input(0), node.Input(1), node.Output, channels, a.Activation);
        var w = Decode.Int8(node.Input(1).Data!);
        var bias = node.Bias is { } b ? Decode.Int64(b.Data!) : new long[channels];
        var sums = Enumerable.Range(0, channels).Select(ch => Enumerable.Range(0, w.Length / channels).Sum(t => (long)Math.Abs((int)w[t * channels + ch]))).ToArray();
        return HeliumGemm16Kernel.WithinInt32(bias, sums) && HeliumGemm16Kernel.VectorMultipliers(q) is not null;
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        int n = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], inC = input.Shape[3];
        int outH = output.Shape[1], outW = output.Shape[2], ch = output.Shape[3], fh = filter.Shape[1], fw = filter.Shape[2];
        int multiplier = ch / inC;
        int padH = ConvGeometry.PaddingBefore(a.Padding, inH, fh, a.StrideH, a.DilationH), padW = ConvGeometry.PaddingBefore(a.Padding, inW, fw, a.StrideW, a.DilationW);
        int groups = (ch + 3) / 4;
        var q = ConvQuantization.Derive(input, filter, output, ch, a.Activation);
        c.Support.Use("mtvm_mve_conv16");
        var body = c.Body;
        string f = c.Constants.Tensor($"{c.Prefix}_filter", filter, $"operator {node.Index} filter {filter.Name} {Dims(filter)}");
        var bias = node.Bias is { } b ? Decode.Int64(b.Data!).Select(v => (int)v).ToArray() : new int[ch];
        string biasName = c.Constants.Int32($"{c.Prefix}_bias", bias.Concat(new int[groups * 4 - ch]).ToArray(),
            $"operator {node.Index} bias{(node.Bias is null ? " (none)" : $" {node.Bias.Name} (int64, every value within int32)")}, zeros past {ch}");
        string? channelTable = multiplier == 1 ? null
            : c.Constants.UInt16($"{c.Prefix}_in_channel", Enumerable.Range(0, groups * 4).Select(oc => (ushort)(oc < ch ? oc / multiplier : 0)).ToArray(),
                $"operator {node.Index} input channel of each output channel (depth multiplier {multiplier}), zeros past {ch}");
        var requantize = HeliumRequantization.Declare(c, HeliumGemm16Kernel.AsVectorRequantization(q), groups * 4);
        requantize.DeclareLocals(body);
        body.Line(ch >= 4 ? "int b, oy, ox, g, fy, fx;" : "int b, oy, ox, fy, fx;");
        using (body.Block($"for (b = 0; b < {n}; ++b)"))
        using (body.Block($"for (oy = 0; oy < {outH}; ++oy)"))
        {
            ConvolutionKernel.EmitWindow(body, "y", "oy", a.StrideH, padH, a.DilationH, fh, inH);
            using (body.Block($"for (ox = 0; ox < {outW}; ++ox)"))
            {
                ConvolutionKernel.EmitWindow(body, "x", "ox", a.StrideW, padW, a.DilationW, fw, inW);
                body.Line($"const int16_t* const img = {c.Input(0)} + b * {inH * inW * inC};");
                body.Line($"int16_t* const o = {c.Output()} + ((b * {outH} + oy) * {outW} + ox) * {ch};");
                string Tap(string origin, string tap, int dilation) => dilation == 1 ? $"{origin} + {tap}" : $"{origin} + {tap} * {dilation}";
                void Group(string first, int lanes)
                {
                    body.Line($"mtvm_i32x4 acc = mtvm_v_ld_s32({biasName} + {first});");
                    if (channelTable is not null) body.Line($"const mtvm_c16_off off = mtvm_c16_ld_off({channelTable} + {first});");
                    using (body.Block("for (fy = fy0; fy < fy1; ++fy)"))
                    {
                        // With a multiplier the gather's offsets name the channels: x is the tap's pixel.
                        body.Line($"const int16_t* x = img + (({Tap("iy0", "fy", a.DilationH)}) * {inW} + {Tap("ix0", "fx0", a.DilationW)}) * {inC}{(channelTable is null ? $" + {first}" : "")};");
                        body.Line($"const int8_t* w = {f} + fy * {fw * ch} + fx0 * {ch} + {first};");
                        string mla = channelTable is null ? $"mtvm_c16_mla4(acc, x, w, {lanes})" : $"mtvm_c16_mla4g(acc, x, off, w, {lanes})";
                        body.Line($"for (fx = fx0; fx < fx1; ++fx, x += {a.DilationW * inC}, w += {ch}) acc = {mla};");
                    }

                    requantize.Load(body, first);
                    body.Line($"mtvm_c16_st_s16(o + {first}, {requantize.Clamp("acc", "qm", "ql", "qn")}, {lanes});");
                }

                if (ch >= 4)
                    using (body.Block($"for (g = 0; g < {ch / 4 * 4}; g += 4)"))
                        Group("g", 4);
                if (ch % 4 != 0)
                    using (body.Block(""))
                        Group($"{ch / 4 * 4}", ch % 4);
            }
        }
    }
}
