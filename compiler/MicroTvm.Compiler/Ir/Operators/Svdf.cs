using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>SVDF, with state: the activation state is a variable tensor the operator updates in place.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Svdf = new()
    {
        Name = "SVDF", BuiltinCode = 27, ChecksAllOperandTypes = true,
        TypesText = "float32, int8 (int8 weights_feature, int8 or int16 weights_time and activation state, int32 bias)",
        Import = r =>
        {
            // [input, weights_feature, weights_time, bias or -1, activation state]
            r.Inputs(5, 5);
            var o = r.Options(6 /* SVDFOptions */);
            return (new SvdfAttributes(o?.Int32(0) ?? 0, r.Activation(o?.Int8(1) ?? 0)),
                new Tensor?[] { r.Required(0, "input"), r.Required(1, "weights_feature"), r.Required(2, "weights_time"), r.Optional(3), r.Required(4, "activation state") });
        },
        CheckTypes = SvdfRules.Unsupported,
        InferShape = s => SvdfRules.OutputShape(s.Node, s.Fail),
        Macs = node =>
        {
            var g = SvdfRules.Dimensions(node); // filters x (input size + memory) per batch
            return (long)g.Batches * g.Filters * (g.InputSize + g.Memory);
        },
        Evaluate = SvdfReference.Svdf,
        Kernel = new SvdfKernel(),
    };
}

/// <summary>SVDF. Inputs (TFLite order): [input [batch, input size], weights_feature [filters, input size],
/// weights_time [filters, memory], bias? [units], activation state (variable) [batch, filters * memory]];
/// units = filters / rank. Output [batch, units].
/// Not <see cref="IFusedActivation"/>: TFLM's integer SVDF ignores the fused activation, so no RELU may be fused into it.</summary>
public sealed record SvdfAttributes(int Rank, FusedActivation Activation) : OpAttributes
{
    public override string Describe() => AttributeText.Join($"rank {Rank}", AttributeText.Activation(Activation));
}

/// <summary>What TFLM's PrepareSvdf checks (svdf_common.cc), in one place for the importer, the shape inference, the
/// evaluator and the code generator.</summary>
public static class SvdfRules
{
    public const int Input = 0, WeightsFeature = 1, WeightsTime = 2, Bias = 3, State = 4;

    /// <summary>The dimensions of a checked SVDF node.</summary>
    public readonly record struct Geometry(int Batches, int InputSize, int Filters, int Memory, int Rank)
    {
        public int Units => Filters / Rank;
    }

    public static Geometry Dimensions(Node node)
    {
        var a = node.AttributesAs<SvdfAttributes>();
        return new Geometry(node.Input(Input).Shape[0], node.Input(Input).Shape[1], node.Input(WeightsFeature).Shape[0],
            node.Input(WeightsTime).Shape[1], a.Rank);
    }

