using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 AVERAGE_POOL_2D and MAX_POOL_2D with channels across the lanes of a register (<see cref="DspPoolKernel"/>,
/// <see cref="HeliumPoolKernel"/>): the windows and loops; a subclass says how lanes are summed, maximised and stored.
/// int16 sums are exact while a window has at most 256 taps (|sum| &lt;= 128 * 256); the mean is TFLite's
/// (sum ± count / 2) / count, truncated, per channel. Windows are clipped to the input as in TFLite (padding taps
/// never count); a window that covers whole input rows is one run of taps.
/// </summary>
internal abstract class LanePoolKernel : TargetKernel
{
    private readonly PoolingKernel _portable = new();

    /// <summary>The target has the lanes' instructions.</summary>
    protected abstract bool Has(TargetDescription target);

    /// <summary>The kernel can take this many channels (DSP: whole words of four).</summary>
    protected abstract bool TakesChannels(int channels);

    /// <summary>The C helper header the kernel's code calls.</summary>
    protected abstract string Helper { get; }

    /// <summary>Channels per step of the channel loop.</summary>
    protected abstract int Step(bool average);

    /// <summary>The C expression for how many channels this step has, with <paramref name="channels"/> in all.</summary>
    protected abstract string Lanes(int channels, int step);

    /// <summary>Declares the step's accumulator.</summary>
    protected abstract string Accumulator(bool average);

    /// <summary>One tap at pointer <c>p</c> into the accumulator.</summary>
    protected abstract string Tap(bool average, string lanes);

    /// <summary>Writes the step's outputs at <c>o + c</c>, clamped to [lo, hi].</summary>
    protected abstract void Store(CodeWriter body, bool average, string count, int lo, int hi, string lanes);

    /// <summary>Taps per iteration of a window that is one run of whole rows (the loop's counter, compare and branch
    /// once per this many taps); 1 keeps the plain loop.</summary>
    protected virtual int TapsPerIteration => 1;

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    public override bool Handles(Node node, TargetDescription target)
    {
        if ((node.Kind != OpKind.AveragePool2D && node.Kind != OpKind.MaxPool2D) || !Has(target)) return false;
        if (_portable.Unsupported(node) is not null) return false;
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != ElementType.Int8 || output.Type != ElementType.Int8) return false;
        if (!TakesChannels(input.Shape[3])) return false;
        var g = Geometry.Of(node);
        return g.Counts.All(c => c >= 1) && (node.Kind == OpKind.MaxPool2D || g.Counts.Max() <= 256);
    }

    /// <summary>Sizes, padding and, per output pixel (oy, ox), how many taps its clipped window has.</summary>
    private sealed record Geometry(int N, int IH, int IW, int C, int OH, int OW, int FH, int FW, int SH, int SW, int PH, int PW, int[] Counts)
    {
        public static Geometry Of(Node node)
        {
            var a = node.AttributesAs<Pool2DAttributes>();
            var (input, output) = (node.Input(0), node.Output);
            int ih = input.Shape[1], iw = input.Shape[2], oh = output.Shape[1], ow = output.Shape[2];
            int ph = ConvGeometry.PaddingBefore(a.Padding, ih, a.FilterH, a.StrideH), pw = ConvGeometry.PaddingBefore(a.Padding, iw, a.FilterW, a.StrideW);
            int Taps(int o, int stride, int pad, int filter, int size)
            {
                int origin = o * stride - pad;
                return Math.Min(filter, size - origin) - Math.Max(0, -origin);
            }

            var counts = new int[oh * ow];
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    counts[oy * ow + ox] = Math.Max(0, Taps(oy, a.StrideH, ph, a.FilterH, ih)) * Math.Max(0, Taps(ox, a.StrideW, pw, a.FilterW, iw));
            return new Geometry(input.Shape[0], ih, iw, input.Shape[3], oh, ow, a.FilterH, a.FilterW, a.StrideH, a.StrideW, ph, pw, counts);
        }

        /// <summary>Every window spans whole input rows (no horizontal clipping), so its taps are one contiguous run.</summary>
        public bool WholeRows => FW == IW && PW == 0 && OW == 1;
    }

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var a = node.AttributesAs<Pool2DAttributes>();
        var g = Geometry.Of(node);
        bool average = node.Kind == OpKind.AveragePool2D;
        var range = ActivationRange.Quantized(a.Activation, node.Output);
        int lo = Math.Max(range.Min, -128), hi = Math.Min(range.Max, 127);
        c.Support.Use(Helper);
        if (average) c.Support.Use("mtvm_pool_mean");
        c.Support.UseMemcpy();
        var body = c.Body;
        string count = g.Counts.Distinct().Count() == 1 ? CLiteral.Int(g.Counts[0]) : "count";
        using (body.Block($"for (int b = 0; b < {g.N}; ++b)"))
        using (body.Block($"for (int oy = 0; oy < {g.OH}; ++oy)"))
        {
            body.Line($"const int iy0 = oy * {g.SH} - {g.PH};");
            body.Line("const int fy0 = iy0 < 0 ? -iy0 : 0;");
            body.Line($"const int fy1 = {g.IH} - iy0 < {g.FH} ? {g.IH} - iy0 : {g.FH};");
            using (body.Block($"for (int ox = 0; ox < {g.OW}; ++ox)"))
            {
                if (g.WholeRows)
                {
                    // One output column whose window starts at input column 0 and spans the row.
                    if (average && count == "count") body.Line($"const int count = (fy1 - fy0) * {g.IW};");
                    body.Line($"const int8_t* const base = {c.Input(0)} + (b * {g.IH} + iy0 + fy0) * {g.IW * g.C};");
                }
                else
                {
                    body.Line($"const int ix0 = ox * {g.SW} - {g.PW};");
                    body.Line("const int fx0 = ix0 < 0 ? -ix0 : 0;");
                    body.Line($"const int fx1 = {g.IW} - ix0 < {g.FW} ? {g.IW} - ix0 : {g.FW};");
                    if (average && count == "count") body.Line("const int count = (fy1 - fy0) * (fx1 - fx0);");
                    body.Line($"const int8_t* const base = {c.Input(0)} + ((b * {g.IH} + iy0 + fy0) * {g.IW} + ix0 + fx0) * {g.C};");
                }

                body.Line($"int8_t* const o = {c.Output()} + ((b * {g.OH} + oy) * {g.OW} + ox) * {g.C};");
                int step = Step(average);
                using (body.Block($"for (int c = 0; c < {g.C}; c += {step})"))
                {
                    string lanes = Lanes(g.C, step);
                    string acc = Accumulator(average);
                    string tap = Tap(average, lanes);
                    body.Line(acc);
                    if (g.WholeRows)
                    {
                        body.Line("const int8_t* p = base + c;");
                        int unroll = TapsPerIteration;
                        if (unroll > 1)
                        {
                            body.Line($"int t = (fy1 - fy0) * {g.IW};");
                            body.Line($"for (; t >= {unroll}; t -= {unroll}) {{ {string.Concat(Enumerable.Repeat($"{tap} p += {g.C}; ", unroll))}}}");
                            body.Line($"for (; t > 0; --t, p += {g.C}) {tap}");
                        }
                        else
                        {
                            body.Line($"for (int t = (fy1 - fy0) * {g.IW}; t > 0; --t, p += {g.C}) {tap}");
                        }
                    }
                    else
                    {
                        body.Line("const int8_t* row = base + c;");
                        using (body.Block($"for (int fy = fy0; fy < fy1; ++fy, row += {g.IW * g.C})"))
                        {
                            body.Line("const int8_t* p = row;");
                            body.Line($"for (int fx = fx0; fx < fx1; ++fx, p += {g.C}) {tap}");
                        }
                    }

                    Store(body, average, count, lo, hi, lanes);
                }
            }
        }
    }
}
