using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>L2_NORMALIZATION (float32, int8) and LOG_SOFTMAX (float32) row by row over the last dimension, with the
/// arithmetic of <see cref="NormalizationReference"/>; may write over its input (each row is read before it is written).</summary>
internal sealed class NormalizationKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.ElementCount != output.ElementCount) return "input and output must have the same type and size";
        if (input.Type == ElementType.Float32) return null;
        if (input.Type == ElementType.Int8 && node.Kind == OpKind.L2Normalization) return ExpectQuantized(input, "input", input.Type);
        return $"element type {input.Type.DisplayName()} is not supported ({node.Kind.TypesText} is)";
    }

    public override bool CanWriteOver(Node node, int inputIndex) => true;

    public override void Emit(EmitContext c)
    {
        var (input, output) = (c.Node.Input(0), c.Node.Output);
        int depth = input.Shape[^1], rows = checked((int)(input.ElementCount / Math.Max(depth, 1)));
        var body = c.Body;
        string x = c.Input(0), y = c.Output();
        c.Support.Use(input.Type == ElementType.Int8 ? "mtvm_inv_sqrt" : "mtvm_float_math");
        using var rowLoop = body.Block($"for (size_t r = 0; r < {rows}; ++r)");
        body.Line($"const {input.Type.CType()}* row = {x} + r * {depth};");
        body.Line($"{output.Type.CType()}* out = {y} + r * {depth};");
        body.Line("size_t c;");
        if (c.Node.Kind == OpKind.LogSoftmax)
        {
            body.Line("float max = -3.40282347e38f, sum = 0.0f, log_sum;");
            body.Line("for (c = 0; c < " + depth + "; ++c) max = max < row[c] ? row[c] : max;");
            body.Line("for (c = 0; c < " + depth + "; ++c) sum += mtvm_exp_f32(row[c] - max);");
            body.Line("log_sum = mtvm_log_f32(sum);");
            body.Line("for (c = 0; c < " + depth + "; ++c) out[c] = row[c] - max - log_sum;");
        }
        else if (input.Type == ElementType.Float32)
        {
            body.Line("float squares = 0.0f, norm;");
            body.Line("for (c = 0; c < " + depth + "; ++c) squares += row[c] * row[c];");
            body.Line("norm = mtvm_sqrt_f32(squares);");
            body.Line("if (norm < 1e-6f) norm = 1e-6f;");
            body.Line("for (c = 0; c < " + depth + "; ++c) out[c] = row[c] / norm;");
        }
        else
        {
            int zeroPoint = ConvQuantization.Require(input).ZeroPoint;
            body.Line("int32_t squares = 0, multiplier, v;");
            body.Line("int shift;");
            body.Line($"for (c = 0; c < {depth}; ++c) {{ v = (int32_t)row[c] - {CLiteral.Int(zeroPoint)}; squares += v * v; }}");
            body.Line("mtvm_inv_sqrt(squares, &multiplier, &shift);");
            using (body.Block($"for (c = 0; c < {depth}; ++c)"))
            {
                body.Line($"int32_t q = mtvm_mbqm((int32_t)row[c] - {CLiteral.Int(zeroPoint)}, multiplier, shift + 7);");
                Clamp(body, "q", QuantizedRange.Of(ElementType.Int8));
                body.Line("out[c] = (int8_t)q;");
            }
        }
    }
}
