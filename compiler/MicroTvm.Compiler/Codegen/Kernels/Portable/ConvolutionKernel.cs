using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// CONV_2D (filter OHWI) and DEPTHWISE_CONV_2D (filter 1HW(I*M)), int8 with per-channel weights and float32, NHWC.
/// Taps outside the image are skipped by clamping the filter window per output row and column (no per-tap test).
/// For int8 the input zero point's contribution, sum over valid taps of -zx * w, is folded with the bias at compile
/// time for each distinct clamped window, so the inner loop is a plain multiply-accumulate.
/// </summary>
internal sealed class ConvolutionKernel : Kernel
{
    private sealed record Geometry(
        int Batches, int InH, int InW, int InC, int OutH, int OutW, int OutC, int FilterH, int FilterW,
        int StrideH, int StrideW, int DilationH, int DilationW, int PadH, int PadW, int Multiplier, bool Depthwise,
        FusedActivation Activation);

    private static Geometry GeometryOf(Node node)
    {
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        if (node.Kind == OpKind.Conv2D)
        {
            var a = node.AttributesAs<Conv2DAttributes>();
            return Make(a.Padding, a.StrideH, a.StrideW, a.DilationH, a.DilationW, 1, false, a.Activation);
        }

        var d = node.AttributesAs<DepthwiseConv2DAttributes>();
        return Make(d.Padding, d.StrideH, d.StrideW, d.DilationH, d.DilationW, output.Shape[3] / Math.Max(1, input.Shape[3]), true, d.Activation);

        Geometry Make(Padding padding, int sh, int sw, int dh, int dw, int multiplier, bool depthwise, FusedActivation activation)
        {
            int fh = filter.Shape[1], fw = filter.Shape[2];
            return new Geometry(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3],
                output.Shape[1], output.Shape[2], output.Shape[3], fh, fw, sh, sw, dh, dw,
                ConvGeometry.PaddingBefore(padding, input.Shape[1], fh, sh, dh), ConvGeometry.PaddingBefore(padding, input.Shape[2], fw, sw, dw),
                multiplier, depthwise, activation);
        }
    }

    public override long ScratchBytes(Node node) => ChannelAccumulatorBytes(node);

    public override int ScratchAlignment(Node node) => AccumulatorBytes(node);

    /// <summary>Depthwise keeps one accumulator per channel (in scratch, when they take at most 1 KB) so the innermost
    /// loop runs over contiguous channels of one input pixel and one filter tap; 0 when the kernel does not.</summary>
    private static int ChannelAccumulatorBytes(Node node)
    {
        if (node.Kind != OpKind.DepthwiseConv2D) return 0;
        int bytes = node.Output.Shape[3] * AccumulatorBytes(node);
        return bytes <= 1024 ? bytes : 0;
    }

    /// <summary>float and int32 accumulators, or int64 for 16x8 (<see cref="Int16x8Accumulation"/>: depthwise always).</summary>
    private static int AccumulatorBytes(Node node) => node.Input(0).Type is ElementType.Float32 or ElementType.Int8 ? 4 : 8;

    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var output = node.Output;
        if (input.Rank != 4 || output.Rank != 4 || filter.Rank != 4) return "input, filter and output must have rank 4 (NHWC)";
        if (!filter.IsConstant) return "the filter must be constant";
        if (bias is not null && !bias.IsConstant) return "the bias must be constant";
        var g = GeometryOf(node);
        if (ExpectFusedActivation(g.Activation) is { } act) return act;
        if (g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1) return "strides and dilations must be positive";
        if (g.Depthwise)
        {
            if (filter.Shape[0] != 1 || filter.Shape[3] != g.OutC) return "depthwise filter must be [1, H, W, output channels]";
            if (g.OutC != g.InC * g.Multiplier) return "output channels must be input channels x depth multiplier";
        }
        else
        {
            if (filter.Shape[0] != g.OutC) return "filter must be [output channels, H, W, input channels per group]";
            int groupInC = filter.Shape[3];
            if (groupInC < 1 || g.InC % groupInC != 0 || g.OutC % (g.InC / groupInC) != 0)
                return "input channels must be a multiple of the filter's, and output channels a multiple of the groups";
        }

        if (output.Shape[0] != g.Batches) return "batch of output and input differ";
        if (input.Type == ElementType.Float32)
        {
            if (filter.Type != ElementType.Float32 || output.Type != ElementType.Float32) return "float32 input needs float32 filter and output";
            if (bias is not null && bias.Type != ElementType.Float32) return "bias must be float32";
            return null;
        }

        if (input.Type is ElementType.Int8 or ElementType.Int16)
        {
            if (ExpectQuantized(input, "input", input.Type) is { } e1) return e1;
            if (ExpectQuantized(output, "output", input.Type) is { } e2) return e2;
            if (filter.Type != ElementType.Int8 || filter.Quantization is null) return "the filter must be quantized int8";
            if (filter.Quantization.IsPerChannel && filter.Quantization.Scales.Count != g.OutC) return "per-channel filter needs one scale per output channel";
            if (filter.Quantization.ZeroPoints.Any(z => z != 0)) return "int8 filter must have zero point 0";
            if (input.Type == ElementType.Int8 && bias is not null && bias.Type != ElementType.Int32) return "bias must be int32";
            if (input.Type == ElementType.Int16)
            {
                if (input.Quantization!.ZeroPoint != 0) return "int16 input must have zero point 0";
                if (bias is not null && !Int16x8Accumulation.BiasTypes(node.Kind).Contains(bias.Type))
                    return $"bias of a 16x8 {node.Kind.Name} must be {Int16x8Accumulation.BiasTypesText(node.Kind)}";
            }

            return null;
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8, int16 with int8 filter, float32 are)";
    }

    /// <summary>How the accumulator is kept and finished, fixed by the operand types.</summary>
    internal enum Arithmetic
    {
        Float,

        /// <summary>int8: int32 accumulator starting at the folded bias, 32-bit requantization.</summary>
        Int8,

        /// <summary>16x8 accumulating in int64 (see Int16x8Accumulation.InInt64), TFLite's 64-bit requantization.</summary>
        Int16Wide,

        /// <summary>16x8 accumulating in int32 (CONV_2D/FULLY_CONNECTED without an int64 bias), 32-bit requantization.</summary>
        Int16Narrow,
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var g = GeometryOf(node);
        var input = node.Input(0);
        var filter = node.Input(1);
        var bias = node.Bias;
        var arithmetic = input.Type switch
        {
            ElementType.Float32 => Arithmetic.Float,
            ElementType.Int8 => Arithmetic.Int8,
            _ => Int16x8Accumulation.InInt64(node) ? Arithmetic.Int16Wide : Arithmetic.Int16Narrow,
        };
        var body = c.Body;
        string f = c.Constants.Tensor($"{c.Prefix}_filter", filter, $"operator {node.Index} filter {filter.Name} {Dims(filter)}");
        string t = input.Type.CType();
        string w8 = filter.Type.CType();
        int groupInC = g.Depthwise ? 1 : filter.Shape[3];
        int filtersPerGroup = g.Depthwise ? 1 : g.OutC / (g.InC / groupInC);

        string accType = arithmetic switch { Arithmetic.Float => "float", Arithmetic.Int8 => "int32_t", _ => "int64_t" };
        string init = "0";
        string? rawBias = null;
        if (arithmetic == Arithmetic.Float)
        {
            c.Support.Use("mtvm_minmax");
            init = "0.0f";
            if (bias is not null) rawBias = c.Constants.Tensor($"{c.Prefix}_bias", bias, $"operator {node.Index} bias {bias.Name}");
        }
        else if (arithmetic == Arithmetic.Int8)
        {
            init = "bias[oc]";
        }
        else if (bias is not null)
        {
            rawBias = c.Constants.Tensor($"{c.Prefix}_bias", bias, $"operator {node.Index} bias {bias.Name}");
            if (arithmetic == Arithmetic.Int16Wide) init = $"{rawBias}[oc]";
        }

        string biasRow = "";
        if (arithmetic == Arithmetic.Int8)
        {
            // Distinct clamped windows per output row / column; with a zero input offset one table row suffices.
            int inputOffset = -input.Quantization!.ZeroPoint;
            var rowWindows = Enumerable.Range(0, g.OutH).Select(oy => inputOffset == 0 ? (0, 0) : ValidTaps(oy * g.StrideH - g.PadH, g.FilterH, g.DilationH, g.InH)).ToArray();
            var colWindows = Enumerable.Range(0, g.OutW).Select(ox => inputOffset == 0 ? (0, 0) : ValidTaps(ox * g.StrideW - g.PadW, g.FilterW, g.DilationW, g.InW)).ToArray();
            var rowClasses = rowWindows.Distinct().ToList();
            var colClasses = colWindows.Distinct().ToList();
            var folded = FoldedBias(g, groupInC, filter, bias, inputOffset, rowClasses, colClasses);
            string table = c.Constants.Int32($"{c.Prefix}_bias", folded,
                $"operator {node.Index} bias + input zero point correction per output channel, for {rowClasses.Count}x{colClasses.Count} distinct clamped filter windows");
            string rowIndex = "0", colIndex = "0";
            if (rowClasses.Count > 1)
            {
                string rc = c.Constants.UInt8($"{c.Prefix}_row_window", rowWindows.Select(w => (byte)rowClasses.IndexOf(w)).ToArray(), $"operator {node.Index} window class per output row");
                rowIndex = $"{rc}[oy]";
            }

            if (colClasses.Count > 1)
            {
                string cc = c.Constants.UInt8($"{c.Prefix}_col_window", colWindows.Select(w => (byte)colClasses.IndexOf(w)).ToArray(), $"operator {node.Index} window class per output column");
                colIndex = $"{cc}[ox]";
            }

            biasRow = rowClasses.Count * colClasses.Count == 1 ? table : $"{table} + ({rowIndex} * {colClasses.Count} + {colIndex}) * {g.OutC}";
        }

        string Mul(string xi, string wi) => arithmetic switch
        {
            Arithmetic.Float => $"x[{xi}] * w[{wi}]",
            Arithmetic.Int8 => $"(int32_t)x[{xi}] * (int32_t)w[{wi}]",
            _ => $"(int64_t)((int32_t)x[{xi}] * (int32_t)w[{wi}])",
        };

        // Each channel still sums its taps in order.
        bool channelInner = ChannelAccumulatorBytes(node) > 0;
        string channel = g.Depthwise ? (g.Multiplier == 1 ? "oc" : $"oc / {g.Multiplier}")
            : filtersPerGroup == g.OutC ? "" : $"(oc / {filtersPerGroup}) * {groupInC} + ";

        using (Loop(body, "n", g.Batches))
        using (body.Block($"for (int oy = 0; oy < {g.OutH}; ++oy)"))
        {
            EmitWindow(body, "y", "oy", g.StrideH, g.PadH, g.DilationH, g.FilterH, g.InH);
            using (body.Block($"for (int ox = 0; ox < {g.OutW}; ++ox)"))
            {
                EmitWindow(body, "x", "ox", g.StrideW, g.PadW, g.DilationW, g.FilterW, g.InW);
                body.Line($"const {t}* image = {c.Input(0)}{(g.Batches > 1 ? $" + n * {g.InH * g.InW * g.InC}" : "")};");
                body.Line($"{t}* o = {c.Output()} + ({(g.Batches > 1 ? $"(n * {g.OutH} + oy)" : "oy")} * {g.OutW} + ox) * {g.OutC};");
                if (arithmetic == Arithmetic.Int8) body.Line($"const int32_t* bias = {biasRow};");
                string Row() => $"const {t}* row = image + ({Scaled("fy", g.DilationH, "iy0")}) * {g.InW * g.InC};";
                string Pixel() => $"const {t}* x = row + ({Scaled("fx", g.DilationW, "ix0")}) * {g.InC};";
                if (channelInner)
                {
                    body.Line($"{accType}* const accs = scratch;");
                    body.Line($"for (int oc = 0; oc < {g.OutC}; ++oc) accs[oc] = {init};");
                    using (body.Block("for (int fy = fy0; fy < fy1; ++fy)"))
                    {
                        body.Line(Row());
                        using (body.Block("for (int fx = fx0; fx < fx1; ++fx)"))
                        {
                            body.Line(Pixel());
                            body.Line($"const {w8}* w = {f} + (fy * {g.FilterW} + fx) * {g.OutC};");
                            body.Line($"for (int oc = 0; oc < {g.OutC}; ++oc) accs[oc] += {Mul(channel, "oc")};");
                        }
                    }
                }

                using (body.Block($"for (int oc = 0; oc < {g.OutC}; ++oc)"))
                {
                    if (channelInner)
                    {
                        body.Line($"{accType} acc = accs[oc];");
                    }
                    else
                    {
                        body.Line($"{accType} acc = {init};");
                        using (body.Block("for (int fy = fy0; fy < fy1; ++fy)"))
                        {
                            body.Line(Row());
                            using (body.Block("for (int fx = fx0; fx < fx1; ++fx)"))
                            {
                                body.Line(Pixel());
                                if (g.Depthwise)
                                {
                                    body.Line($"const {w8}* w = {f} + (fy * {g.FilterW} + fx) * {g.OutC};");
                                    body.Line($"acc += {Mul(channel, "oc")};");
                                }
                                else
                                {
                                    body.Line($"const {w8}* w = {f} + (oc * {g.FilterH} + fy) * {g.FilterW * groupInC} + fx * {groupInC};");
                                    EmitDot(body, groupInC, i => Mul(channel + i, i));
                                }
                            }
                        }
                    }

                    if (arithmetic == Arithmetic.Float)
                    {
                        if (rawBias is not null) body.Line($"acc += {rawBias}[oc];");
                        body.Line($"o[oc] = {FloatClamp("acc", g.Activation)};");
                    }
                    else
                    {
                        EmitRequantize(c, g, body, arithmetic, rawBias, "oc");
                    }
                }
            }
        }
    }

    /// <summary>A loop over <paramref name="count"/>, or just a block with the variable fixed at 0 when the count is 1.</summary>
    private static IDisposable Loop(CodeWriter body, string variable, int count)
    {
        if (count != 1) return body.Block($"for (int {variable} = 0; {variable} < {count}; ++{variable})");
        return body.Block("");
    }

    /// <summary><c>variable * factor + offset</c> without the no-op parts.</summary>
    private static string Scaled(string variable, int factor, string offset) => (factor == 1 ? variable : $"{variable} * {factor}") + $" + {offset}";

    /// <summary>The first input row/column of the window (<c>i{axis}0</c>) and the valid filter taps [f0, f1).</summary>
    internal static void EmitWindow(CodeWriter body, string axis, string output, int stride, int pad, int dilation, int filter, int size)
    {
        string origin = (stride == 1 ? output : $"{output} * {stride}") + (pad == 0 ? "" : $" - {pad}");
        body.Line($"const int i{axis}0 = {origin};");
        string Ceil(string value) => dilation == 1 ? value : $"({value} + {dilation - 1}) / {dilation}";
        body.Line(pad == 0 ? $"const int f{axis}0 = 0;" : $"const int f{axis}0 = i{axis}0 < 0 ? {Ceil($"-i{axis}0")} : 0;");
        string remaining = Ceil($"{size} - i{axis}0");
        body.Line($"const int f{axis}1 = {remaining} < {filter} ? {remaining} : {filter};");
    }

    /// <summary><c>acc += term(i)</c> for i in [0, count), unrolled by four when the count allows (same order).</summary>
    internal static void EmitDot(CodeWriter body, int count, Func<string, string> term)
    {
        if (count % 4 != 0 || count < 8)
        {
            body.Line($"for (int i = 0; i < {count}; ++i) acc += {term("i")};");
            return;
        }

        using (body.Block($"for (int i = 0; i < {count}; i += 4)"))
        {
            body.Line($"acc += {term("i")};");
            for (int k = 1; k < 4; k++) body.Line($"acc += {term($"i + {k}")};");
        }
    }

    /// <summary>Requantizes <c>acc</c> of channel <paramref name="channel"/> into <c>o[channel]</c>.</summary>
    private static void EmitRequantize(EmitContext c, Geometry g, CodeWriter body, Arithmetic arithmetic, string? rawBias, string channel)
    {
        var node = c.Node;
        var output = node.Output;
        var q = ConvQuantization.Derive(node.Input(0), node.Input(1), output, g.OutC, g.Activation);
        var (mult, shift) = FullyConnectedKernel.Requantization(c, q.OutputMultipliers, q.OutputShifts, channel);
        string result = EmitScale(c, body, arithmetic, rawBias, channel, mult, shift);
        body.Line($"int32_t y = {result}{Plus(q.OutputOffset)};");
        Clamp(body, "y", q.Activation);
        body.Line($"o[{channel}] = ({output.Type.CType()})y;");
    }

    /// <summary>The C expression of the scaled accumulator (before the output offset).</summary>
    internal static string EmitScale(EmitContext c, CodeWriter body, Arithmetic arithmetic, string? rawBias, string channel, string mult, string shift)
    {
        switch (arithmetic)
        {
            case Arithmetic.Int8:
                c.Support.Use("mtvm_fixed_point");
                return $"mtvm_mbqm(acc, {mult}, {shift})";
            case Arithmetic.Int16Wide:
                c.Support.Use("mtvm_fixed_point");
                return $"mtvm_mbqm64(acc, {mult}, {shift})";
            default:
                c.Support.Use("mtvm_fixed_point");
                // The 64-bit sum wrapped to 32 bits, plus the bias, as TFLite's int32 accumulator.
                body.Line(rawBias is null
                    ? "const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc;"
                    : $"const int32_t acc32 = (int32_t)((uint32_t)(uint64_t)acc + (uint32_t){rawBias}[{channel}]);");
                return $"mtvm_mbqm(acc32, {mult}, {shift})";
        }
    }

    /// <summary>bias[oc] + inputOffset * (sum of the filter taps of channel oc inside the window), for every
    /// (row window, column window, oc), row-major.</summary>
    private static int[] FoldedBias(Geometry g, int groupInC, Tensor filter, Tensor? bias, int inputOffset,
        List<(int First, int End)> rows, List<(int First, int End)> cols)
    {
        var w = Decode.Int8(filter.Data!);
        var b = bias is { } t ? Decode.Int32(t.Data!) : new int[g.OutC];
        var table = new int[rows.Count * cols.Count * g.OutC];
        for (int r = 0; r < rows.Count; r++)
            for (int k = 0; k < cols.Count; k++)
                for (int oc = 0; oc < g.OutC; oc++)
                {
                    long sum = 0;
                    for (int fy = rows[r].First; fy < rows[r].End; fy++)
                        for (int fx = cols[k].First; fx < cols[k].End; fx++)
                        {
                            if (g.Depthwise) sum += w[(fy * g.FilterW + fx) * g.OutC + oc];
                            else
                                for (int i = 0; i < groupInC; i++) sum += w[((oc * g.FilterH + fy) * g.FilterW + fx) * groupInC + i];
                        }

                    table[(r * cols.Count + k) * g.OutC + oc] = ConvQuantization.FoldInputZeroPoint(b[oc], -inputOffset, sum);
                }

        return table;
    }
}
