using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>SQUARED_DIFFERENCE: [a, b] broadcast as TFLite does -> (a - b)²; float32, int8, int16 (requantized as
    /// TFLite Micro does) and int32 (wrapping).</summary>
    public static readonly OpKind SquaredDifference = new()
    {
        Name = "SQUARED_DIFFERENCE", BuiltinCode = 99, Types = SquaredDifferenceTypes.All,
        Import = r =>
        {
            r.Inputs(2, 2);
            return (NoAttributes.Instance, r.Data(0, 1));
        },
        InferShape = BinaryShape.Of,
        Evaluate = SquaredDifferenceReference.Evaluate,
        Kernel = new SquaredDifferenceKernel(),
    };
}

file static class SquaredDifferenceTypes
{
    public static readonly ElementType[] All = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };
}
