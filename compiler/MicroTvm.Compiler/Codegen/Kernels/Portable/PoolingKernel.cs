using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D, int8 and float32, NHWC. Padding taps do not count (as in TFLite).</summary>
internal sealed class PoolingKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var a = node.AttributesAs<Pool2DAttributes>();
        var input = node.Input(0);
        var output = node.Output;
        if (input.Rank != 4 || output.Rank != 4) return "input and output must have rank 4 (NHWC)";
        if (input.Shape[3] != output.Shape[3] || input.Shape[0] != output.Shape[0]) return "pooling keeps batch and channels";
        if (ExpectFusedActivation(a.Activation) is { } act) return act;
        if (a.StrideH < 1 || a.StrideW < 1 || a.FilterH < 1 || a.FilterW < 1) return "strides and filter size must be positive";
        if (input.Type == ElementType.Float32) return output.Type == ElementType.Float32 ? null : "float32 input needs a float32 output";
        if (input.Type is ElementType.Int8 or ElementType.Int16)
        {
            if (ExpectQuantized(input, "input", input.Type) is { } e1) return e1;
            if (ExpectQuantized(output, "output", input.Type) is { } e2) return e2;
            return null;
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8, int16, float32 are)";
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<Pool2DAttributes>();
        var input = node.Input(0);
        var output = node.Output;
        int n = input.Shape[0], ih = input.Shape[1], iw = input.Shape[2], ch = input.Shape[3];
        int oh = output.Shape[1], ow = output.Shape[2];
        int ph = ConvGeometry.PaddingBefore(a.Padding, ih, a.FilterH, a.StrideH), pw = ConvGeometry.PaddingBefore(a.Padding, iw, a.FilterW, a.StrideW);
        bool isFloat = input.Type == ElementType.Float32;
        bool isAverage = node.Kind == OpKind.AveragePool2D;
        string t = input.Type.CType();
        var body = c.Body;
        if (isFloat) c.Support.Use("mtvm_minmax");
        using (body.Block($"for (int b = 0; b < {n}; ++b)"))
        using (body.Block($"for (int oy = 0; oy < {oh}; ++oy)"))
        {
            body.Line($"const int iy0 = oy * {a.StrideH} - {ph};");
            body.Line($"const int fy0 = iy0 < 0 ? -iy0 : 0;");
            body.Line($"const int fy1 = {ih} - iy0 < {a.FilterH} ? {ih} - iy0 : {a.FilterH};");
            using (body.Block($"for (int ox = 0; ox < {ow}; ++ox)"))
            {
                body.Line($"const int ix0 = ox * {a.StrideW} - {pw};");
                body.Line($"const int fx0 = ix0 < 0 ? -ix0 : 0;");
                body.Line($"const int fx1 = {iw} - ix0 < {a.FilterW} ? {iw} - ix0 : {a.FilterW};");
                body.Line($"{t}* o = {c.Output()} + ((b * {oh} + oy) * {ow} + ox) * {ch};");
                if (isAverage) body.Line("const int count = (fy1 - fy0) * (fx1 - fx0);");
                using (body.Block($"for (int ch = 0; ch < {ch}; ++ch)"))
                {
                    string acc = isFloat ? "float" : "int32_t";
                    string init = isAverage ? (isFloat ? "0.0f" : "0") : (isFloat ? CLiteral.Float(float.MinValue) : CLiteral.Int(QuantizedRange.Of(input.Type).Min));
                    body.Line($"{acc} acc = {init};");
                    using (body.Block("for (int fy = fy0; fy < fy1; ++fy)"))
                    using (body.Block("for (int fx = fx0; fx < fx1; ++fx)"))
                    {
                        body.Line($"const {acc} x = {c.Input(0)}[((b * {ih} + iy0 + fy) * {iw} + ix0 + fx) * {ch} + ch];");
                        body.Line(isAverage ? "acc += x;" : "if (x > acc) acc = x;");
                    }

                    if (isFloat)
                    {
                        if (isAverage) body.Line("acc = acc / (float)count;");
                        body.Line($"o[ch] = {FloatClamp("acc", a.Activation)};");
                    }
                    else
                    {
                        if (isAverage)
                            body.Line("acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;");
                        Clamp(body, "acc", ActivationRange.Quantized(a.Activation, output));
                        body.Line($"o[ch] = ({t})acc;");
                    }
                }
            }
        }
    }
}
