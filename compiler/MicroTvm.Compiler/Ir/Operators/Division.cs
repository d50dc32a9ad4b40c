using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>DIV: [a, b] broadcast as TFLite does, with a fused activation; float32, int32 and int8 (TFLite Micro's
    /// kernels: int16 is refused by TFLM itself).</summary>
    public static readonly OpKind Div = new()
    {
        Name = "DIV", BuiltinCode = 42, Types = Division.DivTypes,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(29 /* DivOptions */);
            return (new ElementwiseAttributes(r.Activation(o?.Int8(0) ?? 0)), r.Data(0, 1));
        },
        InferShape = BinaryShape.Of,
        CheckQuantization = (node, fail) =>
        {
            // TFLite Micro's DIV refuses int32 operands that carry quantization parameters.
            if (node.Output.Type == ElementType.Int32 && node.Inputs.FirstOrDefault(t => t?.Quantization is not null) is { } quantized)
                throw fail(ErrorCodes.InvalidQuantization, $"int32 operand {quantized} has quantization parameters; TFLite Micro's int32 DIV takes none");
        },
        Evaluate = DivReference.Evaluate,
        Kernel = new DivKernel(),
    };
}

file static class Division
{
    public static readonly ElementType[] DivTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int32 };
}
