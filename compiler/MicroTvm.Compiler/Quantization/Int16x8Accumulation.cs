using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Quantization;

/// <summary>
/// How TFLite Micro accumulates a 16x8 layer (int16 activations, int8 weights): in int64, rescaled with the 64-bit
/// multiply, for DEPTHWISE_CONV_2D and TRANSPOSE_CONV always and for CONV_2D and FULLY_CONNECTED only with an int64
/// bias (int32 or no bias: int32). The reference evaluator and the C kernels both ask here.
/// </summary>
internal static class Int16x8Accumulation
{
    /// <summary>Whether a 16x8 layer accumulates in int64 and rescales with the 64-bit multiply.</summary>
    public static bool InInt64(Node node) =>
        node.Kind == OpKind.DepthwiseConv2D || node.Kind == OpKind.TransposeConv || node.Bias?.Type == ElementType.Int64;

    /// <summary>Bias types TFLite Micro accepts for int16 activations with int8 weights.</summary>
    public static ElementType[] BiasTypes(OpKind kind) =>
        kind == OpKind.DepthwiseConv2D ? [ElementType.Int64]
        : kind == OpKind.TransposeConv ? [ElementType.Int64, ElementType.Int16]
        : [ElementType.Int64, ElementType.Int32];

    /// <summary><see cref="BiasTypes"/> as messages print them ("int64 or int32").</summary>
    public static string BiasTypesText(OpKind kind) => string.Join(" or ", BiasTypes(kind).Select(t => t.DisplayName()));
}
