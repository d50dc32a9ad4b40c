using MicroTvm.Compiler.Diagnostics;


namespace MicroTvm.Compiler.Ir;

/// <summary>
/// The one statement of which element types each operator supports (the TFLite reference kernels' float32, int8
/// and "16x8" int16 schemes), and of which tensors must carry quantization parameters. The importer checks every
/// node with it; the evaluator and the code generator may rely on what it accepts.
/// </summary>
public static class OperatorSupport
{
    /// <summary>float32 and the int8 and 16x8 schemes: the default of <see cref="OpKind.Types"/>.</summary>
    public static readonly ElementType[] Arithmetic = { ElementType.Float32, ElementType.Int8, ElementType.Int16 };

    /// <summary>What operators that move values accept.</summary>
    public static readonly ElementType[] DataMovement = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };

    /// <summary>Every element type (RESHAPE and its relatives only reinterpret bytes).</summary>
    public static readonly ElementType[] AnyType = { ElementType.Float32, ElementType.Int8, ElementType.UInt8, ElementType.Int16, ElementType.Int32, ElementType.Int64, ElementType.Bool };

    /// <summary>How messages describe the types of operators with weights.</summary>
    public const string WeightsTypesText = "float32 (float32 weights/bias), int8 (int8 weights, int32 bias), int16 (int8 weights, int64 or int32 bias)";

    /// <summary>Checks the element types and quantization of <paramref name="node"/>'s operands.</summary>
    public static void Check(Node node, string? file)
    {
        CompilerException Fail(string code, string message) =>
            new(code, $"{node}: {message}") { File = file, OperatorIndex = node.Index, OperatorName = node.Kind.Name };
        CompilerException Unsupported(string what) =>
            Fail(ErrorCodes.UnsupportedElementType, $"{what}; {node.Kind.Name} supports {node.Kind.TypesText}");

        var kind = node.Kind;
        if (kind.CheckOperands is { } checkOperands)
        {
            checkOperands(node, Fail);
            return;
        }

        var input = node.Inputs.Count > 0 ? node.Inputs[0] : null;
        if (input is null)
            throw Fail(ErrorCodes.InvalidOperator, "has no input");
        var output = node.Output;
        if (kind.CheckTypes is { } check)
        {
            if (check(node) is { } wrong) throw Unsupported(wrong);
        }
        else
        {
            if (!kind.Types.Contains(input.Type))
                throw Unsupported($"input {input} has element type {input.Type.DisplayName()}");
            if (output.Type != input.Type)
                throw Unsupported($"output {output} has element type {output.Type.DisplayName()}, the input {input.Type.DisplayName()}");
        }

        if (kind.HasWeights)
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
        else if (!kind.ChecksAllOperandTypes)
        {
            // Every other operand has the input's type (PADV2's value, both sides of ADD, all CONCATENATION inputs).
            foreach (var other in node.Inputs.Skip(1))
                if (other is not null && other.Type != input.Type)
                    throw Unsupported($"operand {other} has element type {other.Type.DisplayName()}, the first input {input.Type.DisplayName()}");
        }

        CheckFusedActivation(node, Fail);
        if (!kind.MovesDataOnly)
            CheckQuantization(node, Fail);
    }

    /// <summary>The fused activation of <paramref name="attributes"/>, for operators that have one.</summary>
    public static FusedActivation? FusedActivationOf(OpAttributes attributes) => (attributes as IFusedActivation)?.Activation;

    // TFLite's kernels clamp to a range for NONE/RELU/RELU_N1_TO_1/RELU6 and reject TANH and SIGN_BIT; its
    // CONCATENATION accepts no fused activation at all.
    private static void CheckFusedActivation(Node node, Func<string, string, CompilerException> fail)
    {
        var activation = FusedActivationOf(node.Attributes);
        if (activation is FusedActivation.Tanh or FusedActivation.SignBit)
            throw fail(ErrorCodes.UnsupportedFeature, $"fused activation {Name(activation.Value)} is not supported (supported: NONE, RELU, RELU_N1_TO_1, RELU6)");
        if (!node.Kind.AcceptsFusedActivation && activation is not (null or FusedActivation.None))
            throw fail(ErrorCodes.UnsupportedFeature, $"fused activation {Name(activation.Value)} on {node.Kind.Name} is not supported (TFLite does not support it either)");
    }

    private static string Name(FusedActivation activation) => activation switch
    {
        FusedActivation.ReluN1To1 => "RELU_N1_TO_1",
        FusedActivation.SignBit => "SIGN_BIT",
        _ => activation.ToString().ToUpperInvariant(),
    };

    private static void CheckQuantization(Node node, Func<string, string, CompilerException> fail)
    {
        var operands = node.Inputs.Select((t, i) => (Tensor: t, Role: $"operand {i}", Index: i))
            .Concat(node.Outputs.Select((t, i) => ((Tensor?)t, $"output {i}", -1)));
        foreach (var (tensor, role, index) in operands)
        {
            if (tensor is null || tensor.Type is not (ElementType.Int8 or ElementType.Int16)) continue;
            var q = tensor.Quantization;
            bool isWeights = node.Kind.HasWeights && index == 1;
            if (q is null)
                throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is {tensor.Type.DisplayName()} but has no quantization parameters");
            if (q.IsPerChannel)
            {
                if (!isWeights)
                    throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is quantized per channel; only weights may be");
                // As TFLite Micro: the scales run along the operator's output-channel dimension whatever the
                // tensor's quantized_dimension says; only their count is checked.
                int channelDimension = node.Kind.ChannelDimension;
                if (tensor.Rank <= channelDimension || tensor.Shape[channelDimension] != q.Scales.Count)
                    throw fail(ErrorCodes.InvalidQuantization,
                        $"weights {tensor} have {q.Scales.Count} per-channel scales; {node.Kind.Name} needs one per output channel (dimension {channelDimension})");
            }
            else if (tensor.Type == ElementType.Int16 && !isWeights && q.ZeroPoints[0] != 0 && !node.Kind.AnyInt16ZeroPoint && !(index < 0 && node.Kind.AsymmetricInt16Output?.Invoke(node) == true))
            {
                throw fail(ErrorCodes.InvalidQuantization, $"{role} {tensor} is int16 with zero point {q.ZeroPoints[0]}; int16 tensors must be symmetric (zero point 0)");
            }
        }

        node.Kind.CheckQuantization?.Invoke(node, fail);
    }
}
