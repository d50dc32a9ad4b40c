using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>
/// The spatial arithmetic TFLite uses for convolutions and pooling: output size per padding mode, and the padding
/// before the first row/column (SAME splits the total padding, the odd row or column going after).
/// </summary>
public static class ConvGeometry
{
    /// <summary>Output size of a windowed dimension (SAME: ceil(in / stride); VALID: ceil((in - effective + 1) / stride),
    /// 0 when the window does not fit). The one rule shape inference, the evaluator and the kernels use; computed in 64
    /// bits, so any sizes a model file holds are safe.</summary>
    public static int OutputSize(Padding padding, int inputSize, int filterSize, int stride, int dilation = 1)
    {
        long effective = (long)(filterSize - 1) * dilation + 1;
        long size = padding == Padding.Same ? (inputSize + (long)stride - 1) / stride : (inputSize - effective + stride) / stride;
        return (int)Math.Clamp(size, 0, int.MaxValue);
    }

    /// <summary>Rows (or columns) of padding before the input, as TFLite's ComputePaddingHeightWidth.</summary>
    public static int PaddingBefore(Padding padding, int inputSize, int filterSize, int stride, int dilation = 1)
    {
        int outputSize = OutputSize(padding, inputSize, filterSize, stride, dilation);
        long total = (outputSize - 1L) * stride + (long)(filterSize - 1) * dilation + 1 - inputSize;
        return (int)(Math.Max(total, 0) / 2);
    }
}
