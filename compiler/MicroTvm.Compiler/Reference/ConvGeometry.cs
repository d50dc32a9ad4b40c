using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The spatial arithmetic TFLite uses for convolutions and pooling: output size per padding mode, and the padding
/// before the first row/column (SAME splits the total padding, the odd row or column going after).
/// </summary>
public static class ConvGeometry
{
    public static int EffectiveFilterSize(int filterSize, int dilation) => (filterSize - 1) * dilation + 1;

    public static int OutputSize(Padding padding, int inputSize, int filterSize, int stride, int dilation = 1)
    {
        int effective = EffectiveFilterSize(filterSize, dilation);
        return padding == Padding.Same
            ? (inputSize + stride - 1) / stride
            : (inputSize - effective + stride) / stride;
    }

    /// <summary>Rows (or columns) of padding before the input, as TFLite's ComputePaddingHeightWidth.</summary>
    public static int PaddingBefore(Padding padding, int inputSize, int filterSize, int stride, int dilation = 1)
    {
        int outputSize = OutputSize(padding, inputSize, filterSize, stride, dilation);
        int total = (outputSize - 1) * stride + EffectiveFilterSize(filterSize, dilation) - inputSize;
        return Math.Max(total, 0) / 2;
    }
}
