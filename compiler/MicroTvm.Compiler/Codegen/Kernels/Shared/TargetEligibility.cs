using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// What the DSP and Helium convolution kernels ask of a node before they take it from the portable kernel: int8,
/// supported by the portable kernel (whose reason they give when it is not), no dilation, and a requantization that
/// mtvm_requantize can do. Each kernel then adds its own shape rule.
/// </summary>
internal static class TargetEligibility
{
    private static readonly ConvolutionKernel Convolution = new();
    private static readonly FullyConnectedKernel FullyConnected = new();

    /// <summary>The portable kernel's reason for not supporting <paramref name="node"/>, or null.</summary>
    public static string? Unsupported(Node node) =>
        node.Kind == OpKind.FullyConnected ? FullyConnected.Unsupported(node) : Convolution.Unsupported(node);

    /// <summary>mtvm_requantize handles shifts in [-31, 30] and multipliers other than INT32_MIN; anything else
    /// (absurd scales) stays with the portable kernel.</summary>
    public static bool RequantizationFits(Node node, int channels, FusedActivation activation)
    {
        var q = ConvQuantization.Derive(node.Input(0), node.Input(1), node.Output, channels, activation);
        return q.OutputShifts.All(s => s is >= -31 and <= 30) && q.OutputMultipliers.All(m => m != int.MinValue);
    }

    /// <summary>The attributes of an int8 DEPTHWISE_CONV_2D without dilation that the portable kernel supports and
    /// whose requantization fits; null for any other node.</summary>
    public static DepthwiseConv2DAttributes? Depthwise(Node node)
    {
        if (node.Kind != OpKind.DepthwiseConv2D || node.Input(0).Type != ElementType.Int8 || Convolution.Unsupported(node) is not null) return null;
        var a = node.AttributesAs<DepthwiseConv2DAttributes>();
        return a.DilationH == 1 && a.DilationW == 1 && RequantizationFits(node, node.Output.Shape[3], a.Activation) ? a : null;
    }
}
