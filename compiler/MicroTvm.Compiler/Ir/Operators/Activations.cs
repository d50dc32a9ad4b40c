using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Activations: [input], output shaped like the input.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Relu = Activations.Unary("RELU", 19, ActivationReference.Relu);

    public static readonly OpKind Relu6 = Activations.Unary("RELU6", 21, ActivationReference.Relu6);

    public static readonly OpKind Logistic = Activations.Unary("LOGISTIC", 14, ActivationReference.Logistic);

    public static readonly OpKind Tanh = Activations.Unary("TANH", 28, ActivationReference.Tanh);

    public static readonly OpKind HardSwish = Activations.Unary("HARD_SWISH", 117, ActivationReference.HardSwish, new[] { ElementType.Float32, ElementType.Int8 });

    public static readonly OpKind LeakyRelu = new()
    {
        Name = "LEAKY_RELU", BuiltinCode = 98,
        Import = r =>
        {
            r.Inputs(1, 1);
            var o = r.Options(75 /* LeakyReluOptions */);
            return (new LeakyReluAttributes(o?.Float32(0) ?? 0f), r.Data(0));
        },
        InferShape = s => s.SameAsInput(),
        Evaluate = ActivationReference.LeakyRelu,
        Kernel = Activations.Kernel,
    };

    public static readonly OpKind Softmax = new()
    {
        Name = "SOFTMAX", BuiltinCode = 25, TypesText = "float32, int8 (-> int8 or int16), int16",
        Import = r =>
        {
            r.Inputs(1, 1);
            var o = r.Options(9 /* SoftmaxOptions */);
            return (new SoftmaxAttributes(o?.Float32(0) ?? 0f), r.Data(0));
        },
        CheckTypes = node =>
        {
            var (input, output) = (node.Input(0), node.Output);
            return OperatorSupport.Arithmetic.Contains(input.Type) && (output.Type == input.Type || (input.Type == ElementType.Int8 && output.Type == ElementType.Int16))
                ? null
                : $"maps {input.Type.DisplayName()} to {output.Type.DisplayName()}";
        },
        AsymmetricInt16Output = node => node.Inputs[0] is { Type: ElementType.Int8 },
        CheckQuantization = Activations.CheckSoftmaxOutput,
        InferShape = s => s.Input(0).Rank == 0
            ? throw s.Fail(ErrorCodes.InvalidShape, $"input {s.Input(0)} is a scalar; softmax needs at least one dimension")
            : s.SameAsInput(),
        Evaluate = SoftmaxReference.Softmax,
        Kernel = new SoftmaxKernel(),
    };
}

file static class Activations
{
    public static readonly Kernel Kernel = new UnaryKernel();

    /// <summary>An activation without options or attributes.</summary>
    public static OpKind Unary(string name, int builtinCode, Action<Node, TensorValues> evaluate, ElementType[]? types = null) => new()
    {
        Name = name, BuiltinCode = builtinCode, Types = types ?? OperatorSupport.Arithmetic,
        Import = Import,
        InferShape = s => s.SameAsInput(),
        Evaluate = evaluate,
        Kernel = Kernel,
    };

    private static (OpAttributes, Tensor?[]) Import(OperandReader r)
    {
        r.Inputs(1, 1);
        return (NoAttributes.Instance, r.Data(0));
    }

    /// <summary>
    /// TFLite Micro's quantized SOFTMAX writes probabilities on a fixed grid and checks the output says so:
    /// int8 zero point -128 and scale exactly 1/256; int8 to int16 zero point -32768 and scale 1/65536, int16 zero
    /// point 0 and scale 1/32768, each within 0.1 %. The kernels compute on that grid whatever the output claims.
    /// </summary>
    public static void CheckSoftmaxOutput(Node node, Func<string, string, CompilerException> fail)
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
}
