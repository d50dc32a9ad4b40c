using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// L2_NORMALIZATION and LOG_SOFTMAX over the last dimension, as TFLite Micro's reference kernels compute them.
/// L2 float32: x / max(sqrt(sum of squares, in order), 1e-6). L2 int8: the sum of squared centred values in int32, its
/// inverse square root as a multiplier and shift (<see cref="InverseSqrt"/>), each centred value times it with 7 more
/// bits, clamped: the output is on TFLM's grid (1/128, zero point 0) whatever the output tensor says, as TFLM does.
/// LOG_SOFTMAX float32: x - max - log(sum of exp(x - max)).
/// </summary>
internal static class NormalizationReference
{
    public static void L2Normalization(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        int depth = input.Shape[^1], rows = checked((int)(input.ElementCount / Math.Max(depth, 1)));
        if (input.Type == ElementType.Float32 && output.Type == ElementType.Float32)
        {
            var x = values.Floats(input);
            var y = new float[x.Length];
            for (int r = 0; r < rows; r++)
            {
                float squares = 0f;
                for (int c = 0; c < depth; c++) squares += x[r * depth + c] * x[r * depth + c];
                float norm = FloatMath.Sqrt(squares);
                if (norm < 1e-6f) norm = 1e-6f;
                for (int c = 0; c < depth; c++) y[r * depth + c] = x[r * depth + c] / norm;
            }

            values.SetFloats(output, y);
        }
        else if (input.Type == ElementType.Int8 && output.Type == ElementType.Int8)
        {
            int zeroPoint = ConvQuantization.Require(input).ZeroPoint;
            var x = values.Ints(input);
            var y = new int[x.Length];
            for (int r = 0; r < rows; r++)
            {
                int squares = 0;
                for (int c = 0; c < depth; c++) squares += (x[r * depth + c] - zeroPoint) * (x[r * depth + c] - zeroPoint);
                var (multiplier, shift) = InverseSqrt.Of(squares);
                for (int c = 0; c < depth; c++)
                    y[r * depth + c] = QuantizedRange.Of(ElementType.Int8).Clamp(FixedPoint.MultiplyByQuantizedMultiplier(x[r * depth + c] - zeroPoint, multiplier, shift + 7));
            }

            values.SetInts(output, y);
        }
        else
        {
            throw ReferenceErrors.Unsupported(node);
        }
    }

    public static void LogSoftmax(Node node, TensorValues values)
    {
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != ElementType.Float32 || output.Type != ElementType.Float32) throw ReferenceErrors.Unsupported(node);
        int depth = input.Shape[^1], rows = checked((int)(input.ElementCount / Math.Max(depth, 1)));
        var x = values.Floats(input);
        var y = new float[x.Length];
        for (int r = 0; r < rows; r++)
        {
            float max = float.MinValue;
            for (int c = 0; c < depth; c++) max = max < x[r * depth + c] ? x[r * depth + c] : max;
            float sum = 0f;
            for (int c = 0; c < depth; c++) sum += FloatMath.Exp(x[r * depth + c] - max);
            float logSum = FloatMath.Log(sum);
            for (int c = 0; c < depth; c++) y[r * depth + c] = x[r * depth + c] - max - logSum;
        }

        values.SetFloats(output, y);
    }
}
