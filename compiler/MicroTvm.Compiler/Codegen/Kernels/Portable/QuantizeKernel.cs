using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>QUANTIZE: float32 → int8 by a threshold search (see <see cref="QuantizationThresholds"/>), float32 → int16
/// (round half away from zero of x / scale, in float like <see cref="AffineQuantization.Quantize"/>), and
/// requantization between the integer types TFLM pairs (<see cref="QuantizeConversions.Supported"/>).</summary>
internal sealed class QuantizeKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (!QuantizeConversions.Supported(input.Type, output.Type))
            return $"{input.Type.DisplayName()} to {output.Type.DisplayName()} is not supported ({OpKind.Quantize.TypesText})";
        if (ExpectQuantized(output, "output", output.Type) is { } e) return e;
        return input.Type == ElementType.Float32 ? null : ExpectQuantized(input, "input", input.Type);
    }

    public override bool CanWriteOver(Node node, int inputIndex) => node.Input(0).Type.SizeInBytes() == node.Output.Type.SizeInBytes();

    public override void Emit(EmitContext c)
    {
        var node = c.Node;
        var input = node.Input(0);
        var output = node.Output;
        var range = QuantizedRange.Of(output.Type);
        string t = output.Type.CType();
        var body = c.Body;
        if (input.Type == ElementType.Float32 && output.Type == ElementType.Int8
            && QuantizationThresholds.Find(output.Quantization!.Scale, output.Quantization.ZeroPoint, range) is { } steps)
        {
            EmitThresholdSearch(c, steps, range, t);
            return;
        }

        using (body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)"))
        {
            if (input.Type == ElementType.Float32)
            {
                // The quotient in float, as TFLite divides; a NaN converts to 0 and the rest saturates to int32 before
                // the zero point is added with wrap-around (what the target's float-to-int conversion does and what
                // AffineQuantization models).
                c.Support.Use("mtvm_float_math");
                body.Line($"const float v = {c.Input(0)}[i] / {CLiteral.Float(output.Quantization!.Scale)};");
                body.Line("const int32_t r = v != v ? 0 : v >= 2147483648.0f ? INT32_MAX : v <= -2147483648.0f ? INT32_MIN : mtvm_round_half_away_f(v);");
                body.Line($"int32_t q = (int32_t)((uint32_t)r + (uint32_t){CLiteral.Int(output.Quantization.ZeroPoint)});");
            }
            else
            {
                c.Support.Use("mtvm_fixed_point");
                var q = RequantizeQuantization.Derive(input, output);
                // An int32 operand may overflow with its zero point: the sum wraps, as TFLM's int32 arithmetic does in
                // practice, through uint32 (defined in C).
                string x = input.Type == ElementType.Int32 && q.InputZeroPoint != 0
                    ? $"(int32_t)((uint32_t){c.Input(0)}[i] - (uint32_t){CLiteral.Int(q.InputZeroPoint)})"
                    : $"(int32_t){c.Input(0)}[i]{Minus(q.InputZeroPoint)}";
                string scaled = $"mtvm_mbqm({x}, {q.Multiplier}, {q.Shift})";
                body.Line(output.Type == ElementType.Int32 && q.OutputZeroPoint != 0
                    ? $"int32_t q = (int32_t)((uint32_t){scaled} + (uint32_t){CLiteral.Int(q.OutputZeroPoint)});"
                    : $"int32_t q = {scaled}{Plus(q.OutputZeroPoint)};");
            }

            if (output.Type != ElementType.Int32) Clamp(body, "q", range);
            body.Line($"{c.Output()}[i] = ({t})q;");
        }
    }

    /// <summary>float → int8 without division or double: the result is range.Min plus the number of thresholds ≤ x,
    /// found by a binary search over a table of 256 floats (entry 0 unused) in eight compares. NaN and the
    /// wrapped ends get the values the reference arithmetic gives them.</summary>
    private static void EmitThresholdSearch(EmitContext c, QuantizationThresholds steps, QuantizedRange range, string t)
    {
        var node = c.Node;
        var table = new float[steps.Thresholds.Length + 1];
        table[0] = steps.Thresholds[0];
        steps.Thresholds.CopyTo(table, 1);
        string name = c.Constants.Float($"{c.Prefix}_thresholds", table,
            $"operator {node.Index} QUANTIZE: entry j is the smallest float that quantizes to at least {range.Min} + j (entry 0 unused)");
        var body = c.Body;
        using (body.Block($"for (size_t i = 0; i < {node.Output.ElementCount}; ++i)"))
        {
            body.Line($"const float x = {c.Input(0)}[i];");
            body.Line("int32_t q;");
            body.Line($"if (x != x) q = {steps.NanResult};");
            if (steps.WrapAbove is { } above) body.Line($"else if (x >= {CLiteral.Float(above)}) q = {steps.AboveResult};");
            if (steps.WrapBelow is { } below) body.Line($"else if (x <= {CLiteral.Float(below)}) q = {steps.BelowResult};");
            using (body.Block("else"))
            {
                // A moving pointer: each step is one load at a constant offset, one compare, one conditional add.
                body.Line($"const float* p = {name};");
                for (int step = table.Length / 2; step >= 1; step /= 2)
                    body.Line($"if (x >= p[{step}]) p += {step};");
                body.Line($"q = {range.Min} + (int32_t)(p - {name});");
            }

            body.Line($"{c.Output()}[i] = ({t})q;");
        }
    }
}

