using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Conversions between float32 and quantized values, and between quantizations: [input].</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Quantize = new()
    {
        Name = "QUANTIZE", BuiltinCode = 114, Types = new[] { ElementType.Int8, ElementType.UInt8, ElementType.Int16, ElementType.Int32 },
        TypesText = "float32 -> int8/int16, int8 -> int8/uint8/int16/int32, uint8 -> int8, int16 -> int8/int16/int32, int32 -> int8/int16 (as TFLM)",
        AnyInt16ZeroPoint = true, // e.g. the int16 output of an int8 -> int16 SOFTMAX (zero point -32768) requantized to int32
        Import = Conversions.Import,
        CheckTypes = node =>
        {
            var (from, to) = (node.Input(0).Type, node.Output.Type);
            if (!QuantizeConversions.Supported(from, to)) return $"converts {from.DisplayName()} to {to.DisplayName()}";
            foreach (var t in from == ElementType.Float32 ? new[] { node.Output } : new[] { node.Input(0), node.Output })
                if (t.Quantization is null) return $"{t} is {t.Type.DisplayName()} but has no quantization parameters";
            return null;
        },
        InferShape = s => s.SameAsInput(),
        Evaluate = QuantizeReference.Quantize,
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
        Evaluate = QuantizeReference.Dequantize,
        Kernel = new DequantizeKernel(),
    };
}

/// <summary>The conversions TFLM's QUANTIZE computes (quantize_common.cc): float32 to int8/int16, and requantization
/// between the integer pairs it lists.</summary>
public static class QuantizeConversions
{
    public static bool Supported(ElementType from, ElementType to) => (from, to) switch
    {
        (ElementType.Float32, ElementType.Int8 or ElementType.Int16) => true,
        (ElementType.Int8, ElementType.Int8 or ElementType.UInt8 or ElementType.Int16 or ElementType.Int32) => true,
        (ElementType.UInt8, ElementType.Int8) => true,
        (ElementType.Int16, ElementType.Int8 or ElementType.Int16 or ElementType.Int32) => true,
        (ElementType.Int32, ElementType.Int8 or ElementType.Int16) => true,
        _ => false,
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
