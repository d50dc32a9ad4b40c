namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// Conversions between float32 and stored integers as QUANTIZE and DEQUANTIZE do them in TensorFlow Lite Micro:
/// quantizing divides in single precision (the scale narrowed to float) and rounds half away from zero;
/// dequantizing multiplies in double precision and narrows the product to float.
/// </summary>
public static class AffineQuantization
{
    public static int Quantize(float value, float scale, int zeroPoint, QuantizedRange range) =>
        range.Clamp((int)MathF.Round(value / scale, MidpointRounding.AwayFromZero) + zeroPoint);

    public static float Dequantize(int value, float scale, int zeroPoint) => (float)((double)scale * (value - zeroPoint));
}
