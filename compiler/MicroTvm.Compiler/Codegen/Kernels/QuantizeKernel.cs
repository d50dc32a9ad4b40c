using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using static MicroTvm.Compiler.Codegen.Kernels.KernelHelpers;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>QUANTIZE: float32 → int8/int16 (round half away from zero of x / scale, in double, as TFLite), and
/// requantization between int8/int16 tensors.</summary>
internal sealed class QuantizeKernel : Kernel
{
    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.Quantize };

    public override string? Unsupported(Node node)
    {
        var input = node.Input(0);
        var output = node.Output;
        if (output.Type is not (ElementType.Int8 or ElementType.Int16)) return $"output type {output.Type.DisplayName()} is not supported (int8, int16 are)";
        if (ExpectQuantized(output, "output", output.Type) is { } e) return e;
        if (input.Type == ElementType.Float32) return null;
        if (input.Type is ElementType.Int8 or ElementType.Int16) return ExpectQuantized(input, "input", input.Type);
        return $"input type {input.Type.DisplayName()} is not supported (float32, int8, int16 are)";
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
        using (body.Block($"for (size_t i = 0; i < {output.ElementCount}; ++i)"))
        {
            if (input.Type == ElementType.Float32)
            {
                c.Support.Use("round_half_away_d");
                // Bound the quotient first so the conversion to int is defined; the clamp below gives the same result.
                body.Line($"double v = (double){c.Input(0)}[i] / {CLiteral.Double(output.Quantization!.Scale)};");
                body.Line("if (v > 1.0e6) v = 1.0e6;");
                body.Line("if (v < -1.0e6) v = -1.0e6;");
                body.Line($"int32_t q = round_half_away_d(v) + {output.Quantization.ZeroPoint};");
            }
            else
            {
                c.Support.Use("mbqm");
                var q = RequantizeQuantization.Derive(input, output);
                body.Line($"int32_t q = mbqm((int32_t){c.Input(0)}[i]{Minus(q.InputZeroPoint)}, {q.Multiplier}, {q.Shift}){Plus(q.OutputZeroPoint)};");
            }

            Clamp(body, "q", range);
            body.Line($"{c.Output()}[i] = ({t})q;");
        }
    }
}

/// <summary>DEQUANTIZE: int8/int16 → float32, (float)(scale * (q - zero point)) computed in double as TFLite does.</summary>
internal sealed class DequantizeKernel : Kernel
{
    public override IReadOnlyCollection<OpKind> Kinds { get; } = new[] { OpKind.Dequantize };

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
        using (c.Body.Block($"for (size_t i = 0; i < {input.ElementCount}; ++i)"))
            c.Body.Line($"{c.Output()}[i] = (float)({CLiteral.Double(input.Quantization!.Scale)} * (double)((int32_t){c.Input(0)}[i] - {input.Quantization.ZeroPoint}));");
    }
}
