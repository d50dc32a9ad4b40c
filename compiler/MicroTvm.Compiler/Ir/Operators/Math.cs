using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// Element-wise math: [input] -> f(input), shaped like the input, in the types TFLite Micro's kernels accept (float32;
/// RSQRT and ELU int8 too). Float functions come from mtvm_float_math.h and its mirror <see cref="FloatMath"/>, so
/// the evaluator and the generated C agree bit for bit on every target; int8 maps 256 inputs, so it is a table.
/// </summary>
public sealed partial class OpKind
{
    public static readonly OpKind Exp = MathFunctions.Unary("EXP", 47);

    public static readonly OpKind Log = MathFunctions.Unary("LOG", 73);

    public static readonly OpKind Sqrt = MathFunctions.Unary("SQRT", 75);

    public static readonly OpKind Rsqrt = MathFunctions.Unary("RSQRT", 76, MathFunctions.FloatInt8);

    public static readonly OpKind Square = MathFunctions.Unary("SQUARE", 92);

    public static readonly OpKind Sin = MathFunctions.Unary("SIN", 66);

    public static readonly OpKind Cos = MathFunctions.Unary("COS", 108);

    public static readonly OpKind Floor = MathFunctions.Unary("FLOOR", 8);

    public static readonly OpKind Ceil = MathFunctions.Unary("CEIL", 104);

    public static readonly OpKind Round = MathFunctions.Unary("ROUND", 116);

    public static readonly OpKind Elu = MathFunctions.Unary("ELU", 111, MathFunctions.FloatInt8);
}

file static class MathFunctions
{
    public static readonly ElementType[] FloatInt8 = { ElementType.Float32, ElementType.Int8 };

    private static readonly ElementType[] Float = { ElementType.Float32 };

    private static readonly Kernel Kernel = new MathKernel();

    public static OpKind Unary(string name, int builtinCode, ElementType[]? types = null) => new()
    {
        Name = name, BuiltinCode = builtinCode, Types = types ?? Float,
        Import = Import,
        InferShape = s => s.SameAsInput(),
        Evaluate = MathReference.Evaluate,
        Kernel = Kernel,
    };

    private static (OpAttributes, Tensor?[]) Import(OperandReader r)
    {
        r.Inputs(1, 1);
        return (NoAttributes.Instance, r.Data(0));
    }
}
