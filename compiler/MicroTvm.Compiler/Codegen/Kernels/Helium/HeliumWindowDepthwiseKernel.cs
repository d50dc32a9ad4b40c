using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 DEPTHWISE_CONV_2D for Helium (depth multiplier 1, stride 1) where a whole filter window fits 16 bytes of a
/// plane: one output is one VMLADAV.S8 (16 byte products summed into a core register) of a 16-byte load of the window
/// and a weight vector that holds the filter at the window's byte positions and zeros elsewhere (KWS's 3x3 over 5
/// columns: 9 MACs per instruction, against 4 for <see cref="HeliumPlaneDepthwiseKernel"/>'s VMLA.S32).
/// Per input channel the input is copied into a plane of rows S bytes apart (the image's width plus one gap of the
/// input zero point that is the right padding of a row and the left padding of the next; padding rows above and
/// below), so every window is whole and the zero point's contribution folds into the bias at compile time; 8
/// consecutive pixels of the channel take one VLDRB.U16 gather and one store (a VSTRB.16 scatter where they cross a
/// row). Where the window plus one byte fits 16 bytes, one load serves two neighbouring outputs of a row, the second
/// with the weight vector moved up one lane (VSHLC). Four outputs go into one vector by two VMOVs from core register
/// pairs, the bias is added, and two vectors (8 consecutive output pixels) are requantized together and scattered by
/// mtvm_dw_requantize_pair; a last group of fewer than 8 pixels moves back to overlap the group before it.
/// It takes the plane kernel's layers whose window fits (kws_dscnn's four 3x3 layers on 25x5x64).
/// </summary>
internal sealed class HeliumWindowDepthwiseKernel : TargetKernel
{
    private const int WindowBytes = 16;

    /// <summary>The most groups of 8 outputs (or chunks of 8 pixels) a loop body repeats before the pattern of row
    /// crossings repeats (lcm(width, 8) / 8): bounds the unrolled code.</summary>
    private const int MaxPeriodGroups = 8;

    private static readonly HeliumPlaneDepthwiseKernel Plane = new();

    public override bool Handles(Node node, TargetDescription target) =>
        Plane.Handles(node, target) && TargetEligibility.Depthwise(node) is { DepthMultiplier: 1, StrideH: 1, StrideW: 1 }
        && Geometry.Of(node) is { Span: <= WindowBytes } g
        && g.Oh * g.Ow >= 8 && 7L * g.Channels <= ushort.MaxValue
        && Period(g.Iw) / 8 <= MaxPeriodGroups && Period(g.Ow) / 8 <= MaxPeriodGroups;

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    public override long ScratchBytes(Node node) => Geometry.Of(node).PlaneBytes;

    /// <summary>Output channel ch is written only after input channel ch has been copied into the plane, and no later
    /// channel reads it: the output may take the input's bytes.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) => inputIndex == 0 && node.Input(0).Shape.SequenceEqual(node.Output.Shape);

    /// <summary>Pixels (of a row <paramref name="width"/> wide) after which the row crossings of consecutive groups of
    /// 8 repeat.</summary>
    private static int Period(int width) => width / Gcd(width, 8) * 8;

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>The plane: rows <see cref="S"/> bytes apart, input pixel (y, x) at (y + PadT) * S + PadL + x, the
    /// window of output (oy, ox) starting at oy * S + ox.</summary>
    private sealed record Geometry(int Ih, int Iw, int Channels, int Oh, int Ow, int Fh, int Fw, int PadT, int PadL, int S)
    {
        public int Span => (Fh - 1) * S + Fw;

        /// <summary>Two neighbouring outputs of a row from one load.</summary>
        public bool Shared => Span + 1 <= WindowBytes;

        public int PlaneBytes => Math.Max((Oh - 1) * S + Ow - 1 + WindowBytes, Index(Ih - 1, Iw - 1) + 1);

        public int Index(int y, int x) => (y + PadT) * S + PadL + x;

