using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>
/// CONV_2D, one-channel DEPTHWISE_CONV_2D and FULLY_CONNECTED as one matrix product over NHWC images
/// (FULLY_CONNECTED: 1x1 images, depth channels): the shape the DSP and Helium matrix-product kernels share, and the
/// one rule for which operators they take.
/// </summary>
internal sealed record GemmShape(int Batches, int InH, int InW, int InC, int OutH, int OutW, int OutC,
    int FilterH, int FilterW, int StrideH, int StrideW, int PadH, int PadW, FusedActivation Activation)
{
    /// <summary>Bytes of one filter row (fy), padded to whole words (for kernels that read words).</summary>
    public int RowBytes => (FilterW * InC + 3) / 4 * 4;

    /// <summary>Length of a column of word-padded rows (and of a re-laid filter row set) in int8 values.</summary>
    public int ColumnLength => FilterH * RowBytes;

    public bool Padded => RowBytes != FilterW * InC;

    public int Pixels => Batches * OutH * OutW;

    /// <summary>False when every column is one input pixel as it is (pointwise, stride 1, no padding).</summary>
    public bool Spatial => FilterH > 1 || FilterW > 1 || PadH > 0 || PadW > 0 || StrideH > 1 || StrideW > 1 || InH != OutH || InW != OutW;

    /// <summary>True for the int8 operators a matrix-product kernel takes: CONV_2D and a depthwise convolution of one
    /// input channel (an ordinary convolution with the multiplier as output channels) without dilation, and
    /// FULLY_CONNECTED, each where the portable kernel supports it and the requantization fits.</summary>
    public static bool Takes(Node node)
    {
        if (node.Input(0).Type != ElementType.Int8) return false;
        switch (node.Attributes)
        {
            case DepthwiseConv2DAttributes:
                return node.Input(0).Rank == 4 && node.Input(0).Shape[3] == 1 && TargetEligibility.Depthwise(node) is not null;
            case Conv2DAttributes a:
                return a.DilationH == 1 && a.DilationW == 1 && TargetEligibility.Unsupported(node) is null
                    && TargetEligibility.RequantizationFits(node, node.Output.Shape[3], a.Activation);
            case FullyConnectedAttributes f:
                return TargetEligibility.Unsupported(node) is null
                    && TargetEligibility.RequantizationFits(node, node.Input(1).Shape[0], f.Activation);
            default:
                return false;
        }
    }

    public static GemmShape Of(Node node)
    {
        var input = node.Input(0);
        var filter = node.Input(1);
        var output = node.Output;
        if (node.Kind == OpKind.FullyConnected)
        {
            int depth = filter.Shape[1];
            return new GemmShape((int)(input.ElementCount / depth), 1, 1, depth, 1, 1, filter.Shape[0], 1, 1, 1, 1, 0, 0,
                node.AttributesAs<FullyConnectedAttributes>().Activation);
        }

        Padding padding;
        int sh, sw;
        FusedActivation activation;
        if (node.Kind == OpKind.DepthwiseConv2D)
        {
            var d = node.AttributesAs<DepthwiseConv2DAttributes>();
            (padding, sh, sw, activation) = (d.Padding, d.StrideH, d.StrideW, d.Activation);
        }
        else
        {
            var a = node.AttributesAs<Conv2DAttributes>();
            (padding, sh, sw, activation) = (a.Padding, a.StrideH, a.StrideW, a.Activation);
        }

        int fh = filter.Shape[1], fw = filter.Shape[2];
        return new GemmShape(input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], output.Shape[1], output.Shape[2], output.Shape[3],
            fh, fw, sh, sw,
            ConvGeometry.PaddingBefore(padding, input.Shape[1], fh, sh, 1), ConvGeometry.PaddingBefore(padding, input.Shape[2], fw, sw, 1),
            activation);
    }
}
