using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;
using Arithmetic = MicroTvm.Compiler.Codegen.Kernels.ConvolutionKernel.Arithmetic;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// TRANSPOSE_CONV (filter OHWI), float32, int8 and 16x8. Written as a gather: each output element sums the input
/// pixels that TFLite's scatter would send to it, in the same order (input row, column, channel ascending), so no
/// scratch accumulator is needed and float results keep TFLite's summation order.
/// </summary>
internal sealed class TransposeConvKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var a = node.AttributesAs<TransposeConvAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        if (input.Rank != 4 || output.Rank != 4 || filter.Rank != 4) return "input, filter and output must have rank 4 (NHWC)";
        if (!filter.IsConstant || (bias is not null && !bias.IsConstant)) return "filter and bias must be constant";
        if (filter.Shape[0] != output.Shape[3] || filter.Shape[3] != input.Shape[3]) return "filter must be [output channels, H, W, input channels]";
        if (ExpectFusedActivation(a.Activation) is { } act) return act;
        if (input.Type == ElementType.Float32)
            return filter.Type == ElementType.Float32 && output.Type == ElementType.Float32 && (bias is null || bias.Type == ElementType.Float32)
                ? null : "float32 input needs float32 filter, bias and output";
        if (input.Type is ElementType.Int8 or ElementType.Int16)
        {
            if (ExpectQuantized(input, "input", input.Type) is { } e1) return e1;
            if (ExpectQuantized(output, "output", input.Type) is { } e2) return e2;
            if (filter.Type != ElementType.Int8 || filter.Quantization is null) return "the filter must be quantized int8";
            if (filter.Quantization.IsPerChannel && filter.Quantization.Scales.Count != output.Shape[3]) return "per-channel filter needs one scale per output channel";
            if (input.Type == ElementType.Int8 && bias is not null && bias.Type != ElementType.Int32) return "bias must be int32";
            if (input.Type == ElementType.Int16 && bias is not null && !Int16x8Accumulation.BiasTypes(node.Kind).Contains(bias.Type)) return $"bias must be {Int16x8Accumulation.BiasTypesText(node.Kind)}";
            return null;
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8, int16, float32 are)";
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<TransposeConvAttributes>();
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        int n = input.Shape[0], ih = input.Shape[1], iw = input.Shape[2], ic = input.Shape[3];
        int oc = filter.Shape[0], kh = filter.Shape[1], kw = filter.Shape[2];
        int oh = output.Shape[1], ow = output.Shape[2];
        int pt = ConvGeometry.PaddingBefore(a.Padding, oh, kh, a.StrideH);
        int pl = ConvGeometry.PaddingBefore(a.Padding, ow, kw, a.StrideW);
        var arithmetic = input.Type switch
        {
            ElementType.Float32 => Arithmetic.Float,
            ElementType.Int8 => Arithmetic.Int8,
            _ => Int16x8Accumulation.InInt64(node) ? Arithmetic.Int16Wide : Arithmetic.Int16Narrow,
        };
        string t = input.Type.CType();
        string f = c.Constants.Tensor($"{c.Prefix}_filter", filter, $"operator {node.Index} filter {filter.Name} {Dims(filter)}");
        string? b = bias is null ? null : c.Constants.Tensor($"{c.Prefix}_bias", bias, $"operator {node.Index} bias {bias.Name}");
        ConvQuantization? q = arithmetic == Arithmetic.Float ? null : ConvQuantization.Derive(input, filter, output, oc, a.Activation);
        string accType = arithmetic switch { Arithmetic.Float => "float", Arithmetic.Int8 => "int32_t", _ => "int64_t" };
        string x = q is null || q.InputOffset == 0 ? "x[i]" : $"(x[i] + {q.InputOffset})";
        string w = q is null || q.FilterOffset == 0 ? "w[i]" : $"(w[i] + {q.FilterOffset})";
        string product = arithmetic switch
        {
            Arithmetic.Float => "x[i] * w[i]",
            Arithmetic.Int8 => $"(int32_t){x} * (int32_t){w}",
            _ => $"(int64_t)((int32_t){x} * (int32_t){w})",
        };
        var body = c.Body;
        if (arithmetic == Arithmetic.Float) c.Support.Use("mtvm_minmax");
        using (body.Block($"for (int n = 0; n < {n}; ++n)"))
        using (body.Block($"for (int oy = 0; oy < {oh}; ++oy)"))
        {
            body.Line($"const int iy0 = oy + {pt - kh + 1} <= 0 ? 0 : (oy + {pt - kh + 1} + {a.StrideH - 1}) / {a.StrideH};");
            body.Line($"const int iy1 = (oy + {pt}) / {a.StrideH} < {ih - 1} ? (oy + {pt}) / {a.StrideH} : {ih - 1};");
            using (body.Block($"for (int ox = 0; ox < {ow}; ++ox)"))
            {
                body.Line($"const int ix0 = ox + {pl - kw + 1} <= 0 ? 0 : (ox + {pl - kw + 1} + {a.StrideW - 1}) / {a.StrideW};");
                body.Line($"const int ix1 = (ox + {pl}) / {a.StrideW} < {iw - 1} ? (ox + {pl}) / {a.StrideW} : {iw - 1};");
                body.Line($"{t}* o = {c.Output()} + ((n * {oh} + oy) * {ow} + ox) * {oc};");
                using (body.Block($"for (int oc = 0; oc < {oc}; ++oc)"))
                {
                    body.Line($"{accType} acc = {(arithmetic == Arithmetic.Float ? "0.0f" : "0")};");
                    using (body.Block("for (int iy = iy0; iy <= iy1; ++iy)"))
                    using (body.Block("for (int ix = ix0; ix <= ix1; ++ix)"))
                    {
                        body.Line($"const {t}* x = {c.Input(0)} + ((n * {ih} + iy) * {iw} + ix) * {ic};");
                        body.Line($"const int ky = oy + {pt} - iy * {a.StrideH};");
                        body.Line($"const int kx = ox + {pl} - ix * {a.StrideW};");
                        body.Line($"const {filter.Type.CType()}* w = {f} + ((oc * {kh} + ky) * {kw} + kx) * {ic};");
                        body.Line($"for (int i = 0; i < {ic}; ++i) acc += {product};");
                    }

                    if (arithmetic == Arithmetic.Float)
                        body.Line($"o[oc] = {FloatClamp(b is null ? "acc" : $"acc + {b}[oc]", a.Activation)};");
                    else
                        EmitRequantize(c, body, arithmetic, b, q!, output);
                }
            }
        }
    }

    private static void EmitRequantize(EmitContext c, CodeWriter body, Arithmetic arithmetic, string? b, ConvQuantization q, Tensor output)
    {
        if (arithmetic == Arithmetic.Int8 && b is not null) body.Line($"acc = (int32_t)((uint32_t)acc + (uint32_t){b}[oc]);");
        if (arithmetic == Arithmetic.Int16Wide && b is not null) body.Line($"acc += {b}[oc];");
        var (mult, shift) = FullyConnectedKernel.Requantization(c, q.OutputMultipliers, q.OutputShifts, "oc");
        string scaled = ConvolutionKernel.EmitScale(c, body, arithmetic, b, "oc", mult, shift);
        body.Line($"int32_t y = {scaled}{Plus(q.OutputOffset)};");
        Clamp(body, "y", q.Activation);
        body.Line($"o[oc] = ({output.Type.CType()})y;");
    }
}
