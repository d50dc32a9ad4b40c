namespace MicroTvm.Compiler.Ir;

/// <summary>The operators the compiler understands. Each maps to one TFLite builtin operator.</summary>
public enum OpKind
{
    Add,
    Sub,
    Mul,
    Conv2D,
    DepthwiseConv2D,
    TransposeConv,
    FullyConnected,
    AveragePool2D,
    MaxPool2D,
    Reshape,
    Squeeze,
    ExpandDims,
    Softmax,
    Logistic,
    Tanh,
    Relu,
    Relu6,
    LeakyRelu,
    HardSwish,
    Quantize,
    Dequantize,
    Concatenation,
    Pad,
    PadV2,
    Mean,
    StridedSlice,
    Transpose,
    Maximum,
    Minimum,
}

public static class OpKindExtensions
{
    /// <summary>The TFLite builtin operator name (CONV_2D, …), used in every message a user reads.</summary>
    public static string TfliteName(this OpKind kind) => kind switch
    {
        OpKind.Add => "ADD",
        OpKind.Sub => "SUB",
        OpKind.Mul => "MUL",
        OpKind.Conv2D => "CONV_2D",
        OpKind.DepthwiseConv2D => "DEPTHWISE_CONV_2D",
        OpKind.TransposeConv => "TRANSPOSE_CONV",
        OpKind.FullyConnected => "FULLY_CONNECTED",
        OpKind.AveragePool2D => "AVERAGE_POOL_2D",
        OpKind.MaxPool2D => "MAX_POOL_2D",
        OpKind.Reshape => "RESHAPE",
        OpKind.Squeeze => "SQUEEZE",
        OpKind.ExpandDims => "EXPAND_DIMS",
        OpKind.Softmax => "SOFTMAX",
        OpKind.Logistic => "LOGISTIC",
        OpKind.Tanh => "TANH",
        OpKind.Relu => "RELU",
        OpKind.Relu6 => "RELU6",
        OpKind.LeakyRelu => "LEAKY_RELU",
        OpKind.HardSwish => "HARD_SWISH",
        OpKind.Quantize => "QUANTIZE",
        OpKind.Dequantize => "DEQUANTIZE",
        OpKind.Concatenation => "CONCATENATION",
        OpKind.Pad => "PAD",
        OpKind.PadV2 => "PADV2",
        OpKind.Mean => "MEAN",
        OpKind.StridedSlice => "STRIDED_SLICE",
        OpKind.Transpose => "TRANSPOSE",
        OpKind.Maximum => "MAXIMUM",
        OpKind.Minimum => "MINIMUM",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