    /// <summary>The output shape, after checking every operand's shape as TFLM does.</summary>
    public static int[] OutputShape(Node node, Func<string, string, CompilerException> fail)
    {
        var a = node.AttributesAs<SvdfAttributes>();
        Tensor Operand(int i, string role) => i < node.Inputs.Count && node.Inputs[i] is { } t ? t
            : throw fail(ErrorCodes.InvalidOperator, $"has no {role} (operand {i})");
        var input = Operand(Input, "input");
        var feature = Operand(WeightsFeature, "weights_feature");
        var time = Operand(WeightsTime, "weights_time");
        var state = Operand(State, "activation state");
        string Text(Tensor t) => t.ShapeText;
        if (input.Rank != 2 || feature.Rank != 2 || time.Rank != 2 || state.Rank != 2)
            throw fail(ErrorCodes.InvalidShape, $"input {Text(input)}, weights_feature {Text(feature)}, weights_time {Text(time)} and the activation state {Text(state)} must all have rank 2");
        int batches = input.Shape[0], filters = feature.Shape[0], memory = time.Shape[1];
        if (a.Rank < 1 || filters % a.Rank != 0)
            throw fail(ErrorCodes.InvalidOperator, $"rank {a.Rank} does not divide the {filters} filters");
        if (feature.Shape[1] != input.Shape[1])
            throw fail(ErrorCodes.InvalidShape, $"weights_feature {Text(feature)} does not match the input size {input.Shape[1]}");
        if (time.Shape[0] != filters)
            throw fail(ErrorCodes.InvalidShape, $"weights_time {Text(time)} needs {filters} rows, one per filter");
        if (node.Inputs.Count > Bias && node.Inputs[Bias] is { } bias && (bias.Rank != 1 || bias.Shape[0] != filters / a.Rank))
            throw fail(ErrorCodes.InvalidShape, $"bias {Text(bias)} needs {filters / a.Rank} values, one per unit");
        if (state.Shape[0] != batches || (long)state.Shape[1] != (long)memory * filters)
            throw fail(ErrorCodes.InvalidShape, $"activation state {Text(state)} must be [{batches}, {(long)memory * filters}] (batch, memory * filters)");
        return new[] { batches, filters / a.Rank };
    }

    /// <summary>The element types and constness TFLM's SVDF takes: float32 throughout, or int8 input and weights_feature,
    /// weights_time and state both int16 or both int8, int32 bias, int8 output; a variable activation state; constant
    /// weights. Null when supported.</summary>
    public static string? Unsupported(Node node)
    {
        if (node.Inputs.Count != 5) return $"has {node.Inputs.Count} operands; SVDF takes 5 (input, weights_feature, weights_time, bias or -1, activation state)";
        var input = node.Input(Input);
        var feature = node.Input(WeightsFeature);
        var time = node.Input(WeightsTime);
        var bias = node.Inputs[Bias];
        var state = node.Input(State);
        var output = node.Output;
        if (!state.IsVariable) return $"activation state {state} must be a variable tensor (TFLM checks is_variable)";
        if (!feature.IsConstant || !time.IsConstant || bias is { IsConstant: false }) return "weights_feature, weights_time and bias must be constant";
        if (input.Type == ElementType.Float32 && node.AttributesAs<SvdfAttributes>().Activation is not (FusedActivation.None or FusedActivation.Relu or FusedActivation.Relu6 or FusedActivation.ReluN1To1))
            return "a float32 SVDF supports the fused activations NONE, RELU, RELU_N1_TO_1 and RELU6";
        if (input.Type == ElementType.Float32)
            return feature.Type == ElementType.Float32 && time.Type == ElementType.Float32 && state.Type == ElementType.Float32
                   && output.Type == ElementType.Float32 && bias is null or { Type: ElementType.Float32 }
                ? null : "a float32 SVDF needs float32 weights, bias, state and output";
        if (input.Type != ElementType.Int8)
            return $"input type {input.Type.DisplayName()} is not supported (float32, int8)";
        if (feature.Type != ElementType.Int8) return $"weights_feature {feature} must be int8";
        if (time.Type is not (ElementType.Int8 or ElementType.Int16) || state.Type != time.Type)
            return $"weights_time {time} and the activation state {state} must both be int16 or both int8";
        if (bias is not null && bias.Type != ElementType.Int32) return $"bias {bias} must be int32";
        if (output.Type != ElementType.Int8) return $"output {output} must be int8";
        foreach (var t in new[] { input, feature, time, state, output })
            if (t.Quantization is null) return $"{t} has no quantization parameters";
        // TFLM's PrepareSvdf: the bias must be on the scale of the time product.
        if (bias?.Quantization is { } bq && Math.Abs((double)bq.Scale - (double)(state.Quantization!.Scale * time.Quantization!.Scale)) >= 1e-5)
            return $"bias scale {bq.Scale:R} differs from activation state scale * weights_time scale {state.Quantization.Scale * time.Quantization.Scale:R} (TFLM requires them within 1e-5)";
        return null;
    }
}
