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
public abstract record OpAttributes
{
    /// <summary>The attributes in a few words ("stride 2x2 SAME dilation 2x2 relu"): the one formatter for
    /// <c>microtvm inspect</c> and the generated C's operator comments (helpers: <see cref="AttributeText"/>).</summary>
    public virtual string Describe() => "";
}

/// <summary>Attributes with a fused activation (TFLite's fused_activation_function), which the support check,
/// activation fusion and the kernels' clamping read.</summary>
public interface IFusedActivation
{
    FusedActivation Activation { get; }
}

/// <summary>For operators without attributes (LOGISTIC, TANH, RELU, QUANTIZE, …).</summary>
public sealed record NoAttributes : OpAttributes
{
    public static readonly NoAttributes Instance = new();
}

/// <summary>ADD, SUB, MUL, MAXIMUM, MINIMUM. Inputs: [a, b] (broadcast as TFLite does).</summary>
/// <param name="PotScaleInt16">TFLite's pot_scale_int16 of ADD/SUB: int16 operands use power-of-two scales.</param>
public sealed record ElementwiseAttributes(FusedActivation Activation, bool PotScaleInt16 = true) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Activation(Activation);
}

/// <summary>CONV_2D. Inputs: [input NHWC, filter OHWI, bias? (int32 for int8, int64 for int16x8, float32)].</summary>
public sealed record Conv2DAttributes(
    Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, FusedActivation Activation) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join(AttributeText.Window(StrideH, StrideW, Padding), AttributeText.Dilation(DilationH, DilationW), AttributeText.Activation(Activation));
}

/// <summary>DEPTHWISE_CONV_2D. Inputs: [input NHWC, filter 1HW(I*M), bias?].</summary>
public sealed record DepthwiseConv2DAttributes(
    Padding Padding, int StrideH, int StrideW, int DilationH, int DilationW, int DepthMultiplier,
    FusedActivation Activation) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join(AttributeText.Window(StrideH, StrideW, Padding), AttributeText.Dilation(DilationH, DilationW),
        DepthMultiplier == 1 ? "" : $"multiplier {DepthMultiplier}", AttributeText.Activation(Activation));
}

/// <summary>TRANSPOSE_CONV. Inputs: [input NHWC, filter OHWI, bias?]; the output shape operand is <see cref="OutputShape"/>.</summary>
public sealed record TransposeConvAttributes(
    Padding Padding, int StrideH, int StrideW, int[] OutputShape, FusedActivation Activation) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join(AttributeText.Window(StrideH, StrideW, Padding), AttributeText.Activation(Activation));
}

/// <summary>FULLY_CONNECTED. Inputs: [input, weights [units, depth], bias?].</summary>
public sealed record FullyConnectedAttributes(FusedActivation Activation, bool KeepNumDims) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join(KeepNumDims ? "keep dims" : "", AttributeText.Activation(Activation));
}

/// <summary>AVERAGE_POOL_2D and MAX_POOL_2D. Inputs: [input NHWC].</summary>
public sealed record Pool2DAttributes(
    Padding Padding, int StrideH, int StrideW, int FilterH, int FilterW, FusedActivation Activation) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join($"{FilterH}x{FilterW}", AttributeText.Window(StrideH, StrideW, Padding), AttributeText.Activation(Activation));
}

/// <summary>RESHAPE, SQUEEZE, EXPAND_DIMS: the output shape says it all (element order is unchanged). Inputs: [input].</summary>
public sealed record ReshapeAttributes(int[] NewShape) : OpAttributes;

/// <summary>SOFTMAX. Inputs: [input]; softmax runs over the last dimension.</summary>
public sealed record SoftmaxAttributes(float Beta) : OpAttributes
{
    public override string Describe() => $"beta {Beta.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>LEAKY_RELU. Inputs: [input].</summary>
public sealed record LeakyReluAttributes(float Alpha) : OpAttributes
{
    public override string Describe() => $"alpha {Alpha.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>CONCATENATION. Inputs: [x0, x1, …]; <see cref="Axis"/> is normalised to be non-negative.</summary>
public sealed record ConcatenationAttributes(int Axis, FusedActivation Activation) : OpAttributes, IFusedActivation
{
    public override string Describe() => AttributeText.Join($"axis {Axis}", AttributeText.Activation(Activation));
}

/// <summary>
/// PAD and PADV2. Inputs: [input] for PAD (pads with the zero point, or 0), [input, value (scalar constant)] for PADV2.
/// <see cref="Before"/>/<see cref="After"/> hold one entry per input dimension.
/// </summary>
public sealed record PadAttributes(int[] Before, int[] After) : OpAttributes
{
    public override string Describe() => "pad " + string.Join(",", Before.Zip(After, (b, e) => $"{b}/{e}"));
}

/// <summary>MEAN. Inputs: [input]; <see cref="Axes"/> normalised, sorted, distinct.</summary>
public sealed record MeanAttributes(int[] Axes, bool KeepDims) : OpAttributes
{
    public override string Describe() => AttributeText.Join($"axes {string.Join(",", Axes)}", KeepDims ? "keep dims" : "");
}

/// <summary>STRIDED_SLICE. Inputs: [input]; the begin/end/strides operands and masks as in TFLite.</summary>
public sealed record StridedSliceAttributes(
    int[] Begin, int[] End, int[] Strides, int BeginMask, int EndMask, int EllipsisMask, int NewAxisMask,
    int ShrinkAxisMask, bool Offset) : OpAttributes
{
    public override string Describe() => $"begin {string.Join(",", Begin)} end {string.Join(",", End)} strides {string.Join(",", Strides)}";
}

/// <summary>TRANSPOSE. Inputs: [input]; output dimension i is input dimension Permutation[i].</summary>
public sealed record TransposeAttributes(int[] Permutation) : OpAttributes
{
    public override string Describe() => $"perm {string.Join(",", Permutation)}";
}

/// <summary>Pieces of <see cref="OpAttributes.Describe"/> that several attributes share.</summary>
public static class AttributeText
{
    public static string Window(int strideH, int strideW, Padding padding) => $"stride {strideH}x{strideW} {padding.ToString().ToUpperInvariant()}";

    public static string Dilation(int h, int w) => h == 1 && w == 1 ? "" : $"dilation {h}x{w}";

    public static string Activation(FusedActivation activation) => activation == FusedActivation.None ? "" : activation.ToString().ToLowerInvariant();

    public static string Join(params string[] parts) => string.Join(" ", parts.Where(p => p.Length > 0));
}
