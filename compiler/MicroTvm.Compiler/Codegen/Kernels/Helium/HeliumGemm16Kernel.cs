using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// 16x8 CONV_2D (any dilation, no groups) and FULLY_CONNECTED (int16 activations with zero point 0, int8 weights) for
/// Helium (MVE, Cortex-M55) as a matrix product by blocks of 4 output channels: VMLADAVA.S16 multiplies 8 int16 values
/// of a pixel's column with 8 widened filter bytes into a sum in one instruction (mtvm_mve_conv16.h). The sums follow
/// <see cref="Int16x8Accumulation"/> (see <see cref="Sums"/>): int32 sums (wrapping as TFLite's accumulator, started
/// at the int32 bias) requantized 4 channels at a time as vectors (<see cref="HeliumRequantization"/>); int64 sums kept
/// in int32 where bias plus sum provably fit, with the 64-bit requantization as one VQRDMULH per 4 channels where the
/// shifts allow, else per channel; VMLALDAVA.S16 into 64-bit sums where a sum may leave int32. One pixel at a time:
/// VMLADAVA's accumulators must be even registers, and two pixels' 8 sums spill (2.3 MACs per instruction against
/// 2.9). Columns are the input pixel in place (FULLY_CONNECTED; pointwise stride-1 convolutions), else gathered (the
/// int16 zero point is 0: padding taps are zeros; a dilated filter's taps gathered the dilation apart).
/// </summary>
internal sealed class HeliumGemm16Kernel : TargetKernel
{
    public override bool Handles(Node node, TargetDescription target) => target.HasMve && Takes(node);

    public override string? Unsupported(Node node) => TargetEligibility.Unsupported(node);

    /// <summary>16x8 CONV_2D without groups and FULLY_CONNECTED that the portable kernel supports; with
    /// 32-bit arithmetic only where the vector requantization takes the shifts.</summary>
    internal static bool Takes(Node node)
    {
        if (node.Input(0).Type != ElementType.Int16 || node.Output.Type != ElementType.Int16 || node.Input(1).Type != ElementType.Int8) return false;
        if (TargetEligibility.Unsupported(node) is not null) return false;
        FusedActivation activation;
        switch (node.Attributes)
        {
            case Conv2DAttributes a when node.Input(1).Shape[3] == node.Input(0).Shape[3]:
                activation = a.Activation;
                break;
            case FullyConnectedAttributes f:
                activation = f.Activation;
                break;
            default:
                return false;
        }

        return Int16x8Accumulation.InInt64(node) || TargetEligibility.RequantizationFits(node, node.Input(1).Shape[0], activation);
    }

    /// <summary>How the sums are kept and requantized.</summary>
    private enum Sums
    {
        /// <summary>int32 bias or none: int32 sums from the bias (wrapping), 32-bit requantization as vectors.</summary>
        Narrow,

        /// <summary>int64 bias, but bias plus sum provably within int32 for every channel and every shift in [-16, 0]:
        /// int32 sums from the bias, and TFLite's 64-bit requantization (x * m16 + 2^(t-1)) >> t (m16 the multiplier
        /// rounded to 16 bits, t = 15 - shift) as one VQRDMULH by m16 * 2^(16 + shift), which is exact: its
        /// (x * m16 * 2^(32 - t) + 2^31) >> 32 is the same quotient.</summary>
        WideVector,

        /// <summary>int64 bias otherwise: sums in 32 bits where they fit, the 64-bit requantization per channel.</summary>
        WideIn32,

        /// <summary>int64 bias and sums that may leave int32: 64-bit sums (VMLALDAVA.S16).</summary>
        Wide,
    }

    private static Sums SumsOf(Node node, ConvQuantization q)
    {
        if (!Int16x8Accumulation.InInt64(node)) return Sums.Narrow;
        var w = Decode.Int8(node.Input(1).Data!);
        var bias = Decode.Int64(node.Bias!.Data!);
        int k = w.Length / bias.Length;
        var sums = Enumerable.Range(0, bias.Length).Select(oc => Enumerable.Range(oc * k, k).Sum(i => (long)Math.Abs((int)w[i]))).ToArray();
        if (WithinInt32(bias, sums) && VectorMultipliers(q) is not null) return Sums.WideVector;
        return sums.All(v => v * 32768 <= int.MaxValue) ? Sums.WideIn32 : Sums.Wide;
    }

    /// <summary>Whether bias + sum stays within int32 for every channel and every int16 input: |bias| plus 32768 times
    /// the channel's sum of |w| (<paramref name="absWeightSums"/>) at most INT32_MAX.</summary>
    internal static bool WithinInt32(long[] bias, long[] absWeightSums) =>
        bias.Zip(absWeightSums).All(p => p.First is > int.MinValue and <= int.MaxValue && Math.Abs(p.First) + p.Second * 32768 <= int.MaxValue);

