using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Conversions between float32 and quantized values, and between quantizations: [input].</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Quantize = new()
    {
        Name = "QUANTIZE", BuiltinCode = 114, Types = new[] { ElementType.Int8, ElementType.Int16 },
        TypesText = "float32/int8/int16 -> int8/int16",
        Import = Conversions.Import,
        CheckTypes = node => node.Input(0).Type is ElementType.Float32 or ElementType.Int8 or ElementType.Int16
                             && node.Output.Type is ElementType.Int8 or ElementType.Int16
            ? null
            : $"converts {node.Input(0).Type.DisplayName()} to {node.Output.Type.DisplayName()}",
        InferShape = s => s.SameAsInput(),
        Evaluate = QuantizeKernels.Quantize,
        Kernel = new QuantizeKernel(),
    };

    public static readonly OpKind Dequantize = new()
    {
        Name = "DEQUANTIZE", BuiltinCode = 6, Types = new[] { ElementType.Int8, ElementType.Int16 },
        TypesText = "int8/int16 -> float32",
        Import = Conversions.Import,
        CheckTypes = node => node.Input(0).Type is ElementType.Int8 or ElementType.Int16 && node.Output.Type == ElementType.Float32
            ? null
            : $"converts {node.Input(0).Type.DisplayName()} to {node.Output.Type.DisplayName()}",
        InferShape = s => s.SameAsInput(),
        Evaluate = QuantizeKernels.Dequantize,
        Kernel = new DequantizeKernel(),
    };
}

file static class Conversions
{
    public static (OpAttributes, Tensor?[]) Import(OperandReader r)
    {
        r.Inputs(1, 1);
        return (NoAttributes.Instance, r.Data(0));
    }
}
