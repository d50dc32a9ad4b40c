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

    /// <summary>FLOOR_DIV: [a, b] broadcast as TFLite does -> floor(a / b), float32 (TFLite Micro's kernel: the quotient
    /// in double, its floor rounded to float).</summary>
    public static readonly OpKind FloorDiv = Division.Floored("FLOOR_DIV", 90, FloorDivReference.Divide);

    /// <summary>FLOOR_MOD: [a, b] broadcast as TFLite does -> a - floor(a / b)·b, float32 (fmod with b's sign).</summary>
    public static readonly OpKind FloorMod = Division.Floored("FLOOR_MOD", 95, FloorDivReference.Modulo);
}

file static class Division
{
    private static readonly ElementType[] FloatOnly = { ElementType.Float32 };

    public static OpKind Floored(string name, int code, Func<float, float, float> operation) => new()
    {
        Name = name, BuiltinCode = code, Types = FloatOnly,
        Import = r =>
        {
            r.Inputs(2, 2);
            return (NoAttributes.Instance, r.Data(0, 1));
        },
        InferShape = s =>
        {
            // TFLite Micro checks every divisor before it divides and fails the run on a zero.
            if (s.Input(1) is { Data: { } data, Type: ElementType.Float32 } divisor)
                for (int i = 0; i < divisor.ElementCount; i++)
                    if (BitConverter.ToSingle(data, 4 * i) == 0f)
                        throw s.Fail(ErrorCodes.ConstantDivisorZero, $"the constant divisor {divisor} is zero at element {i}; TFLite Micro refuses to divide by zero");
            return BinaryShape.Of(s);
        },
        Evaluate = (node, values) => FloorDivReference.Evaluate(node, values, operation),
        Kernel = new FloorDivKernel(),
    };

    public static readonly ElementType[] DivTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int32 };
}
