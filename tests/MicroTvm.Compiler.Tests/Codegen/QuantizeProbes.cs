using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Inputs that probe a float → integer QUANTIZE where an implementation can go wrong: two floats either side of every
/// step of the reference (<see cref="QuantizationThresholds"/>, itself found from the reference arithmetic) and the step
/// itself; the quotients ±0.5, ±16383.5 (the FPv4 kernel's int16 saturation), ±2^30 and ±2^31 (the int32 saturation and
/// the wrap-around of the zero point) times the scale, with their neighbours; zeros, subnormals, the largest floats,
/// infinities, NaNs of both signs; the rest random bit patterns.
/// </summary>
public static class QuantizeProbes
{
    /// <summary>(scale, zero point, output type): ad_toycar's input, 1/255 with zero point -128 (TFLite's usual image
    /// input), power-of-two scales (ties), extreme scales (quotients beyond ±2^31 for ordinary inputs, or subnormal).</summary>
    public static readonly (float Scale, int ZeroPoint, ElementType Type)[] Quantizations =
    {
        (0.40484673f, 81, ElementType.Int8), (1 / 255f, -128, ElementType.Int8), (0.0625f, -3, ElementType.Int8), (0.5f, 127, ElementType.Int8),
        (1e-6f, 0, ElementType.Int8), (1000f, -100, ElementType.Int8), (3e-38f, 5, ElementType.Int8), (1e30f, -7, ElementType.Int8),
        (0.0123f, 0, ElementType.Int16), (1 / 4096f, 0, ElementType.Int16),
    };

    public static float[] For(float scale, int zeroPoint, QuantizedRange range, int count, Random random)
    {
        var values = new List<float> { 0f, -0f, float.Epsilon, -float.Epsilon, 1.17549421e-38f, -1.17549421e-38f, float.MaxValue, float.MinValue,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00001u)) };
        void Around(float x)
        {
            if (!float.IsFinite(x)) return;
            for (int k = -2; k <= 2; k++) values.Add(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(x) + k));
        }

        foreach (double quotient in new[] { 0.5, 1.5, 16383.5, 16384, 32767.5, 1 << 30, 2147483520.0, 2147483648.0 })
        {
            Around((float)(quotient * scale));
            Around((float)(-quotient * scale));
        }

        if (QuantizationThresholds.Find(scale, zeroPoint, range) is { } steps)
        {
            foreach (float t in steps.Thresholds) Around(t);
            if (steps.WrapAbove is { } above) Around(above);
            if (steps.WrapBelow is { } below) Around(below);
        }

        while (values.Count < count) values.Add(BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31)));
        return values.Take(count).ToArray();
    }
}
