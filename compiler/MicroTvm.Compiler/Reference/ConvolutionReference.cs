using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED. Each computes one accumulator per output element
/// (float: a float sum in TFLite's loop order, then the bias; quantized: an integer sum of offset products plus the
/// bias) and finishes it with <see cref="Finish"/>.
/// </summary>
internal static class ConvolutionReference
{
    /// <summary>How a kernel turns an accumulator into an output element, fixed by the operand types.</summary>
    private sealed class Accumulation
    {
        public required NumericKind Kind { get; init; }
        public ConvQuantization? Quantization { get; init; }
        public FloatRange FloatRange { get; init; }
        public float[]? FloatBias { get; init; }
        public long[]? IntBias { get; init; }

        /// <summary>16x8 with a 64-bit bias accumulates in int64 and rescales with the 64-bit multiply.</summary>
        public bool Wide { get; init; }
    }

    private enum NumericKind { Float, Quantized }

    private static Accumulation Prepare(Node node, TensorValues values, int outputChannels, FusedActivation activation)
    {
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        if (input.Type == ElementType.Float32 && filter.Type == ElementType.Float32 && output.Type == ElementType.Float32
            && (bias is null || bias.Type == ElementType.Float32))
        {
            return new Accumulation
            {
                Kind = NumericKind.Float,
                FloatRange = ActivationRange.Float(activation),
                FloatBias = bias is null ? null : values.Floats(bias),
            };
        }

        bool int8 = input.Type == ElementType.Int8 && output.Type == ElementType.Int8 && (bias is null || bias.Type == ElementType.Int32);
        bool int16x8 = input.Type == ElementType.Int16 && output.Type == ElementType.Int16
            && (bias is null || Int16x8Accumulation.BiasTypes(node.Kind).Contains(bias.Type));
        if (filter.Type != ElementType.Int8 || !(int8 || int16x8))
            throw ReferenceErrors.Unsupported(node);

        bool wide = int16x8 && Int16x8Accumulation.InInt64(node);
        return new Accumulation
        {
            Kind = NumericKind.Quantized,
            Quantization = ConvQuantization.Derive(input, filter, output, outputChannels, activation),
            IntBias = bias is null ? null : values.Longs(bias),
            Wide = wide,
        };
    }

    /// <summary>Adds the bias, rescales and clamps an integer accumulator of output channel <paramref name="channel"/>.</summary>
    private static int Finish(Accumulation a, long accumulator, int channel)
    {
        var q = a.Quantization!;
        int scaled;
        if (a.Wide)
        {
            long acc = accumulator + (a.IntBias?[channel] ?? 0);
            scaled = FixedPoint.MultiplyByQuantizedMultiplier(acc, q.OutputMultipliers[channel], q.OutputShifts[channel]);
        }
        else
        {
            int acc = unchecked((int)accumulator + (int)(a.IntBias?[channel] ?? 0));
            scaled = FixedPoint.MultiplyByQuantizedMultiplier(acc, q.OutputMultipliers[channel], q.OutputShifts[channel]);
        }

        return q.Activation.Clamp(unchecked(scaled + q.OutputOffset));
    }

    private static float Finish(Accumulation a, float total, int channel) =>
        a.FloatRange.Clamp(total + (a.FloatBias?[channel] ?? 0f));

    public static void Conv2D(Node node, TensorValues values)
    {
        var p = node.AttributesAs<Conv2DAttributes>();
        var (input, filter, output) = (node.Input(0), node.Input(1), node.Output);
        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], inC = input.Shape[3];
        int outC = filter.Shape[0], kH = filter.Shape[1], kW = filter.Shape[2], filterInC = filter.Shape[3];
        int outH = output.Shape[1], outW = output.Shape[2];
        int groups = inC / filterInC;
        int filtersPerGroup = outC / groups;
        int padTop = ConvGeometry.PaddingBefore(p.Padding, inH, kH, p.StrideH, p.DilationH);
        int padLeft = ConvGeometry.PaddingBefore(p.Padding, inW, kW, p.StrideW, p.DilationW);
        var a = Prepare(node, values, outC, p.Activation);

        int InputIndex(int b, int y, int x, int c) => ((b * inH + y) * inW + x) * inC + c;
        int FilterIndex(int o, int y, int x, int c) => ((o * kH + y) * kW + x) * filterInC + c;
        int OutputIndex(int b, int y, int x, int c) => ((b * outH + y) * outW + x) * outC + c;