    /// <summary>TFLite's 64-bit requantization (x * m16 + 2^(t-1)) >> t per channel as VQRDMULH multipliers
    /// m16 * 2^(16 + shift), or null when a shift is outside [-16, 0] (see <see cref="Sums.WideVector"/>).</summary>
    internal static int[]? VectorMultipliers(ConvQuantization q)
    {
        if (q.OutputShifts.Any(v => v is < -16 or > 0)) return null;
        return q.OutputMultipliers.Select((m, i) => (m < 0x7FFF0000 ? (int)(((long)m + (1 << 15)) >> 16) : 0x7FFF) << (16 + q.OutputShifts[i])).ToArray();
    }

    /// <summary><paramref name="q"/> with the multipliers of <see cref="VectorMultipliers"/> and no shifts: what
    /// <see cref="HeliumRequantization"/> computes as one VQRDMULH.</summary>
    internal static ConvQuantization AsVectorRequantization(ConvQuantization q) =>
        q with { OutputMultipliers = VectorMultipliers(q)!, OutputShifts = new int[q.OutputShifts.Length] };

    /// <summary>The layer's <see cref="GemmShape"/> with the padding of its dilated filter, and the dilation (1 for
    /// FULLY_CONNECTED).</summary>
    private static (GemmShape Shape, int DilationH, int DilationW) ShapeOf(Node node)
    {
        var s = GemmShape.Of(node);
        if (node.Attributes is not Conv2DAttributes a) return (s, 1, 1);
        return (s with
        {
            PadH = ConvGeometry.PaddingBefore(a.Padding, s.InH, s.FilterH, a.StrideH, a.DilationH),
            PadW = ConvGeometry.PaddingBefore(a.Padding, s.InW, s.FilterW, a.StrideW, a.DilationW),
        }, a.DilationH, a.DilationW);
    }

    public override long ScratchBytes(Node node)
    {
        var s = ShapeOf(node).Shape;
        return Gathers(node, s) ? 2L * s.FilterH * s.FilterW * s.InC : 0;
    }

    public override int ScratchAlignment(Node node) => 2;

    private static bool Gathers(Node node, GemmShape s) => s.Spatial && node.Kind == OpKind.Conv2D;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var (s, dilationH, dilationW) = ShapeOf(node);
        var filter = node.Input(1);
        int k = s.FilterH * s.FilterW * s.InC, steps = (k + 7) / 8, blocks = (s.OutC + 3) / 4;
        var q = ConvQuantization.Derive(node.Input(0), filter, node.Output, s.OutC, s.Activation);
        var sums = SumsOf(node, q);
        bool gathers = Gathers(node, s);

        // Filter [oc][k] (OHWI or [units, depth]) re-laid [block][step][4 rows][8], zeros past k and past OutC.
        var w = Decode.Int8(filter.Data!);
        var laid = new sbyte[blocks * steps * 32];
        for (int oc = 0; oc < s.OutC; oc++)
            for (int i = 0; i < k; i++)
                laid[((oc / 4) * steps + i / 8) * 32 + (oc % 4) * 8 + i % 8] = w[oc * k + i];
        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for VMLADAVA.S16: [{blocks} blocks of 4 channels][{steps} steps][4][8], zero weights past {k} values and past {s.OutC} channels");
        c.Support.Use("mtvm_mve_conv16");
        var body = c.Body;

        string? bias32 = null, bias64 = null, multipliers = null, shifts = null;
        HeliumRequantization? requantize = null;
        if (sums is Sums.Narrow or Sums.WideVector)
        {
            var start = sums == Sums.WideVector ? Decode.Int64(node.Bias!.Data!).Select(v => (int)v).ToArray()
                : node.Bias is { } b ? Decode.Int32(b.Data!) : null;
            if (start is not null)
                bias32 = c.Constants.Int32($"{c.Prefix}_bias", start.Concat(new int[blocks * 4 - s.OutC]).ToArray(),
                    $"operator {node.Index} bias {node.Bias!.Name}{(sums == Sums.WideVector ? " (int64, every value within int32)" : "")}, zeros past {s.OutC}");
            var vq = sums == Sums.Narrow ? q : AsVectorRequantization(q);
            requantize = HeliumRequantization.Declare(c, vq, blocks * 4);
            requantize.DeclareLocals(body);
        }
        else
        {
            bias64 = c.Constants.Int64($"{c.Prefix}_bias", Decode.Int64(node.Bias!.Data!), $"operator {node.Index} bias {node.Bias.Name}");
            c.Support.Use("mtvm_fixed_point");
            multipliers = c.Constants.Int32($"{c.Prefix}_multiplier", q.OutputMultipliers, $"operator {node.Index} requantization multiplier per channel");
            shifts = c.Constants.Int8($"{c.Prefix}_shift", q.OutputShifts.Select(v => (sbyte)v).ToArray(), $"operator {node.Index} requantization shift per channel");
        }

