using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>RESIZE_NEAREST_NEIGHBOR (float32, int8, int16) and RESIZE_BILINEAR (float32, int8): the source rows and
/// columns (and bilinear weights) are constant tables computed by <see cref="ResizeReference.Coordinates"/>; the loops
/// copy or interpolate with the reference's arithmetic, in its order.</summary>
internal sealed class ResizeKernel(bool bilinear) : Kernel
{
    public override string? Unsupported(Node node) =>
        node.Input(0).Type != node.Output.Type ? "input and output must have the same element type"
        : node.Kind.Types.Contains(node.Input(0).Type) ? null : $"element type {node.Input(0).Type.DisplayName()} is not supported ({node.Kind.TypesText} are)";

    public override void Emit(EmitContext c)
    {
        var input = c.Node.Input(0);
        var a = c.Node.AttributesAs<ResizeAttributes>();
        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], depth = input.Shape[3];
        bool isFloat = input.Type == ElementType.Float32;
        var ys = ResizeReference.Coordinates(inH, a.Height, a, bilinear, !isFloat);
        var xs = ResizeReference.Coordinates(inW, a.Width, a, bilinear, !isFloat);
        string Table(string what, int[] values) => c.Constants.Int32($"{c.Prefix}_{what}", values, $"operator {c.Node.Index}: {what} per output {(what[0] == 'y' ? "row" : "column")}");
        string y0 = Table("y0", ys.Lo), x0 = Table("x0", xs.Lo);
        string x = c.Input(0), y = c.Output();
        var body = c.Body;
        body.Line("size_t o = 0;");
        using var batchLoop = body.Block($"for (size_t b = 0; b < {batches}; ++b)");
        using var rowLoop = body.Block($"for (size_t oy = 0; oy < {a.Height}; ++oy)");
        using var columnLoop = body.Block($"for (size_t ox = 0; ox < {a.Width}; ++ox)");
        string Row(string rows, string columns) => $"(((b * {inH} + (size_t){rows}[oy]) * {inW} + (size_t){columns}[ox]) * {depth})";
        if (!bilinear)
        {
            body.Line($"const {input.Type.CType()}* source = {x} + {Row(y0, x0)};");
            using (body.Block($"for (size_t ch = 0; ch < {depth}; ++ch)")) body.Line($"{y}[o++] = source[ch];");
            return;
        }

        string y1 = Table("y1", ys.Hi), x1 = Table("x1", xs.Hi);
        body.Line($"const {input.Type.CType()}* p00 = {x} + {Row(y0, x0)};");
        body.Line($"const {input.Type.CType()}* p10 = {x} + {Row(y1, x0)};");
        body.Line($"const {input.Type.CType()}* p01 = {x} + {Row(y0, x1)};");
        body.Line($"const {input.Type.CType()}* p11 = {x} + {Row(y1, x1)};");
        if (isFloat)
        {
            string Weights(string what, float[] f, bool one) =>
                c.Constants.Float($"{c.Prefix}_{what}", f.Select(v => one ? 1 - v : v).ToArray(), $"operator {c.Node.Index}: {what} per output {(what[1] == 'y' ? "row" : "column")}");
            string wy0 = Weights("wy0", ys.Fraction, true), wy1 = Weights("wy1", ys.Fraction, false);
            string wx0 = Weights("wx0", xs.Fraction, true), wx1 = Weights("wx1", xs.Fraction, false);
            using (body.Block($"for (size_t ch = 0; ch < {depth}; ++ch)"))
                body.Line($"{y}[o++] = p00[ch] * {wy0}[oy] * {wx0}[ox] + p10[ch] * {wy1}[oy] * {wx0}[ox] + p01[ch] * {wy0}[oy] * {wx1}[ox] + p11[ch] * {wy1}[oy] * {wx1}[ox] + 0.0f;");
            return;
        }

        string Weights10(string what, int[] f, bool one) =>
            c.Constants.Int32($"{c.Prefix}_{what}", f.Select(v => one ? 1024 - v : v).ToArray(), $"operator {c.Node.Index}: {what} per output {(what[1] == 'y' ? "row" : "column")}, in 1/1024");
        string vy0 = Weights10("wy0", ys.Fraction10, true), vy1 = Weights10("wy1", ys.Fraction10, false);
        string vx0 = Weights10("wx0", xs.Fraction10, true), vx1 = Weights10("wx1", xs.Fraction10, false);
        using (body.Block($"for (size_t ch = 0; ch < {depth}; ++ch)"))
        {
            body.Line($"const int64_t sum = (int64_t)p00[ch] * {vy0}[oy] * {vx0}[ox] + (int64_t)p10[ch] * {vy1}[oy] * {vx0}[ox]");
            body.Line($"    + (int64_t)p01[ch] * {vy0}[oy] * {vx1}[ox] + (int64_t)p11[ch] * {vy1}[oy] * {vx1}[ox];");
            body.Line("const int64_t half = sum > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);");
            body.Line($"{y}[o++] = (int8_t)((sum + half) / ((int64_t)1 << 20));");
        }
    }
}