        if (a.Kind == NumericKind.Float)
        {
            var (inF, fF) = (values.Floats(input), values.Floats(filter));
            var outF = new float[output.ElementCount];
            for (int b = 0; b < batches; b++)
            for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
            for (int oc = 0; oc < outC; oc++)
            {
                int group = oc / filtersPerGroup;
                float total = 0f;
                for (int ky = 0; ky < kH; ky++)
                for (int kx = 0; kx < kW; kx++)
                {
                    int iy = oy * p.StrideH - padTop + ky * p.DilationH;
                    int ix = ox * p.StrideW - padLeft + kx * p.DilationW;
                    if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                    for (int ic = 0; ic < filterInC; ic++)
                        total += inF[InputIndex(b, iy, ix, group * filterInC + ic)] * fF[FilterIndex(oc, ky, kx, ic)];
                }

                outF[OutputIndex(b, oy, ox, oc)] = Finish(a, total, oc);
            }

            values.SetFloats(output, outF);
            return;
        }

        var q = a.Quantization!;
        var (inI, fI) = (values.Ints(input), values.Ints(filter));
        var outI = new int[output.ElementCount];
        for (int b = 0; b < batches; b++)
        for (int oy = 0; oy < outH; oy++)
        for (int ox = 0; ox < outW; ox++)
        for (int oc = 0; oc < outC; oc++)
        {
            int group = oc / filtersPerGroup;
            long acc = 0;
            for (int ky = 0; ky < kH; ky++)
            for (int kx = 0; kx < kW; kx++)
            {
                int iy = oy * p.StrideH - padTop + ky * p.DilationH;
                int ix = ox * p.StrideW - padLeft + kx * p.DilationW;
                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                for (int ic = 0; ic < filterInC; ic++)
                    acc += (long)(fI[FilterIndex(oc, ky, kx, ic)] + q.FilterOffset) * (inI[InputIndex(b, iy, ix, group * filterInC + ic)] + q.InputOffset);
            }

            outI[OutputIndex(b, oy, ox, oc)] = Finish(a, acc, oc);
        }