        public static Geometry Of(Node node)
        {
            var a = node.AttributesAs<DepthwiseConv2DAttributes>();
            var input = node.Input(0);
            var filter = node.Input(1);
            int ih = input.Shape[1], iw = input.Shape[2], oh = node.Output.Shape[1], ow = node.Output.Shape[2];
            int fh = filter.Shape[1], fw = filter.Shape[2];
            int ph = ConvGeometry.PaddingBefore(a.Padding, ih, fh, a.StrideH, 1), pw = ConvGeometry.PaddingBefore(a.Padding, iw, fw, a.StrideW, 1);
            // One gap between rows: the right padding of one and the left padding of the next.
            int padRight = Math.Max(0, ow - 1 + fw - pw - iw);
            return new Geometry(ih, iw, input.Shape[3], oh, ow, fh, fw, ph, pw, iw + Math.Max(pw, padRight));
        }
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        var filter = node.Input(1);
        var g = Geometry.Of(node);
        int batches = input.Shape[0], ch = g.Channels, fw = g.Fw;
        int zx = input.Quantization!.ZeroPoint;

        // Weight vectors [channel][16]: tap (i, j) at byte i * S + j of the window, zeros elsewhere; bias minus the
        // zero point times the sum of the taps (the plane's padding holds the zero point).
        var w = Decode.Int8(filter.Data!);
        var b = Int32Bias(node, ch);
        var laid = new sbyte[ch * WindowBytes];
        var folded = new int[ch];
        for (int oc = 0; oc < ch; oc++)
        {
            long sum = 0;
            for (int i = 0; i < g.Fh; i++)
                for (int j = 0; j < fw; j++)
                {
                    sbyte tap = w[(i * fw + j) * ch + oc];
                    laid[oc * WindowBytes + i * g.S + j] = tap;
                    sum += tap;
                }

            folded[oc] = ConvQuantization.FoldInputZeroPoint(b[oc], zx, sum);
        }

        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid, $"operator {node.Index} filter {filter.Name} {Dims(filter)} as one window of 16 bytes per channel (rows {g.S} bytes apart)");
        string biasName = c.Constants.Int32($"{c.Prefix}_bias", folded, $"operator {node.Index} bias - input zero point * sum of the taps, per channel");
        var (multiplier, left, neg, quantization, _) = HeliumPlaneDepthwiseKernel.Requantization(c, ch);

        // Copy chunks of 8 pixels: where they cross a row, scatter offsets per starting column (one table row each).
        int pixels = g.Ih * g.Iw, copyPeriod = Period(g.Iw);
        var crossing = Starts(pixels, copyPeriod).Select(p0 => p0 % g.Iw).Distinct().Where(x0 => g.S != g.Iw && x0 + 8 > g.Iw).Order().ToList();
        string? scatter = crossing.Count == 0 ? null : c.Constants.UInt16($"{c.Prefix}_scatter",
            crossing.SelectMany(x0 => Enumerable.Range(0, 8).Select(i => (ushort)(i + (g.S - g.Iw) * ((x0 + i) / g.Iw)))).ToArray(),
            $"operator {node.Index} plane offsets of 8 consecutive pixels from columns {string.Join(", ", crossing)}");

