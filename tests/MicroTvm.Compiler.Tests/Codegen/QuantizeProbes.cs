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