        values.SetInts(output, outI);
    }

    public static void DepthwiseConv2D(Node node, TensorValues values)
    {
        var p = node.AttributesAs<DepthwiseConv2DAttributes>();
        var (input, filter, output) = (node.Input(0), node.Input(1), node.Output);
        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], inC = input.Shape[3];
        int kH = filter.Shape[1], kW = filter.Shape[2], outC = filter.Shape[3];
        int outH = output.Shape[1], outW = output.Shape[2];
        int multiplier = outC / inC;
        int padTop = ConvGeometry.PaddingBefore(p.Padding, inH, kH, p.StrideH, p.DilationH);
        int padLeft = ConvGeometry.PaddingBefore(p.Padding, inW, kW, p.StrideW, p.DilationW);
        var a = Prepare(node, values, outC, p.Activation);

        int InputIndex(int b, int y, int x, int c) => ((b * inH + y) * inW + x) * inC + c;
        int FilterIndex(int y, int x, int c) => (y * kW + x) * outC + c;
        int OutputIndex(int b, int y, int x, int c) => ((b * outH + y) * outW + x) * outC + c;

        float[]? inF = null, fF = null, outF = null;
        int[]? inI = null, fI = null, outI = null;
        if (a.Kind == NumericKind.Float) { inF = values.Floats(input); fF = values.Floats(filter); outF = new float[output.ElementCount]; }
        else { inI = values.Ints(input); fI = values.Ints(filter); outI = new int[output.ElementCount]; }

        for (int b = 0; b < batches; b++)
        for (int oy = 0; oy < outH; oy++)
        for (int ox = 0; ox < outW; ox++)
        for (int ic = 0; ic < inC; ic++)
        for (int m = 0; m < multiplier; m++)
        {
            int oc = ic * multiplier + m;
            float total = 0f;
            long acc = 0;
            for (int ky = 0; ky < kH; ky++)
            for (int kx = 0; kx < kW; kx++)
            {
                int iy = oy * p.StrideH - padTop + ky * p.DilationH;
                int ix = ox * p.StrideW - padLeft + kx * p.DilationW;
                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                if (inF is not null)
                    total += inF[InputIndex(b, iy, ix, ic)] * fF![FilterIndex(ky, kx, oc)];
                else
                    acc += (long)(fI![FilterIndex(ky, kx, oc)] + a.Quantization!.FilterOffset) * (inI![InputIndex(b, iy, ix, ic)] + a.Quantization.InputOffset);
            }

            if (outF is not null) outF[OutputIndex(b, oy, ox, oc)] = Finish(a, total, oc);
            else outI![OutputIndex(b, oy, ox, oc)] = Finish(a, acc, oc);
        }

        if (outF is not null) values.SetFloats(output, outF);
        else values.SetInts(output, outI!);
    }

    public static void FullyConnected(Node node, TensorValues values)
    {
        var p = node.AttributesAs<FullyConnectedAttributes>();
        var (input, weights, output) = (node.Input(0), node.Input(1), node.Output);
        int units = weights.Shape[0], depth = weights.Shape[1];
        int batches = checked((int)(input.ElementCount / depth));
        var a = Prepare(node, values, units, p.Activation);

        if (a.Kind == NumericKind.Float)
        {
            var (inF, wF) = (values.Floats(input), values.Floats(weights));
            var outF = new float[output.ElementCount];
            for (int b = 0; b < batches; b++)
            for (int u = 0; u < units; u++)
            {
                float total = 0f;
                for (int d = 0; d < depth; d++) total += inF[b * depth + d] * wF[u * depth + d];
                outF[b * units + u] = Finish(a, total, u);
            }

            values.SetFloats(output, outF);
            return;
        }

        var q = a.Quantization!;
        var (inI, wI) = (values.Ints(input), values.Ints(weights));
        var outI = new int[output.ElementCount];
        for (int b = 0; b < batches; b++)
        for (int u = 0; u < units; u++)
        {
            long acc = 0;
            for (int d = 0; d < depth; d++) acc += (long)(wI[u * depth + d] + q.FilterOffset) * (inI[b * depth + d] + q.InputOffset);
            outI[b * units + u] = Finish(a, acc, u);
        }

        values.SetInts(output, outI);
    }

    /// <summary>
    /// TRANSPOSE_CONV as a scatter: every input element adds input·filter into the output window it influences
    /// (in input order, as TFLite does), then the bias, rescaling and clamp are applied per output element.
    /// </summary>
    public static void TransposeConv(Node node, TensorValues values)
    {
        var p = node.AttributesAs<TransposeConvAttributes>();
        var (input, filter, output) = (node.Input(0), node.Input(1), node.Output);
        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], inC = input.Shape[3];
        int outC = filter.Shape[0], kH = filter.Shape[1], kW = filter.Shape[2];
        int outH = output.Shape[1], outW = output.Shape[2];
        // Padding is derived from the output size, as if the output were a convolution's input.
        int padTop = ConvGeometry.PaddingBefore(p.Padding, outH, kH, p.StrideH);
        int padLeft = ConvGeometry.PaddingBefore(p.Padding, outW, kW, p.StrideW);
        var a = Prepare(node, values, outC, p.Activation);

        int InputIndex(int b, int y, int x, int c) => ((b * inH + y) * inW + x) * inC + c;
        int FilterIndex(int o, int y, int x, int c) => ((o * kH + y) * kW + x) * inC + c;
        int OutputIndex(int b, int y, int x, int c) => ((b * outH + y) * outW + x) * outC + c;

        bool isFloat = a.Kind == NumericKind.Float;
        var inF = isFloat ? values.Floats(input) : null;
        var fF = isFloat ? values.Floats(filter) : null;
        var inI = isFloat ? null : values.Ints(input);
        var fI = isFloat ? null : values.Ints(filter);
        var sumF = new float[output.ElementCount];
        var sumI = new long[output.ElementCount];

        for (int b = 0; b < batches; b++)
        for (int iy = 0; iy < inH; iy++)
        for (int ix = 0; ix < inW; ix++)
        for (int ic = 0; ic < inC; ic++)
        {
            int originY = iy * p.StrideH - padTop, originX = ix * p.StrideW - padLeft;
            for (int ky = 0; ky < kH; ky++)
            for (int kx = 0; kx < kW; kx++)
            for (int oc = 0; oc < outC; oc++)
            {
                int oy = originY + ky, ox = originX + kx;
                if (oy < 0 || oy >= outH || ox < 0 || ox >= outW) continue;
                int o = OutputIndex(b, oy, ox, oc);
                if (isFloat)
                    sumF[o] += inF![InputIndex(b, iy, ix, ic)] * fF![FilterIndex(oc, ky, kx, ic)];
                else
                    sumI[o] += (long)(inI![InputIndex(b, iy, ix, ic)] + a.Quantization!.InputOffset) * (fI![FilterIndex(oc, ky, kx, ic)] + a.Quantization.FilterOffset);
            }
        }

        if (isFloat)
        {
            var outF = new float[output.ElementCount];
            for (int i = 0; i < outF.Length; i++) outF[i] = Finish(a, sumF[i], i % outC);
            values.SetFloats(output, outF);
        }
        else
        {
            var outI = new int[output.ElementCount];
            for (int i = 0; i < outI.Length; i++) outI[i] = Finish(a, sumI[i], i % outC);
            values.SetInts(output, outI);
        }
    }
}