        c.Support.Use("mtvm_mve_dw");
        c.Support.UseMemcpy();
        var body = c.Body;
        int inBatch = pixels * ch, outBatch = g.Oh * g.Ow * ch;
        body.Line($"int8_t* const plane = (int8_t*)scratch; /* rows {g.S} bytes apart: one input channel, padded with its zero point */");
        body.Line($"const mtvm_dw_offsets16 go = mtvm_dw_offsets16_of({ch}u);");
        body.Line($"const mtvm_dw_offsets16 sp = mtvm_dw_offsets_pair({ch}u, {4 * ch}u);");
        body.Line("int n, ch, k;");
        body.Line("(void)k;");
        body.Line($"memset(plane, {zx}, {g.PlaneBytes});");
        using (body.Block($"for (n = 0; n < {batches}; ++n)"))
        using (body.Block($"for (ch = 0; ch < {ch}; ++ch)"))
        {
            body.Line($"const int8_t* const src = {c.Input(0)} + n * {inBatch} + ch;");
            void Chunk(int p0, string from, string plane)
            {
                int row = crossing.IndexOf(p0 % g.Iw);
                string to = $"{plane} + {g.Index(p0 / g.Iw, p0 % g.Iw)}", at = $"{from} + {p0 * ch}";
                body.Line(row < 0 ? $"mtvm_dw_gather8({to}, {at}, go);" : $"mtvm_dw_gather_scatter8({to}, {at}, go, {scatter} + {row * 8});");
            }

            Repeat(body, pixels, copyPeriod, loop =>
            {
                if (loop)
                {
                    body.Line($"const int8_t* const s = src + k * {copyPeriod * ch};");
                    body.Line($"int8_t* const t = plane + k * {copyPeriod / g.Iw * g.S};");
                }

                return p0 => Chunk(p0, loop ? "s" : "src", loop ? "t" : "plane");
            });

            body.Line($"const mtvm_i8x16 w0 = mtvm_dw_ld16({wName} + ch * {WindowBytes});");
            if (g.Shared) body.Line("const mtvm_i8x16 w1 = mtvm_dw_next_window(w0);");
            body.Line("const int oc = ch;");
            body.Line($"const int32_t bias = {biasName}[oc], qm = {multiplier}, ql = {left}, qn = {neg};");
            body.Line("(void)ql; (void)qn;");
            body.Line($"int8_t* const out = {c.Output()} + n * {outBatch} + ch;");
            int outputs = g.Oh * g.Ow, outPeriod = Period(g.Ow);
            Repeat(body, outputs, outPeriod, loop =>
            {
                if (loop)
                {
                    body.Line($"const int8_t* const q = plane + k * {outPeriod / g.Ow * g.S};");
                    body.Line($"int8_t* const r = out + k * {outPeriod * ch};");
                }

                return p0 => Group(body, g, p0, loop ? "q" : "plane", loop ? "r" : "out", quantization);
            });
        }
    }

    /// <summary>Chunks of 8 of <paramref name="count"/> items: a loop over whole periods (k) whose body emits each chunk
    /// of one period at its offset, then the rest after them, the last chunk moved back to end at the last item.</summary>
    private static void Repeat(CodeWriter body, int count, int period, Func<bool, Action<int>> emitter)
    {
        var (looped, rest) = Chunks(count, period);
        if (looped.Count > 0)
            using (body.Block($"for (k = 0; k < {count / period}; ++k)"))
                looped.ForEach(emitter(true));
        rest.ForEach(emitter(false));
    }

    /// <summary>The chunk starts of <see cref="Repeat"/>: relative to the period in the loop's body, absolute after it.</summary>
    private static (List<int> Looped, List<int> After) Chunks(int count, int period)
    {
        bool loop = count / period > 1;
        int first = loop ? count / period * period : 0;
        var looped = loop ? Enumerable.Range(0, period / 8).Select(i => 8 * i).ToList() : [];
        var rest = Enumerable.Range(0, (count - first + 7) / 8).Select(i => Math.Min(first + 8 * i, count - 8)).ToList();
        return (looped, rest);
    }

    private static IEnumerable<int> Starts(int count, int period) => Chunks(count, period) is var (looped, after) ? looped.Concat(after) : [];

    /// <summary>Outputs p0 .. p0 + 7 (raster order; <paramref name="plane"/> and <paramref name="output"/> at pixel 0 of
    /// the loop's period): one load per window, or per two neighbouring windows of a row.</summary>
    private static void Group(CodeWriter body, Geometry g, int p0, string plane, string output, string quantization)
    {
        using (body.Block(""))
        {
            int loads = 0, loadY = -1, loadX = -1;
            for (int i = 0; i < 8; i++)
            {
                int oy = (p0 + i) / g.Ow, ox = (p0 + i) % g.Ow;
                if (g.Shared && oy == loadY && ox == loadX + 1)
                {
                    body.Line($"const int32_t s{i} = mtvm_dw_dot16(x{loads - 1}, w1);");
                    loadY = -1;
                    continue;
                }

                body.Line($"const mtvm_i8x16 x{loads} = mtvm_dw_ld16({plane} + {oy * g.S + ox});");
                body.Line($"const int32_t s{i} = mtvm_dw_dot16(x{loads}, w0);");
                (loads, loadY, loadX) = (loads + 1, oy, ox);
            }

            body.Line($"mtvm_dw_requantize_pair({output} + {p0 * g.Channels}, sp, mtvm_dw_lanes4(s0, s1, s2, s3, bias), mtvm_dw_lanes4(s4, s5, s6, s7, bias), {quantization}, 4);");
        }
    }
}
