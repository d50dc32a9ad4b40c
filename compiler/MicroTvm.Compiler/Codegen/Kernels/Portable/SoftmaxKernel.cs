using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>SOFTMAX over the last dimension: int8 in, int8 or int16 out with TFLite's fixed-point exponential; float32
/// with a portable exp (no libm), within float tolerance of TFLite.</summary>
internal sealed class SoftmaxKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (input.Shape.Length == 0 || input.Shape[^1] < 1) return "the last dimension must not be empty";
        if (input.Type == ElementType.Float32) return output.Type == ElementType.Float32 ? null : "float32 input needs a float32 output";
        if (input.Type == ElementType.Int8)
        {
            if (ExpectQuantized(input, "input", ElementType.Int8) is { } e1) return e1;
            if (output.Type == ElementType.Int8)
            {
                if (ExpectQuantized(output, "output", ElementType.Int8) is { } e2) return e2;
                if (output.Quantization!.Scale != 1f / 256 || output.Quantization.ZeroPoint != -128)
                    return "int8 output must have scale 1/256 and zero point -128";
                return null;
            }

            if (output.Type == ElementType.Int16) return output.Quantization is null ? "int16 output has no quantization parameters" : null;
            return "int8 input needs an int8 or int16 output";
        }

        if (input.Type == ElementType.Int16)
        {
            if (ExpectQuantized(input, "input", ElementType.Int16) is { } e3) return e3;
            return output.Type == ElementType.Int16 ? null : "int16 input needs an int16 output";
        }

        return $"input type {input.Type.DisplayName()} is not supported (int8, int16, float32 are)";
    }

    /// <summary>Each row is read completely (for its maximum and sum) before its first output is written, and the
    /// final pass reads element c before writing element c; so with equal element sizes the output may overwrite
    /// the input.</summary>
    public override bool CanWriteOver(Node node, int inputIndex) =>
        inputIndex == 0 && node.Input(0).Type.SizeInBytes() == node.Output.Type.SizeInBytes() && node.Input(0).Type != ElementType.Float32;

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        int depth = input.Shape[^1];
        long rows = input.ElementCount / depth;
        float beta = node.AttributesAs<SoftmaxAttributes>().Beta;
        var body = c.Body;
        if (input.Type == ElementType.Float32)
        {
            // As TFLite: maximum, exp((x - max) * beta) stored and summed, then each divided by the sum.
            c.Support.Use("mtvm_float_math");
            using (body.Block($"for (int r = 0; r < {rows}; ++r)"))
            {
                body.Line($"const float* x = {c.Input(0)} + r * {depth};");
                body.Line($"float* y = {c.Output()} + r * {depth};");
                body.Line($"float max = {CLiteral.Float(float.MinValue)};");
                body.Line("float sum = 0.0f;");
                body.Line($"for (int i = 0; i < {depth}; ++i) if (x[i] > max) max = x[i];");
                body.Line($"for (int i = 0; i < {depth}; ++i) {{ y[i] = mtvm_exp_f32((x[i] - max) * {CLiteral.Float(beta)}); sum += y[i]; }}");
                body.Line($"for (int i = 0; i < {depth}; ++i) y[i] /= sum;");
            }

            return;
        }

        if (input.Type == ElementType.Int16)
        {
            EmitInt16(c, rows, depth, beta);
            return;
        }

        var q = SoftmaxQuantization.Derive(input, beta);
        string helper = node.Output.Type == ElementType.Int8 ? "mtvm_softmax_int8_row" : "mtvm_softmax_int8_int16_row";
        c.Support.Use("mtvm_softmax");
        using (body.Block($"for (int r = 0; r < {rows}; ++r)"))
            body.Line($"{helper}({c.Input(0)} + r * {depth}, {c.Output()} + r * {depth}, {depth}, {q.InputMultiplier}, {q.InputLeftShift}, {q.DiffMin});");
    }

    /// <summary>
    /// int16 as TFLite: differences to the row maximum rescaled so [-65535, 0] covers [-10, 0], exponentials from an
    /// interpolated table, their sum normalised and inverted through a second table; both tables are compile-time
    /// constants. Exponentials are computed again in the last pass instead of being kept: no scratch memory.
    /// </summary>
    private static void EmitInt16(EmitContext c, long rows, int depth, float beta)
    {
        var node = c.Node;
        var q = SoftmaxInt16Quantization.Derive(node.Input(0), beta);
        string exp = c.Constants.Int16($"{c.Prefix}_exp", q.ExpTable, "exp(x) for x in [-10, 0], 513-entry interpolation table (TFLite's)");
        string reciprocal = c.Constants.Int16($"{c.Prefix}_reciprocal", q.OneOverOnePlusXTable, "1 / (1 + x) for x in [0, 1], 513-entry interpolation table");
        c.Support.Use("mtvm_softmax");
        var body = c.Body;
        using (body.Block($"for (int r = 0; r < {rows}; ++r)"))
        {
            body.Line($"const int16_t* x = {c.Input(0)} + r * {depth};");
            body.Line($"int16_t* y = {c.Output()} + r * {depth};");
            body.Line("int32_t max = -32768, sum = 0;");
            body.Line($"for (int i = 0; i < {depth}; ++i) if (x[i] > max) max = x[i];");
            using (body.Block($"for (int i = 0; i < {depth}; ++i)"))
            {
                body.Line($"int32_t centred = mtvm_mbqm(x[i] - max, {q.InputMultiplier}, {q.InputShift}) + 32767;");
                body.Line("if (centred < -32768) centred = -32768;");
                body.Line("if (centred > 32767) centred = 32767;");
                body.Line($"sum += mtvm_lut16(centred, {exp});");
            }

            using (body.Block(""))
            {
                body.Line("const int headroom_plus_one = mtvm_clz32((uint32_t)sum);");
                body.Line("int32_t centred_sum = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14) - ((1 << 15) + (1 << 16));");
                body.Line("if (centred_sum < -32768) centred_sum = -32768;");
                body.Line("if (centred_sum > 32767) centred_sum = 32767;");
                body.Line($"const int32_t reciprocal = mtvm_lut16(centred_sum, {reciprocal});");
                body.Line("const int right_shift = 31 - headroom_plus_one;");
                body.Line("const int64_t round = (int64_t)1 << (right_shift - 1);");
                using (body.Block($"for (int i = 0; i < {depth}; ++i)"))
                {
                    body.Line($"int32_t centred = mtvm_mbqm(x[i] - max, {q.InputMultiplier}, {q.InputShift}) + 32767;");
                    body.Line("if (centred < -32768) centred = -32768;");
                    body.Line("if (centred > 32767) centred = 32767;");
                    body.Line($"int32_t result = (int32_t)(((int64_t)mtvm_lut16(centred, {exp}) * reciprocal + round) >> right_shift);");
                    body.Line("if (result < 0) result = 0;");
                    body.Line("if (result > 32767) result = 32767;");
                    body.Line("y[i] = (int16_t)result;");
                }
            }
        }
    }
}
