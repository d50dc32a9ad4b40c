using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Ir;

/// <summary>A custom operator (TFLite CUSTOM): the project's C function <see cref="Function"/> runs it.</summary>
/// <param name="Code">The model's custom_code.</param>
/// <param name="Options">The custom_options bytes, handed to the function unread (a const array in flash).</param>
/// <param name="ScratchBytes">Working memory the function gets from the workspace plan.</param>
public sealed record CustomAttributes(string Code, byte[] Options, long ScratchBytes) : OpAttributes
{
    public string Function => new CustomOperator(Code).Function;

    public override string Describe() => AttributeText.Join($"'{Code}'", $"{Options.Length} option bytes", ScratchBytes > 0 ? $"{ScratchBytes} scratch bytes" : "");
}

public sealed partial class OpKind
{
    /// <summary>CUSTOM: a custom operator whose C implementation the project supplies (<see cref="CustomOperators"/>);
    /// any operands of any type, outputs of the shapes the model declares (as TFLite Micro's custom operators take them
    /// in Prepare). The reference evaluator cannot run it.</summary>
    public static readonly OpKind Custom = new()
    {
        Name = "CUSTOM", BuiltinCode = 32,
        Types = OperatorSupport.AnyType,
        TypesText = "any type (its C implementation decides)",
        Import = r =>
        {
            var custom = r.Custom!;
            for (int k = 0; k < r.OutputCount; k++)
                if (r.RawOutput(k) is { ShapeSignature: { } signature } raw && DynamicDimension(raw.Shape, signature) is { } dim)
                    throw r.Error(ErrorCodes.CustomOperatorDynamicShape,
                        $"output {k} (tensor {raw.Index} '{raw.Name}') has a dynamic dimension {dim} (shape signature [{string.Join(",", signature)}]); "
                        + "a custom operator's outputs must have the static shapes the model declares");
            var inputs = Enumerable.Range(0, r.InputCount).Select(r.Optional).ToArray();
            return (new CustomAttributes(custom.Name, r.CustomOptions, custom.ScratchBytes), inputs);
        },
        InferShape = s => s.Node.Output.Shape,
        InferShapes = s => s.Node.Outputs.Select(t => t.Shape).ToArray(),
        // Its operands are whatever its implementation takes: no type or quantization rule applies.
        CheckOperands = (_, _) => { },
        Evaluate = (node, _) =>
        {
            var custom = node.AttributesAs<CustomAttributes>();
            throw new CompilerException(ErrorCodes.CustomOperatorNotEvaluable,
                $"{node}: the reference evaluator cannot run custom operator '{custom.Code}': its implementation is C code of the project, so outputs cannot be computed or checked on the host")
            {
                OperatorIndex = node.Index, OperatorName = node.Kind.Name,
            };
        },
        Kernel = new CustomOperatorKernel(),
    };

    /// <summary>A dimension the converter did not know (-1 in the shape signature), other than a leading batch of 1 (TFLite
    /// Micro runs batch 1, as every model's tensors say); null when the shape is static.</summary>
    private static int? DynamicDimension(int[] shape, int[] signature)
    {
        if (signature.Length != shape.Length) return signature.Length == 0 ? null : 0;
        for (int d = 0; d < signature.Length; d++)
            if (signature[d] < 0 && !(d == 0 && shape[d] == 1)) return d;
        return null;
    }
}
