using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 CONV_2D (dilation 1), DEPTHWISE_CONV_2D of a one-channel input and FULLY_CONNECTED for Helium (MVE,
/// Cortex-M55) as a matrix product: each output pixel's receptive field is gathered into an int8 column (padding
/// taps hold the input zero point; the zero-point correction is folded into the bias at compile time) and
/// VMLADAVA multiplies 16 bytes of a column with 16 bytes of a filter row into a 32-bit sum in one instruction;
/// filter rows are padded to whole words per filter row, then the column to a multiple of 16 with zero weights.
/// </summary>
internal sealed class HeliumGemmKernel : TargetKernel
{
    private readonly ConvolutionKernel _convolution = new();
    private readonly FullyConnectedKernel _fullyConnected = new();

    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.Conv2D, OpKind.DepthwiseConv2D, OpKind.FullyConnected };

    public override bool Handles(Node node, TargetDescription target)
    {
        if (!target.HasMve || node.Input(0).Type != ElementType.Int8) return false;
        if (node.Kind == OpKind.DepthwiseConv2D)
        {
            // One input channel: a depthwise convolution is an ordinary one with the multiplier as output channels.
            var d = node.AttributesAs<DepthwiseConv2DAttributes>();
            return node.Input(0).Rank == 4 && node.Input(0).Shape[3] == 1 && d.DilationH == 1 && d.DilationW == 1
                && _convolution.Unsupported(node) is null && DspGemmKernel.RequantizationFits(node, node.Output.Shape[3], d.Activation);
        }

        if (node.Kind == OpKind.Conv2D)
        {
            var a = node.AttributesAs<Conv2DAttributes>();
            return a.DilationH == 1 && a.DilationW == 1 && _convolution.Unsupported(node) is null
                && DspGemmKernel.RequantizationFits(node, node.Output.Shape[3], a.Activation);
        }

        return node.Kind == OpKind.FullyConnected && _fullyConnected.Unsupported(node) is null
            && DspGemmKernel.RequantizationFits(node, node.Input(1).Shape[0], node.AttributesAs<FullyConnectedAttributes>().Activation);
    }

    public override string? Unsupported(Node node) =>
        node.Kind == OpKind.FullyConnected ? _fullyConnected.Unsupported(node) : _convolution.Unsupported(node);

    /// <summary>The operator as a convolution over NHWC images (FULLY_CONNECTED: 1x1 images, depth channels).</summary>
    private sealed record Shape(int Batches, int InH, int InW, int InC, int OutH, int OutW, int OutC,
        int FilterH, int FilterW, int StrideH, int StrideW, int PadH, int PadW, FusedActivation Activation)
    {
        /// <summary>Bytes of one filter row (fy), padded to whole words.</summary>
        public int RowBytes => (FilterW * InC + 3) / 4 * 4;

        /// <summary>Length of a column (and of a re-laid filter row set) in int8 values.</summary>
        public int ColumnLength => FilterH * RowBytes;

        public int Pixels => Batches * OutH * OutW;

        public bool Padded => RowBytes != FilterW * InC;

        /// <summary>False when every column is one input pixel as it is (pointwise, stride 1, no padding).</summary>
        public bool Spatial => FilterH > 1 || FilterW > 1 || PadH > 0 || PadW > 0 || StrideH > 1 || StrideW > 1 || InH != OutH || InW != OutW;
    }

    private static Shape ShapeOf(Node node)
    {
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        if (node.Kind == OpKind.FullyConnected)
        {
            int depth = filter.Shape[1];
            return new Shape((int)(input.ElementCount / depth), 1, 1, depth, 1, 1, filter.Shape[0], 1, 1, 1, 1, 0, 0,
                node.AttributesAs<FullyConnectedAttributes>().Activation);
        }

        Padding padding;
        int sh, sw;
        FusedActivation activation;
        if (node.Kind == OpKind.DepthwiseConv2D)
        {
            var d = node.AttributesAs<DepthwiseConv2DAttributes>();
            (padding, sh, sw, activation) = (d.Padding, d.StrideH, d.StrideW, d.Activation);
        }
        else
        {
            var a = node.AttributesAs<Conv2DAttributes>();
            (padding, sh, sw, activation) = (a.Padding, a.StrideH, a.StrideW, a.Activation);
        }

        int fh = filter.Shape[1], fw = filter.Shape[2];
        return new Shape(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], output.Shape[1], output.Shape[2], output.Shape[3],
            fh, fw, sh, sw,
            ConvGeometry.PaddingBefore(padding, input.Shape[1], fh, sh, 1), ConvGeometry.PaddingBefore(padding, input.Shape[2], fw, sw, 1),
            activation);
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var s = ShapeOf(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        var output = node.Output;
        int zx = input.Quantization!.ZeroPoint;
        int kp = s.ColumnLength;

        // Filter re-laid out: [oc][fy][RowBytes], zero weights in the padding; bias with the zero point folded in.
        var w = Decode.Int8(filter.Data!);
        var b = bias is null ? new int[s.OutC] : Decode.Int32(bias.Data!);
        var laid = new sbyte[s.OutC * kp];
        var folded = new int[s.OutC];
        int rowValues = s.FilterW * s.InC;
        for (int oc = 0; oc < s.OutC; oc++)
        {
            long sum = 0;
            for (int fy = 0; fy < s.FilterH; fy++)
                for (int i = 0; i < rowValues; i++)
                {
                    // OHWI; a one-channel depthwise filter is [1, H, W, outputs].
                    sbyte v = node.Kind == OpKind.DepthwiseConv2D ? w[(fy * s.FilterW + i) * s.OutC + oc] : w[(oc * s.FilterH + fy) * rowValues + i];
                    laid[oc * kp + fy * s.RowBytes + i] = v;
                    sum += v;
                }

            folded[oc] = unchecked((int)(b[oc] - zx * sum));
        }

        int vkp = (kp + 15) / 16 * 16;
        var padded = new sbyte[s.OutC * vkp];
        for (int oc = 0; oc < s.OutC; oc++) Array.Copy(laid, oc * kp, padded, oc * vkp, kp);
        string wName = c.Constants.Int8($"{c.Prefix}_filter", padded,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for VMLADAVA: [{s.OutC}][{vkp}], rows of [{s.FilterH}][{s.RowBytes}] then zeros to a multiple of 16");

        const string dot = "mtvm_vdot";
        const string wType = "int8_t";
        int rowStride = vkp;
        int steps = vkp / 16;
        string bName = c.Constants.Int32($"{c.Prefix}_bias", folded, $"operator {node.Index} bias - input zero point * sum of the filter row, per output channel");
        var q = ConvQuantization.Derive(input, filter, output, s.OutC, s.Activation);
        var (mult, shift) = DspGemmKernel.Requantization(c, q);
        c.Support.Use("dsp");
        c.Support.Use("requantize");
        c.Support.Use("mve");

        // Largest |accumulator| per channel: folded bias plus 128 * sum |w| (inputs are int8, padding holds zx).
        var bound = new long[s.OutC];
        for (int oc = 0; oc < s.OutC; oc++)
            bound[oc] = Math.Abs((long)folded[oc]) + 128L * laid.Skip(oc * kp).Take(kp).Sum(v => Math.Abs((long)v));
        string function = DspGemmKernel.SmallAccumulators(bound, q) ? "mtvm_requantize_small_int8" : "mtvm_requantize_int8";
        var body = c.Body;
        string req(string acc, string oc) =>
            $"{function}({acc}, {string.Format(mult, oc)}, {string.Format(shift, oc)}, {q.OutputOffset}, {q.Activation.Min}, {q.Activation.Max})";

        body.Line($"int8_t col[{Math.Min(2, s.Pixels)}][{vkp}]; /* two output pixels' receptive fields */");
        if (vkp > kp) body.Line("memset(col, 0, sizeof col); /* zero weights face the tail */");

        bool needsRow = s.Padded || (s.Spatial && s.InC % 4 != 0);
        if (needsRow)
        {
            body.Line($"int8_t row[{s.RowBytes}];");
            if (s.Padded) body.Line($"memset(row + {s.FilterW * s.InC}, 0, {s.RowBytes - s.FilterW * s.InC}); /* zero weights face these */");
        }

        string zeroRow = s.Spatial
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        body.Line("int p, oc;");
        if (s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + (size_t)p * {s.OutC};");
                body.Line($"int8_t* o1 = o0 + {s.OutC};");
                Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
                Gather(body, s, zx, "p + 1", "col[1]", c.Input(0), zeroRow);
                using (body.Block($"for (oc = 0; oc + 1 < {s.OutC}; oc += 2, w += {2 * rowStride})"))
                {
                    body.Line("int32_t acc[4];");
                    body.Line($"acc[0] = acc[2] = {bName}[oc];");
                    body.Line($"acc[1] = acc[3] = {bName}[oc + 1];");
                    body.Line($"{dot}_2x2(col[0], col[1], w, w + {rowStride}, {steps}, acc);");
                    body.Line($"o0[oc] = {req("acc[0]", "oc")};");
                    body.Line($"o0[oc + 1] = {req("acc[1]", "oc + 1")};");
                    body.Line($"o1[oc] = {req("acc[2]", "oc")};");
                    body.Line($"o1[oc + 1] = {req("acc[3]", "oc + 1")};");
                }

                if (s.OutC % 2 == 1)
                {
                    body.Line($"oc = {s.OutC - 1};");
                    body.Line($"o0[oc] = {req($"{dot}_1x1(col[0], w, {steps}, {bName}[oc])", "oc")};");
                    body.Line($"o1[oc] = {req($"{dot}_1x1(col[1], w, {steps}, {bName}[oc])", "oc")};");
                }
            }
        }

        if (s.Pixels % 2 == 1)
        {
            using (body.Block(""))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + (size_t){s.Pixels - 1} * {s.OutC};");
                body.Line($"p = {s.Pixels - 1};");
                Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
                using (body.Block($"for (oc = 0; oc + 1 < {s.OutC}; oc += 2, w += {2 * rowStride})"))
                {
                    body.Line("int32_t acc[2];");
                    body.Line($"acc[0] = {bName}[oc];");
                    body.Line($"acc[1] = {bName}[oc + 1];");
                    body.Line($"{dot}_1x2(col[0], w, w + {rowStride}, {steps}, acc);");
                    body.Line($"o0[oc] = {req("acc[0]", "oc")};");
                    body.Line($"o0[oc + 1] = {req("acc[1]", "oc + 1")};");
                }

                if (s.OutC % 2 == 1)
                    body.Line($"o0[{s.OutC - 1}] = {req($"{dot}_1x1(col[0], w, {steps}, {bName}[{s.OutC - 1}])", $"{s.OutC - 1}")};");
            }
        }
    }

    /// <summary>Statements filling column <paramref name="column"/> with pixel <paramref name="pixel"/>'s receptive field.</summary>
    private static void Gather(CodeWriter body, Shape s, int zx, string pixel, string column, string image, string zeroRow)
    {
        int half = s.RowBytes; /* column elements per filter row */
        const string copy = "mtvm_copy8";
        if (!s.Spatial)
        {
            // Pointwise: the column is the input pixel itself.
            if (!s.Padded)
            {
                body.Line($"{copy}({image} + (size_t)({pixel}) * {s.InC}, {column}, {s.RowBytes});");
                return;
            }

            using (body.Block(""))
            {
                body.Line($"memcpy(row, {image} + (size_t)({pixel}) * {s.InC}, {s.InC});");
                body.Line($"memset(row + {s.InC}, 0, {s.RowBytes - s.InC});");
                body.Line($"{copy}(row, {column}, {s.RowBytes});");
            }

            return;
        }

        using (body.Block(""))
        {
            body.Line($"const int q = {pixel};");
            body.Line($"const int ox = q % {s.OutW}, oy = (q / {s.OutW}) % {s.OutH};");
            body.Line($"const int8_t* img = {image} + (size_t)(q / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH}, ix0 = ox * {s.StrideW} - {s.PadW};");
            body.Line("int8_t* d = " + column + ";");
            body.Line("int fy;");
            using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, d += {half})"))
            {
                body.Line("const int iy = iy0 + fy;");
                body.Line($"if (iy < 0 || iy >= {s.InH}) {{ memset(d, {zx}, {s.RowBytes}); continue; }}");
                if (!s.Padded)
                    body.Line($"if (ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW}) {{ {copy}(img + ((size_t)iy * {s.InW} + ix0) * {s.InC}, d, {s.RowBytes}); continue; }}");
                if (s.InC % 4 == 0)
                {
                    // Whole words per tap: widen each tap from the input or from a row of zero points, no copy.
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line($"{copy}((unsigned)(ix0 + {fx}) < {s.InW}u ? img + ((size_t)iy * {s.InW} + ix0 + {fx}) * {s.InC} : {zeroRow}, d + {fx * s.InC}, {s.InC});");
                }
                else if (s.FilterW * s.InC <= 64)
                {
                    // Few bytes per row: copied one by one (unrolled), then widened.
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line($"const int8_t* s{fx} = (unsigned)(ix0 + {fx}) < {s.InW}u ? img + ((size_t)iy * {s.InW} + ix0 + {fx}) * {s.InC} : {zeroRow};");
                    for (int fx = 0; fx < s.FilterW; fx++)
                        body.Line(string.Join(" ", Enumerable.Range(0, s.InC).Select(i => $"row[{fx * s.InC + i}] = s{fx}[{i}];")));
                    body.Line($"{copy}(row, d, {s.RowBytes});");
                }
                else
                {
                    body.Line("int fx;");
                    using (body.Block($"for (fx = 0; fx < {s.FilterW}; ++fx)"))
                    {
                        body.Line("const int ix = ix0 + fx;");
                        body.Line($"memcpy(row + fx * {s.InC}, (unsigned)ix < {s.InW}u ? img + ((size_t)iy * {s.InW} + ix) * {s.InC} : {zeroRow}, {s.InC});");
                    }

                    body.Line($"{copy}(row, d, {s.RowBytes});");
                }
            }
        }
    }
}
