using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// int8 AVERAGE_POOL_2D and MAX_POOL_2D with channels across the lanes of a register. DSP extension: four channels
/// per word, sums in two int16 pairs by SXTAB16 (bytes 0/2 and, with its free ROR #8, 1/3: one instruction per two
/// channels and tap), maxima bytewise by SSUB8 + SEL. Helium: eight channels per VLDRB.S16 + VADD.I16, sixteen per
/// VLDRB.S8 + VMAX.S8, the last channels predicated. int16 sums are exact while a window has at most 256 taps
/// (|sum| &lt;= 128 * 256); the mean is TFLite's (sum ± count / 2) / count, truncated, per channel. Windows are clipped
/// to the input as in TFLite (padding taps never count); a window that covers whole input rows is one run of taps.
/// </summary>
internal sealed class DspPoolKernel : TargetKernel
{
    private readonly PoolingKernel _portable = new();
    private readonly bool _helium;

    public DspPoolKernel(bool helium = false) => _helium = helium;

    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.AveragePool2D, OpKind.MaxPool2D };

    public override string? Unsupported(Node node) => _portable.Unsupported(node);

    public override bool Handles(Node node, TargetDescription target)
    {
        if (node.Kind is not (OpKind.AveragePool2D or OpKind.MaxPool2D) || !(_helium ? target.HasMve : target.HasDsp)) return false;
        if (_portable.Unsupported(node) is not null) return false;
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != ElementType.Int8 || output.Type != ElementType.Int8) return false;
        // The DSP kernel reads whole words of four channels; Helium predicates the last lanes.
        if (!_helium && input.Shape[3] % 4 != 0) return false;
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
        c.Support.Use(_helium ? "mtvm_mve_pool" : "mtvm_dsp");
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
                    body.Line($"const int8_t* const base = {c.Input(0)} + ((size_t)b * {g.IH} + iy0 + fy0) * {g.IW * g.C};");
                }
                else
                {
                    body.Line($"const int ix0 = ox * {g.SW} - {g.PW};");
                    body.Line("const int fx0 = ix0 < 0 ? -ix0 : 0;");
                    body.Line($"const int fx1 = {g.IW} - ix0 < {g.FW} ? {g.IW} - ix0 : {g.FW};");
                    if (average && count == "count") body.Line("const int count = (fy1 - fy0) * (fx1 - fx0);");
                    body.Line($"const int8_t* const base = {c.Input(0)} + (((size_t)b * {g.IH} + iy0 + fy0) * {g.IW} + ix0 + fx0) * {g.C};");
                }

                body.Line($"int8_t* const o = {c.Output()} + (((size_t)b * {g.OH} + oy) * {g.OW} + ox) * {g.C};");
                int step = _helium ? (average ? 8 : 16) : 4;
                using (body.Block($"for (int c = 0; c < {g.C}; c += {step})"))
                {
                    string lanes = _helium && g.C % step != 0 ? $"{g.C} - c" : step.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    string acc = (_helium, average) switch
                    {
                        (false, true) => "int32_t even = 0, odd = 0;",
                        (false, false) => "uint32_t m = 0x80808080u;",
                        (true, true) => "mtvm_i16x8 sum = mtvm_pool_zero16();",
                        _ => "mtvm_i8x16 m = mtvm_pool_min8();",
                    };
                    string tap = (_helium, average) switch
                    {
                        (false, true) => "{ const uint32_t w = mtvm_load4(p); even = mtvm_sxtab16(even, w); odd = mtvm_sxtab16_ror8(odd, w); }",
                        (false, false) => "m = mtvm_max8(m, mtvm_load4(p));",
                        (true, true) => $"sum = mtvm_pool_add16(sum, p, {lanes});",
                        _ => $"m = mtvm_pool_max8(m, p, {lanes});",
                    };
                    body.Line(acc);
                    if (g.WholeRows)
                    {
                        body.Line("const int8_t* p = base + c;");
                        body.Line($"for (int t = (fy1 - fy0) * {g.IW}; t > 0; --t, p += {g.C}) {tap}");
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

                    switch (_helium, average)
                    {
                        case (false, true):
                            body.Line($"o[c] = mtvm_pool_mean(mtvm_lo16(even), {count}, {lo}, {hi});");
                            body.Line($"o[c + 1] = mtvm_pool_mean(mtvm_lo16(odd), {count}, {lo}, {hi});");
                            body.Line($"o[c + 2] = mtvm_pool_mean(mtvm_hi16(even), {count}, {lo}, {hi});");
                            body.Line($"o[c + 3] = mtvm_pool_mean(mtvm_hi16(odd), {count}, {lo}, {hi});");
                            break;
                        case (false, false):
                            if (lo > -128) body.Line($"m = mtvm_max8(m, {CLiteral.Int(0x01010101u * (byte)(sbyte)lo)}u);");
                            if (hi < 127) body.Line($"m = mtvm_min8(m, {CLiteral.Int(0x01010101u * (byte)(sbyte)hi)}u);");
                            body.Line("memcpy(o + c, &m, 4);");
                            break;
                        case (true, true):
                            body.Line($"mtvm_pool_mean8(o + c, sum, {count}, {lo}, {hi}, {lanes});");
                            break;
                        default:
                            body.Line($"mtvm_pool_store8(o + c, m, {lo}, {hi}, {lanes});");
                            break;
                    }
                }
            }
        }
    }
}
