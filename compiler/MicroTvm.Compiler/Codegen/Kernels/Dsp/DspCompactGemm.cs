using MicroTvm.Compiler.Ir;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// The CONV_2D matrix product of <see cref="DspGemmKernel"/> with int8 filters (<c>layout=int8</c>, the compact
/// weight layout: half the widened layout's flash). Filter rows as <see cref="DspGemmKernel"/> re-lays them out
/// ([oc][fy][RowBytes], or packed), kept int8: each weight word is unpacked by SXTB16 (plain and ROR #8) in the inner
/// loop, two pixels' columns by two rows at a time.
/// </summary>
internal static class DspCompactGemm
{
    /// <param name="laid">The re-laid filter, [OutC][column length] int8.</param>
    /// <param name="folded">Per channel: the bias minus the input zero point times the sum of the filter row.</param>
    /// <param name="req">The requantization of an accumulator variable for a channel expression.</param>
    public static void Emit(EmitContext c, GemmShape s, int zx, sbyte[] laid, int[] folded, Func<string, string, string> req)
    {
        var node = c.Node;
        var filter = node.Input(1);
        int kp = DspGemmKernel.ColumnLength(s), words = kp / 2;
        string wName = c.Constants.Int8($"{c.Prefix}_filter", laid,
            $"operator {node.Index} filter {filter.Name} {Dims(filter)} re-laid out for SMLAD: [{s.OutC}][{s.FilterH}][{s.RowBytes}], rows zero-padded to whole words");
        string bName = c.Constants.Int32($"{c.Prefix}_bias", folded,
            $"operator {node.Index} bias - input zero point * sum of the filter row, per output channel");
        const string dot = "mtvm_dot", wType = "int8_t";
        int rowStride = kp, steps = kp / 4;
        var body = c.Body;

        DspGemmKernel.DeclareScratch(c, s, s.Pixels >= 2
            ? $"int32_t (*const col)[{words}] = scratch; /* two output pixels' receptive fields as int16 pairs */"
            : $"int32_t (*const col)[{words}] = scratch; /* the output pixel's receptive field as int16 pairs */");

        string zeroRow = s.Spatial
            ? c.Constants.Int8($"{c.Prefix}_zero_row", Enumerable.Repeat((sbyte)zx, s.InC).ToArray(), $"operator {node.Index} one pixel of input zero points, the value of padding taps")
            : "NULL";
        body.Line("int p, oc;");
        if (s.Pixels >= 2)
        {
            using (body.Block($"for (p = 0; p + 1 < {s.Pixels}; p += 2)"))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + p * {s.OutC};");
                body.Line($"int8_t* o1 = o0 + {s.OutC};");
                DspGemmKernel.Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
                DspGemmKernel.Gather(body, s, zx, "p + 1", "col[1]", c.Input(0), zeroRow);
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
                    body.Line($"{{ const int32_t a0 = {dot}_1x1(col[0], w, {steps}, {bName}[oc]); o0[oc] = {req("a0", "oc")}; }}");
                    body.Line($"{{ const int32_t a1 = {dot}_1x1(col[1], w, {steps}, {bName}[oc]); o1[oc] = {req("a1", "oc")}; }}");
                }
            }
        }

        if (s.Pixels % 2 == 1)
        {
            using (body.Block(""))
            {
                body.Line($"const {wType}* w = {wName};");
                body.Line($"int8_t* o0 = {c.Output()} + {s.Pixels - 1} * {s.OutC};");
                body.Line($"p = {s.Pixels - 1};");
                DspGemmKernel.Gather(body, s, zx, "p", "col[0]", c.Input(0), zeroRow);
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
                    body.Line($"{{ const int32_t a0 = {dot}_1x1(col[0], w, {steps}, {bName}[{s.OutC - 1}]); o0[{s.OutC - 1}] = {req("a0", $"{s.OutC - 1}")}; }}");
            }
        }
    }
}
