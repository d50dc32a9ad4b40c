using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors; windows are clipped to the input (padding is never averaged).</summary>
internal static class PoolingReference
{
    public static void AveragePool2D(Node node, TensorValues values) => Pool(node, values, average: true);

    public static void MaxPool2D(Node node, TensorValues values) => Pool(node, values, average: false);

    private static void Pool(Node node, TensorValues values, bool average)
    {
        var p = node.AttributesAs<Pool2DAttributes>();
        var (input, output) = (node.Input(0), node.Output);
        if (input.Type != output.Type || input.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16))
            throw ReferenceErrors.Unsupported(node);

        int batches = input.Shape[0], inH = input.Shape[1], inW = input.Shape[2], channels = input.Shape[3];
        int outH = output.Shape[1], outW = output.Shape[2];
        int padTop = ConvGeometry.PaddingBefore(p.Padding, inH, p.FilterH, p.StrideH);
        int padLeft = ConvGeometry.PaddingBefore(p.Padding, inW, p.FilterW, p.StrideW);
        bool isFloat = input.Type == ElementType.Float32;
        var inF = isFloat ? values.Floats(input) : null;
        var inI = isFloat ? null : values.Ints(input);
        var outF = isFloat ? new float[output.ElementCount] : null;
        var outI = isFloat ? null : new int[output.ElementCount];
        var floatRange = isFloat ? ActivationRange.Float(p.Activation) : default;
        var intRange = isFloat ? default : ActivationRange.Quantized(p.Activation, output);

        for (int b = 0; b < batches; b++)
        for (int oy = 0; oy < outH; oy++)
        for (int ox = 0; ox < outW; ox++)
        for (int c = 0; c < channels; c++)
        {
            int originY = oy * p.StrideH - padTop, originX = ox * p.StrideW - padLeft;
            int yStart = Math.Max(0, -originY), yEnd = Math.Min(p.FilterH, inH - originY);
            int xStart = Math.Max(0, -originX), xEnd = Math.Min(p.FilterW, inW - originX);
            int outIndex = ((b * outH + oy) * outW + ox) * channels + c;
            int count = 0;
            float floatSum = 0f, floatMax = float.MinValue;
            int intSum = 0, intMax = int.MinValue;
            for (int fy = yStart; fy < yEnd; fy++)
            for (int fx = xStart; fx < xEnd; fx++)
            {
                int inIndex = ((b * inH + originY + fy) * inW + originX + fx) * channels + c;
                count++;
                if (isFloat)
                {
                    floatSum += inF![inIndex];
                    floatMax = Math.Max(floatMax, inF[inIndex]);
                }
                else
                {
                    intSum += inI![inIndex];
                    intMax = Math.Max(intMax, inI[inIndex]);
                }
            }

            if (isFloat)
            {
                outF![outIndex] = floatRange.Clamp(average ? floatSum / count : floatMax);
            }
            else if (average)
            {
                // Divide rounding half away from zero.
                int mean = intSum > 0 ? (intSum + count / 2) / count : (intSum - count / 2) / count;
                outI![outIndex] = intRange.Clamp(mean);
            }
            else
            {
                outI![outIndex] = intRange.Clamp(Math.Max(intMax, QuantizedRange.Of(input.Type).Min));
            }
        }

        if (isFloat) values.SetFloats(output, outF!);
        else values.SetInts(output, outI!);
    }
}