        if (gathers)
        {
            c.Support.UseMemcpy();
            body.Line("int16_t* const col = scratch; /* the receptive field gathered (zeros for padding taps) */");
        }

        body.Line("int p, blk;");
        using (body.Block($"for (p = 0; p < {s.Pixels}; ++p)"))
        {
            if (gathers) Gather(body, s, dilationH, dilationW, "p", "col", c.Input(0));
            body.Line(gathers ? "const int16_t* const x = col;" : $"const int16_t* const x = {c.Input(0)} + p * {k};");
            body.Line($"int16_t* const o = {c.Output()} + p * {s.OutC};");
            body.Line($"const int8_t* w = {wName};");
            using (body.Block($"for (blk = 0; blk < {blocks}; ++blk, w += {steps * 32})"))
                Block();
        }

        // One block of 4 channels of pixel p: the sums, then requantized and stored.
        void Block()
        {
            string lanes = s.OutC % 4 == 0 ? "4" : $"blk + 1 < {blocks} ? 4 : {s.OutC % 4}";
            if (requantize is not null)
            {
                body.Line(bias32 is null ? "int32_t acc[4] = { 0, 0, 0, 0 };"
                    : $"int32_t acc[4] = {{ {bias32}[4 * blk], {bias32}[4 * blk + 1], {bias32}[4 * blk + 2], {bias32}[4 * blk + 3] }};");
                body.Line($"mtvm_c16_dot1(x, w, {k}, acc);");
                requantize.Load(body, "4 * blk");
                body.Line($"mtvm_c16_st_s16(o + 4 * blk, {requantize.Clamp("mtvm_v_make(acc[0], acc[1], acc[2], acc[3])", "qm", "ql", "qn")}, {lanes});");
                return;
            }

            body.Line(sums == Sums.Wide ? "int64_t acc[4] = { 0, 0, 0, 0 };" : "int32_t acc[4] = { 0, 0, 0, 0 };");
            body.Line(sums == Sums.Wide ? $"mtvm_c16_dot1_64(x, w, {k}, acc);" : $"mtvm_c16_dot1(x, w, {k}, acc);");
            body.Line("int r;");
            using (body.Block($"for (r = 0; r < ({lanes}); ++r)"))
            {
                body.Line("const int oc = 4 * blk + r;");
                body.Line($"int32_t y = mtvm_mbqm64({bias64}[oc] + acc[r], {multipliers}[oc], {shifts}[oc]){Plus(q.OutputOffset)};");
                Clamp(body, "y", q.Activation);
                body.Line("o[oc] = (int16_t)y;");
            }
        }
    }

    /// <summary>Statements filling <paramref name="column"/> with the receptive field of output pixel <paramref name="pixel"/>
    /// (taps <paramref name="dilationH"/> rows and <paramref name="dilationW"/> columns apart): per filter row, its values
    /// as they lie where the row is inside the image and its taps adjacent, else tap by tap (zeros outside).</summary>
    private static void Gather(CodeWriter body, GemmShape s, int dilationH, int dilationW, string pixel, string column, string image)
    {
        int rowValues = s.FilterW * s.InC;
        using (body.Block(""))
        {
            body.Line($"const int q = {pixel};");
            body.Line($"const int ox = q % {s.OutW}, oy = (q / {s.OutW}) % {s.OutH};");
            body.Line($"const int16_t* const img = {image} + (q / {s.OutW * s.OutH}) * {s.InH * s.InW * s.InC};");
            body.Line($"const int iy0 = oy * {s.StrideH} - {s.PadH}, ix0 = ox * {s.StrideW} - {s.PadW};");
            body.Line($"int16_t* d = {column};");
            body.Line("int fy, fx;");
            using (body.Block($"for (fy = 0; fy < {s.FilterH}; ++fy, d += {rowValues})"))
            {
                body.Line(dilationH == 1 ? "const int iy = iy0 + fy;" : $"const int iy = iy0 + fy * {dilationH};");
                body.Line($"if (iy < 0 || iy >= {s.InH}) {{ memset(d, 0, {2 * rowValues}); continue; }}");
                if (dilationW == 1)
                    body.Line($"if (ix0 >= 0 && ix0 + {s.FilterW} <= {s.InW}) {{ memcpy(d, img + (iy * {s.InW} + ix0) * {s.InC}, {2 * rowValues}); continue; }}");
                string ix = dilationW == 1 ? "ix0 + fx" : $"ix0 + fx * {dilationW}";
                body.Line($"for (fx = 0; fx < {s.FilterW}; ++fx)");
                body.Line($"    if ((unsigned)({ix}) < {s.InW}u) memcpy(d + fx * {s.InC}, img + (iy * {s.InW} + {ix}) * {s.InC}, {2 * s.InC}); else memset(d + fx * {s.InC}, 0, {2 * s.InC});");
            }
        }
    }
}
