using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Binary element-wise operators: [a, b], broadcast as TFLite does.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Add = new()
    {
        Name = "ADD", BuiltinCode = 0, Types = Binary.WithInt32,
        Import = r => Binary.ImportAddSub(r, 11 /* AddOptions */),
        InferShape = BinaryShape.Of,
        Evaluate = (node, values) => ElementwiseReference.AddOrSub(node, values, subtract: false),
        Kernel = Binary.Kernel,
    };

    public static readonly OpKind Sub = new()
    {
        Name = "SUB", BuiltinCode = 41, Types = Binary.WithInt32,
        Import = r => Binary.ImportAddSub(r, 28 /* SubOptions */),
        InferShape = BinaryShape.Of,
        Evaluate = (node, values) => ElementwiseReference.AddOrSub(node, values, subtract: true),
        Kernel = Binary.Kernel,
    };

    public static readonly OpKind Mul = new()
    {
        Name = "MUL", BuiltinCode = 18, Types = Binary.WithInt32,
        Import = r =>
        {
            r.Inputs(2, 2);
            var o = r.Options(21 /* MulOptions */);
            return (new ElementwiseAttributes(r.Activation(o?.Int8(0) ?? 0)), r.Data(0, 1));
        },
        InferShape = BinaryShape.Of,
        Evaluate = ElementwiseReference.Mul,
        Kernel = Binary.Kernel,
    };

    public static readonly OpKind Maximum = new()
    {
        Name = "MAXIMUM", BuiltinCode = 55, Types = OperatorSupport.DataMovement,
        Import = Binary.ImportWithoutOptions,
        InferShape = BinaryShape.Of,
        Evaluate = (node, values) => ElementwiseReference.MaximumOrMinimum(node, values, maximum: true),
        Kernel = Binary.Kernel,
    };

    public static readonly OpKind Minimum = new()
    {
        Name = "MINIMUM", BuiltinCode = 57, Types = OperatorSupport.DataMovement,
        Import = Binary.ImportWithoutOptions,
        InferShape = BinaryShape.Of,
        Evaluate = (node, values) => ElementwiseReference.MaximumOrMinimum(node, values, maximum: false),
        Kernel = Binary.Kernel,
    };
}

file static class Binary
{
    public static readonly Kernel Kernel = new BinaryElementwiseKernel();

    /// <summary>ADD, SUB, MUL: the arithmetic types and int32 (wrapping, as TFLite Micro computes it).</summary>
    public static readonly ElementType[] WithInt32 = { ElementType.Float32, ElementType.Int8, ElementType.Int16, ElementType.Int32 };

    /// <summary>ADD and SUB: fused activation and pot_scale_int16.</summary>
    public static (OpAttributes, Tensor?[]) ImportAddSub(OperandReader r, byte options)
    {
        r.Inputs(2, 2);
        var o = r.Options(options);
        return (new ElementwiseAttributes(r.Activation(o?.Int8(0) ?? 0), o?.Bool(1, true) ?? true), r.Data(0, 1));
    }

    public static (OpAttributes, Tensor?[]) ImportWithoutOptions(OperandReader r)
    {
        r.Inputs(2, 2);
        return (new ElementwiseAttributes(FusedActivation.None), r.Data(0, 1));
    }
}

/// <summary>The output shape of a binary operator whose operands broadcast (TFLite's rules).</summary>
internal static class BinaryShape
{
    public static int[] Of(ShapeContext s) =>
        ShapeInference.Broadcast(s.Input(0).Shape, s.Input(1).Shape) ?? throw s.Fail(ErrorCodes.InvalidShape,
            $"cannot broadcast {ShapeContext.Text(s.Input(0).Shape)} with {ShapeContext.Text(s.Input(1).Shape)}");
}
