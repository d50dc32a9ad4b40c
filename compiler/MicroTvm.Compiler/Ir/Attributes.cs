using System.Globalization;

namespace MicroTvm.Compiler.Ir;

/// <summary>Activation fused into an operator's output (TFLite ActivationFunctionType).</summary>
public enum FusedActivation
{
    None,
    Relu,
    ReluN1To1,
    Relu6,
    Tanh,
    SignBit,
}

/// <summary>TFLite padding: SAME pads so that output = ceil(input / stride); VALID does not pad.</summary>
public enum Padding
{
    Same,
    Valid,
}

/// <summary>
/// Typed attributes of a node. Constant operands that only describe the operation (a reshape's new shape,
/// a transpose's permutation, paddings, axes, slice bounds, a transpose convolution's output shape) are read
/// by the importer into these records and are not node inputs.
/// </summary>
public abstract record OpAttributes;

/// <summary>For operators without attributes (LOGISTIC, TANH, RELU, QUANTIZE, …).</summary>
public sealed record NoAttributes : OpAttributes
{
    public static readonly NoAttributes Instance = new();
}

/// <summary>ADD, SUB, MUL, MAXIMUM, MINIMUM. Inputs: [a, b] (broadcast as TFLite does).</summary>
/// <param name="PotScaleInt16">TFLite's pot_scale_int16 of ADD/SUB: int16 operands use power-of-two scales.</param>
public sealed record ElementwiseAttributes(FusedActivation Activation, bool PotScaleInt16 = true) : OpAttributes;

/// <summary>CONV_2D. Inputs: [input NHWC, filter OHWI, bias? (int32 for int8, int64 for int16x8, float32)].</summary>
public sealed record Conv2DAttributes(
    Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, FusedActivation Activation) : OpAttributes;

/// <summary>DEPTHWISE_CONV_2D. Inputs: [input NHWC, filter 1HW(I*M), bias?].</summary>
public sealed record DepthwiseConv2DAttributes(
    Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, int DepthMultiplier,
    FusedActivation Activation) : OpAttributes;

/// <summary>TRANSPOSE_CONV. Inputs: [input NHWC, filter OHWI, bias?]; the output shape operand is <see cref="OutputShape"/>.</summary>
public sealed record TransposeConvAttributes(
    Padding Padding, int StrideH, int StrideW, int[] OutputShape, FusedActivation Activation) : OpAttributes;

/// <summary>FULLY_CONNECTED. Inputs: [input, weights [units, depth], bias?].</summary>
public sealed record FullyConnectedAttributes(FusedActivation Activation, bool KeepNumDims) : OpAttributes;

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D. Inputs: [input NHWC].</summary>
public sealed record Pool2DAttributes(
    Padding Padding, int StrideH, int StrideW, int FilterH, int FilterW, FusedActivation Activation) : OpAttributes;

/// <summary>RESHAPE, SQUEEZE, EXPAND_DIMS: the output shape says it all (element order is unchanged). Inputs: [input].</summary>
public sealed record ReshapeAttributes(int[] NewShape) : OpAttributes;

/// <summary>SOFTMAX. Inputs: [input]; softmax runs over the last dimension.</summary>
public sealed record SoftmaxAttributes(float Beta) : OpAttributes;

/// <summary>LEAKY_RELU. Inputs: [input].</summary>
public sealed record LeakyReluAttributes(float Alpha) : OpAttributes;

/// <summary>CONCATENATION. Inputs: [x0, x1, …]; <see cref="Axis"/> is normalised to be non-negative.</summary>
public sealed record ConcatenationAttributes(int Axis, FusedActivation Activation) : OpAttributes;

/// <summary>
/// PAD and PADV2. Inputs: [input] for PAD (pads with the zero point, or 0), [input, value (scalar constant)] for PADV2.
/// <see cref="Before"/>/<see cref="After"/> hold one entry per input dimension.
/// </summary>
public sealed record PadAttributes(int[] Before, int[] After) : OpAttributes;

/// <summary>MEAN. Inputs: [input]; <see cref="Axes"/> normalised, sorted, distinct.</summary>
public sealed record MeanAttributes(int[] Axes, bool KeepDims) : OpAttributes;

/// <summary>STRIDED_SLICE. Inputs: [input]; the begin/end/strides operands and masks as in TFLite.</summary>
public sealed record StridedSliceAttributes(
    int[] Begin, int[] End, int[] Strides, int BeginMask, int EndMask, int EllipsisMask, int NewAxisMask,
    int ShrinkAxisMask, bool Offset) : OpAttributes;

/// <summary>TRANSPOSE. Inputs: [input]; output dimension i is input dimension Permutation[i].</summary>
public sealed record TransposeAttributes(int[] Permutation) : OpAttributes;

/// <summary>Text for attributes.</summary>
public static class AttributeText
{
    /// <summary>The attributes in a few words ("stride 2x2 SAME dilation 2x2 relu"): the one formatter for
    /// <c>microtvm inspect</c> and the generated C's operator comments.</summary>
    public static string Describe(this OpAttributes attributes) => attributes switch
    {
        Conv2DAttributes a => Join(Window(a.StrideH, a.StrideW, a.Padding), Dilation(a.DilationH, a.DilationW), Activation(a.Activation)),
        DepthwiseConv2DAttributes a => Join(Window(a.StrideH, a.StrideW, a.Padding), Dilation(a.DilationH, a.DilationW),
            a.DepthMultiplier == 1 ? "" : $"multiplier {a.DepthMultiplier}", Activation(a.Activation)),
        TransposeConvAttributes a => Join(Window(a.StrideH, a.StrideW, a.Padding), Activation(a.Activation)),
        Pool2DAttributes a => Join($"{a.FilterH}x{a.FilterW}", Window(a.StrideH, a.StrideW, a.Padding), Activation(a.Activation)),
        FullyConnectedAttributes a => Join(a.KeepNumDims ? "keep dims" : "", Activation(a.Activation)),
        ElementwiseAttributes a => Activation(a.Activation),
        ConcatenationAttributes a => Join($"axis {a.Axis}", Activation(a.Activation)),
        SoftmaxAttributes a => $"beta {a.Beta.ToString(CultureInfo.InvariantCulture)}",
        LeakyReluAttributes a => $"alpha {a.Alpha.ToString(CultureInfo.InvariantCulture)}",
        MeanAttributes a => Join($"axes {string.Join(",", a.Axes)}", a.KeepDims ? "keep dims" : ""),
        PadAttributes a => "pad " + string.Join(",", a.Before.Zip(a.After, (b, e) => $"{b}/{e}")),
        TransposeAttributes a => $"perm {string.Join(",", a.Permutation)}",
        StridedSliceAttributes a => $"begin {string.Join(",", a.Begin)} end {string.Join(",", a.End)} strides {string.Join(",", a.Strides)}",
        _ => "",
    };

    private static string Window(int strideH, int strideW, Padding padding) => $"stride {strideH}x{strideW} {padding.ToString().ToUpperInvariant()}";

    private static string Dilation(int h, int w) => h == 1 && w == 1 ? "" : $"dilation {h}x{w}";

    private static string Activation(FusedActivation activation) => activation == FusedActivation.None ? "" : activation.ToString().ToLowerInvariant();

    private static string Join(params string[] parts) => string.Join(" ", parts.Where(p => p.Length > 0));
}
