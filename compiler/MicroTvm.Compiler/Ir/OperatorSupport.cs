using MicroTvm.Compiler.Diagnostics;


namespace MicroTvm.Compiler.Ir;

/// <summary>
/// The one statement of which element types each operator supports (the TFLite reference kernels' float32, int8
/// and "16x8" int16 schemes), and of which tensors must carry quantization parameters. The importer checks every
/// node with it; the evaluator and the code generator may rely on what it accepts.
/// </summary>
public static class OperatorSupport
{
    private static readonly ElementType[] Arithmetic = { ElementType.Float32, ElementType.Int8, ElementType.Int16 };
    private static readonly ElementType[] DataMovement = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };
    private static readonly ElementType[] AnyType = { ElementType.Float32, ElementType.Int8, ElementType.UInt8, ElementType.Int16, ElementType.Int32, ElementType.Int64, ElementType.Bool };

    /// <summary>Element types of the operator's main input (for QUANTIZE: of its output).</summary>
    public static IReadOnlyList<ElementType> SupportedTypes(OpKind kind) => kind switch
    {
        OpKind.Reshape or OpKind.Squeeze or OpKind.ExpandDims => AnyType,
        OpKind.Maximum or OpKind.Minimum or OpKind.Concatenation or OpKind.Pad or OpKind.PadV2 or OpKind.StridedSlice
            or OpKind.Transpose => DataMovement,
        OpKind.HardSwish => new[] { ElementType.Float32, ElementType.Int8 },
        OpKind.Quantize => new[] { ElementType.Int8, ElementType.Int16 },
        OpKind.Dequantize => new[] { ElementType.Int8, ElementType.Int16 },
        _ => Arithmetic,
    };

    /// <summary>Operators whose int8/int16 tensors are only moved, so they need no quantization parameters.</summary>
    public static bool MovesDataOnly(OpKind kind) =>
        kind is OpKind.Reshape or OpKind.Squeeze or OpKind.ExpandDims or OpKind.Transpose or OpKind.StridedSlice;

    /// <summary>CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED: [input, weights, bias?].</summary>
    public static bool HasWeights(OpKind kind) =>
        kind is OpKind.Conv2D or OpKind.DepthwiseConv2D or OpKind.TransposeConv or OpKind.FullyConnected;

    /// <summary>A readable line of the whole matrix, for messages and the CLI.</summary>
    public static string Describe(OpKind kind) => kind switch
    {
        OpKind.Quantize => "float32/int8/int16 -> int8/int16",
        OpKind.Dequantize => "int8/int16 -> float32",
        OpKind.Softmax => "float32, int8 (-> int8 or int16), int16",
        _ when HasWeights(kind) => "float32 (float32 weights/bias), int8 (int8 weights, int32 bias), int16 (int8 weights, int64 or int32 bias)",
        _ => string.Join(", ", SupportedTypes(kind).Select(t => t.DisplayName())),
    };

    /// <summary>Checks the element types and quantization of <paramref name="node"/>'s operands.</summary>
    public static void Check(Node node, string? file)
    {
        CompilerException Fail(string code, string message) =>
            new(code, $"{node}: {message}") { File = file, OperatorIndex = node.Index, OperatorName = node.Kind.TfliteName() };
        CompilerException Unsupported(string what) =>
            Fail(ErrorCodes.UnsupportedElementType, $"{what}; {node.Kind.TfliteName()} supports {Describe(node.Kind)}");

        var kind = node.Kind;
        var input = node.Inputs.Count > 0 ? node.Inputs[0] : null;
        if (input is null)
            throw Fail(ErrorCodes.InvalidOperator, "has no input");
        var output = node.Output;
        var supported = SupportedTypes(kind);

        switch (kind)
        {
            case OpKind.Quantize:
                if (input.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16) || !supported.Contains(output.Type))
                    throw Unsupported($"converts {input.Type.DisplayName()} to {output.Type.DisplayName()}");
                break;
            case OpKind.Dequantize:
                if (!supported.Contains(input.Type) || output.Type != ElementType.Float32)
                    throw Unsupported($"converts {input.Type.DisplayName()} to {output.Type.DisplayName()}");
                break;
            case OpKind.Softmax:
                if (!supported.Contains(input.Type) || !(output.Type == input.Type || (input.Type == ElementType.Int8 && output.Type == ElementType.Int16)))
                    throw Unsupported($"maps {input.Type.DisplayName()} to {output.Type.DisplayName()}");
                break;
            default:
                if (!supported.Contains(input.Type))
                    throw Unsupported($"input {input} has element type {input.Type.DisplayName()}");
                if (output.Type != input.Type)
                    throw Unsupported($"output {output} has element type {output.Type.DisplayName()}, the input {input.Type.DisplayName()}");
                break;
        }

        if (HasWeights(kind))
        {
            var weights = node.Inputs.Count > 1 ? node.Inputs[1] : null;
            if (weights is null) throw Fail(ErrorCodes.InvalidOperator, "has no weights");
            var expectedWeights = input.Type == ElementType.Float32 ? ElementType.Float32 : ElementType.Int8;
            if (weights.Type != expectedWeights)
                throw Unsupported($"weights {weights} have element type {weights.Type.DisplayName()} with {input.Type.DisplayName()} activations");
            if (node.Bias is { } bias)
            {
                bool ok = input.Type switch
                {
                    ElementType.Float32 => bias.Type == ElementType.Float32,
                    ElementType.Int8 => bias.Type == ElementType.Int32,
                    _ => bias.Type is ElementType.Int64 or ElementType.Int32,
                };
                if (!ok) throw Unsupported($"bias {bias} has element type {bias.Type.DisplayName()} with {input.Type.DisplayName()} activations");
            }
        }
        else
        {
            // Every other operand has the input's type (PADV2's value, both sides of ADD, all CONCATENATION inputs).
            foreach (var other in node.Inputs.Skip(1))
                if (other is not null && other.Type != input.Type && kind is not (OpKind.Quantize or OpKind.Dequantize))
                    throw Unsupported($"operand {other} has element type {other.Type.DisplayName()}, the first input {input.Type.DisplayName()}");
        }

        CheckFusedActivation(node, Fail);
        if (!MovesDataOnly(kind))
            CheckQuantization(node, Fail);
    }

    /// <summary>The fused activation of <paramref name="attributes"/>, for operators that have one.</summary>
    public static FusedActivation? FusedActivationOf(OpAttributes attributes) => attributes switch
    {
        Conv2DAttributes a => a.Activation,
        DepthwiseConv2DAttributes a => a.Activation,
        TransposeConvAttributes a => a.Activation,
        FullyConnectedAttributes a => a.Activation,
        Pool2DAttributes a => a.Activation,
        ElementwiseAttributes a => a.Activation,
        ConcatenationAttributes a => a.Activation,
        _ => null,
    };

    // TFLite's kernels clamp to a range for NONE/RELU/RELU_N1_TO_1/RELU6 and reject TANH and SIGN_BIT; its
    // CONCATENATION accepts no fused activation at all.
    private static void CheckFusedActivation(Node node, Func<string, string, CompilerException> fail)
    {
        var activation = FusedActivationOf(node.Attributes);
        if (activation is FusedActivation.Tanh or FusedActivation.SignBit)
            throw fail(ErrorCodes.UnsupportedFeature, $"fused activation {Name(activation.Value)} is not supported (supported: NONE, RELU, RELU_N1_TO_1, RELU6)");
        if (node.Kind == OpKind.Concatenation && activation is not (null or FusedActivation.None))
            throw fail(ErrorCodes.UnsupportedFeature, $"fused activation {Name(activation.Value)} on CONCATENATION is not supported (TFLite does not support it either)");
    }

    private static string Name(FusedActivation activation) => activation switch
    {
        FusedActivation.ReluN1To1 => "RELU_N1_TO_1",
        FusedActivation.SignBit => "SIGN_BIT",
        _ => activation.ToString().ToUpperInvariant(),
    };

    private static bool IsSoftmaxInt8ToInt16Output(Node node, int inputIndex) =>
        node.Kind == OpKind.Softmax && inputIndex < 0 && node.Inputs[0] is { Type: ElementType.Int8 };

    /// <summary>
    /// TFLite Micro's quantized SOFTMAX writes probabilities on a fixed grid and checks the output says so:
    /// int8 zero point -128 and scale exactly 1/256; int8 to int16 zero point -32768 and scale 1/65536, int16 zero
    /// point 0 and scale 1/32768, each within 0.1 %. The kernels compute on that grid whatever the output claims.
    /// </summary>
    private static void CheckSoftmaxOutputQuantization(Node node, Func<string, string, CompilerException> fail)
    {
        var (input, output) = (node.Inputs[0]!, node.Output);
        if (output.Quantization is not { } q || output.Type is not (ElementType.Int8 or ElementType.Int16)) return;
        var (zeroPoint, scale, exact) = (input.Type, output.Type) switch
        {
            (ElementType.Int8, ElementType.Int8) => (-128, 1.0 / 256, true),
            (ElementType.Int8, ElementType.Int16) => (-32768, 1.0 / 65536, false),
            _ => (0, 1.0 / 32768, false),
        };
        bool scaleOk = exact ? q.Scale == (float)scale : Math.Abs(q.Scale - scale) <= 0.001 * scale;
        if (q.ZeroPoints[0] != zeroPoint || !scaleOk)
            throw fail(ErrorCodes.InvalidQuantization,
                $"output {output} has {q}; a {input.Type.DisplayName()} to {output.Type.DisplayName()} SOFTMAX needs zero point {zeroPoint} and scale {(exact ? "" : "about ")}1/{Math.Round(1 / scale)} (as TFLite Micro checks)");
    }

    private static void CheckQuantization(Node node, Func<string, string, CompilerException> fail)
    {
        var operands = node.Inputs.Select((t, i) => (Tensor: t, Role: $"operand {i}", Index: i))
            .Concat(node.Outputs.Select((t, i) => ((Tensor?)t, $"output {i}", -1)));
        foreach (var (tensor, role, index) in operands)
        {
            if (tensor is null || tensor.Type is not (ElementType.Int8 or ElementType.Int16)) continue;
            var q = tensor.Quantization;
            bool isWeights = HasWeights(node.Kind) && index == 1;
            if (q is null)
                throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is {tensor.Type.DisplayName()} but has no quantization parameters");
            if (q.IsPerChannel)
            {
                if (!isWeights)
                    throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is quantized per channel; only weights may be");
                // As TFLite Micro: the scales run along the operator's output-channel dimension whatever the
                // tensor's quantized_dimension says; only their count is checked.
                int channelDimension = node.Kind == OpKind.DepthwiseConv2D ? 3 : 0;
                if (tensor.Rank <= channelDimension || tensor.Shape[channelDimension] != q.Scales.Count)
                    throw fail(ErrorCodes.InvalidQuantization,
                        $"weights {tensor} have {q.Scales.Count} per-channel scales; {node.Kind.TfliteName()} needs one per output channel (dimension {channelDimension})");
            }
            else if (tensor.Type == ElementType.Int16 && !isWeights && q.ZeroPoints[0] != 0 && !IsSoftmaxInt8ToInt16Output(node, index))
            {
                throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is int16 with zero point {q.ZeroPoints[0]}; int16 tensors must be symmetric (zero point 0)");
            }
        }

        if (node.Kind == OpKind.Softmax) CheckSoftmaxOutputQuantization(node, fail);

        // TFLite Micro's quantized CONCATENATION copies stored values and refuses inputs it would have to requantize.
        if (node.Kind == OpKind.Concatenation && node.Output.Quantization is { } outputQ)
        {
            foreach (var operand in node.Inputs)
            {
                if (operand?.Quantization is { } inputQ && (inputQ.Scale != outputQ.Scale || inputQ.ZeroPoint != outputQ.ZeroPoint))
                    throw fail(ErrorCodes.InvalidQuantization,
                        $"input {operand} has quantization {inputQ}, the output {outputQ}; quantized CONCATENATION needs every input quantized exactly like its output (TFLite Micro does not requantize)");
            }
        }
    }
}
