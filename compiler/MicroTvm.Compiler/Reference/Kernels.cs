using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>Dispatches a node to its kernel.</summary>
internal static class Kernels
{
    public static void Run(Node node, TensorValues values)
    {
        switch (node.Kind)
        {
            case OpKind.Conv2D: ConvolutionKernels.Conv2D(node, values); break;
            case OpKind.DepthwiseConv2D: ConvolutionKernels.DepthwiseConv2D(node, values); break;
            case OpKind.FullyConnected: ConvolutionKernels.FullyConnected(node, values); break;
            case OpKind.AveragePool2D: PoolingKernels.AveragePool2D(node, values); break;
            case OpKind.MaxPool2D: PoolingKernels.MaxPool2D(node, values); break;
            case OpKind.Reshape:
            case OpKind.Squeeze:
            case OpKind.ExpandDims: LayoutKernels.Reshape(node, values); break;
            case OpKind.Softmax: SoftmaxKernel.Softmax(node, values); break;
            case OpKind.Add: ElementwiseKernels.AddOrSub(node, values, subtract: false); break;
            case OpKind.Sub: ElementwiseKernels.AddOrSub(node, values, subtract: true); break;
            case OpKind.Mul: ElementwiseKernels.Mul(node, values); break;
            case OpKind.Maximum: ElementwiseKernels.MaximumOrMinimum(node, values, maximum: true); break;
            case OpKind.Minimum: ElementwiseKernels.MaximumOrMinimum(node, values, maximum: false); break;
            case OpKind.Quantize: QuantizeKernels.Quantize(node, values); break;
            case OpKind.Dequantize: QuantizeKernels.Dequantize(node, values); break;
            case OpKind.TransposeConv: ConvolutionKernels.TransposeConv(node, values); break;
            case OpKind.Relu: ActivationKernels.Relu(node, values); break;
            case OpKind.Relu6: ActivationKernels.Relu6(node, values); break;
            case OpKind.LeakyRelu: ActivationKernels.LeakyRelu(node, values); break;
            case OpKind.HardSwish: ActivationKernels.HardSwish(node, values); break;
            case OpKind.Logistic: ActivationKernels.Logistic(node, values); break;
            case OpKind.Tanh: ActivationKernels.Tanh(node, values); break;
            case OpKind.Transpose: LayoutKernels.Transpose(node, values); break;
            case OpKind.Concatenation: LayoutKernels.Concatenation(node, values); break;
            case OpKind.Pad:
            case OpKind.PadV2: LayoutKernels.Pad(node, values); break;
            case OpKind.StridedSlice: LayoutKernels.StridedSlice(node, values); break;
            case OpKind.Mean: MeanKernel.Mean(node, values); break;
            default: throw Unsupported(node);
        }
    }

    /// <summary>The error for an operator whose element types (or kind) the evaluator does not implement.</summary>
    public static CompilerException Unsupported(Node node)
    {
        string types = string.Join(", ", node.Inputs.Select(t => t is null ? "-" : t.Type.DisplayName()));
        return new CompilerException(
            ErrorCodes.UnsupportedOperatorType,
            $"{node}: operator/type combination not supported (inputs {types} -> output {node.Outputs[0].Type.DisplayName()})")
        {
            OperatorIndex = node.Index,
            OperatorName = node.Kind.TfliteName(),
        };
    }

    /// <summary>The error for an operator whose operands contradict its attributes (a graph the importer should not produce).</summary>
    public static CompilerException Invalid(Node node, string message) =>
        new(ErrorCodes.InvalidOperator, $"{node}: {message}") { OperatorIndex = node.Index, OperatorName = node.Kind.TfliteName() };
}
