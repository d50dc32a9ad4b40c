using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>QUANTIZE (float → int8/int16, or requantization between the integer pairs TFLM takes, see
/// <see cref="QuantizeConversions.Supported"/>) and DEQUANTIZE (int8/int16 → float).</summary>
internal static class QuantizeReference
{
    public static void Quantize(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (!QuantizeConversions.Supported(input.Type, output.Type)) throw ReferenceErrors.Unsupported(node);
        var range = QuantizedRange.Of(output.Type);
        var qo = ConvQuantization.Require(output);
        var result = new int[output.ElementCount];

        if (input.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            for (int i = 0; i < x.Length; i++) result[i] = AffineQuantization.Quantize(x[i], qo.Scale, qo.ZeroPoint, range);
        }
        else
        {
            // TFLM's Requantize: int32 arithmetic, wrapping where an int32 operand overflows it.
            var q = RequantizeQuantization.Derive(input, output);
            var x = values.Ints(input);
            for (int i = 0; i < x.Length; i++) result[i] = range.Clamp(q.Apply(x[i]));
        }

        values.SetInts(output, result);
    }

    public static void Dequantize(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type is not (ElementType.Int8 or ElementType.Int16) || output.Type != ElementType.Float32)
            throw ReferenceErrors.Unsupported(node);
        var qi = ConvQuantization.Require(input);
        var x = values.Ints(input);
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = AffineQuantization.Dequantize(x[i], qi.Scale, qi.ZeroPoint);
        values.SetFloats(output, y);
    }
}