/// <summary>DEQUANTIZE: int8/uint8/int16 → float32, bit-exact with <see cref="AffineQuantization.Dequantize"/> without double
/// arithmetic: a table of 256 results for 8-bit inputs, one exact float multiplication for int16.</summary>
internal sealed class DequantizeKernel : Kernel
{
    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        if (node.Output.Type != ElementType.Float32) return "output must be float32";
        if (input.Type is ElementType.Int8 or ElementType.Int16 or ElementType.UInt8) return ExpectQuantized(input, "input", input.Type);
        return $"input type {input.Type.DisplayName()} is not supported (int8, uint8, int16 are)";
    }

    public override void Emit(EmitContext c)
    {
        var input = c.Node.Input(0);
        var q = input.Quantization!;
        var range = QuantizedRange.Of(input.Type);
        if (range.Max - range.Min == 255)
        {
            // int8/uint8: every possible value's result, from the reference arithmetic itself.
            var values = Enumerable.Range(range.Min, 256).Select(v => AffineQuantization.Dequantize(v, q.Scale, q.ZeroPoint)).ToArray();
            if (values.All(float.IsFinite))
            {
                string table = c.Constants.Float($"{c.Prefix}_dequantized", values,
                    $"operator {c.Node.Index} DEQUANTIZE: the float of each stored value from {range.Min} to {range.Max}");
                // Four lookups per iteration through a pointer to the entry of 0 (each a load of the stored value,
                // one indexed load of the table word and a store).
                c.Body.Line($"const float* const t = {table}{Minus(range.Min)};");
                UnrolledLoop(c.Body, input.ElementCount, 4, i => c.Body.Line($"{c.Output()}[{i}] = t[{c.Input(0)}[{i}]];"));
                return;
            }
        }

        // In single precision, yet exactly the reference's double arithmetic: q - zero point has at most 17
        // significant bits and the scale 24, so the double product is exact and narrowing it rounds once, as the
        // float multiplication of the same (exactly converted) operands does.
        using (c.Body.Block($"for (size_t i = 0; i < {input.ElementCount}; ++i)"))
            c.Body.Line($"{c.Output()}[i] = {CLiteral.Float(q.Scale)} * (float)((int32_t){c.Input(0)}[i]{Minus(q.ZeroPoint)});");
    }
}
