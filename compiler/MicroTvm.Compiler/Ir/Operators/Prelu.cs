using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>PRELU: [input, alpha] broadcast as TFLite does -> input where it is non-negative, else input·alpha;
    /// float32, int8, and int16 with int8 alpha (TFLite Micro's kernel).</summary>
    public static readonly OpKind Prelu = new()
    {
        Name = "PRELU", BuiltinCode = 54, ChecksAllOperandTypes = true,
        TypesText = "float32, int8, int16 (with int8 alpha)",
        Import = r =>
        {
            r.Inputs(2, 2);
            return (NoAttributes.Instance, r.Data(0, 1));
        },
        InferShape = BinaryShape.Of,
        CheckTypes = node =>
        {
            var (input, alpha, output) = (node.Input(0), node.Input(1), node.Output);
            var expectedAlpha = input.Type == ElementType.Int16 ? ElementType.Int8 : input.Type;
            if (input.Type is not (ElementType.Float32 or ElementType.Int8 or ElementType.Int16)) return $"input {input} has element type {input.Type.DisplayName()}";
            if (alpha.Type != expectedAlpha) return $"alpha {alpha} has element type {alpha.Type.DisplayName()} with {input.Type.DisplayName()} input (TFLite Micro takes {expectedAlpha.DisplayName()})";
            if (output.Type != input.Type) return $"output {output} has element type {output.Type.DisplayName()}, the input {input.Type.DisplayName()}";
            return null;
        },
        Evaluate = PreluReference.Evaluate,
        Kernel = new PreluKernel(),
    };
}
