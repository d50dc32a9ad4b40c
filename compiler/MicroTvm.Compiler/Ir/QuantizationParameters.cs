namespace MicroTvm.Compiler.Ir;

/// <summary>
/// Affine quantization: real = scale * (q - zeroPoint). One scale/zero point for the whole tensor, or one per
/// slice along <see cref="QuantizedDimension"/> (per-channel, as TFLite uses for convolution weights).
/// Scales stay float32, exactly as stored in the model: the kernels widen them to double when they derive
/// multipliers, and doing the same here is what keeps the arithmetic bit-exact.
/// </summary>
public sealed class QuantizationParameters
{
    public QuantizationParameters(IReadOnlyList<float> scales, IReadOnlyList<long> zeroPoints, int quantizedDimension = 0)
    {
        if (scales.Count == 0) throw new ArgumentException("at least one scale is needed", nameof(scales));
        if (zeroPoints.Count != scales.Count && zeroPoints.Count != 1)
            throw new ArgumentException("zero points must be one or one per scale", nameof(zeroPoints));
        Scales = scales;
        ZeroPoints = zeroPoints;
        QuantizedDimension = quantizedDimension;
    }

    public IReadOnlyList<float> Scales { get; }
    public IReadOnlyList<long> ZeroPoints { get; }
    public int QuantizedDimension { get; }

    public bool IsPerChannel => Scales.Count > 1;

    /// <summary>The per-tensor scale; for per-channel parameters, the first channel's.</summary>
    public float Scale => Scales[0];

    /// <summary>The per-tensor zero point (as an int: TFLite zero points of int8/int16 tensors fit).</summary>
    public int ZeroPoint => checked((int)ZeroPoints[0]);

    public float ScaleOf(int channel) => Scales[IsPerChannel ? channel : 0];

    public static QuantizationParameters PerTensor(float scale, long zeroPoint) => new(new[] { scale }, new[] { zeroPoint });

    public override string ToString() => IsPerChannel
        ? $"per-channel(dim {QuantizedDimension}, {Scales.Count} scales)"
        : $"scale={Scale:G9} zp={ZeroPoints[0]}";
}
