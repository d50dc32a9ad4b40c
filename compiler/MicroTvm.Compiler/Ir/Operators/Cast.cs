using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>CAST: [input] -> the same values in the output's type, as C++'s static_cast in TFLite Micro's kernel
/// (stored values, quantization ignored): float32, int8, int16, int32, bool to float32, int8, int16, int32.</summary>
public sealed partial class OpKind
{
    private static readonly ElementType[] CastInputTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32, ElementType.Bool };
    private static readonly ElementType[] CastOutputTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };

    public static readonly OpKind Cast = new()
    {
        Name = "CAST", BuiltinCode = 53, Types = CastInputTypes, MovesDataOnly = true,
        TypesText = "float32, int8, int16, int32, bool -> float32, int8, int16, int32",
        Import = r =>
        {
            r.Inputs(1, 1);
            return (NoAttributes.Instance, r.Data(0));
        },
        CheckTypes = node => !CastInputTypes.Contains(node.Input(0).Type) || !CastOutputTypes.Contains(node.Output.Type)
            ? $"casts {node.Input(0).Type.DisplayName()} to {node.Output.Type.DisplayName()}"
            : null,
        InferShape = s => s.SameAsInput(),
        Evaluate = CastReference.Evaluate,
        Kernel = new CastKernel(),
    };
}
