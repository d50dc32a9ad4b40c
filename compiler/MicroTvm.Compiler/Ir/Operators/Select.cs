using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>SELECT_V2: [condition (bool), x, y] broadcast together as TFLite does; x where the condition holds, else
    /// y. TFLite Micro moves stored values (it checks no quantization) for float32, int8 and int16; it has no SELECT.</summary>
    public static readonly OpKind SelectV2 = new()
    {
        Name = "SELECT_V2", BuiltinCode = 123, Types = SelectValues.Types, MovesDataOnly = true, ChecksAllOperandTypes = true,
        TypesText = "a bool condition with float32, int8 or int16 values",
        Import = r =>
        {
            r.Inputs(3, 3);
            return (NoAttributes.Instance, r.Data(0, 1, 2));
        },
        InferShape = s =>
            ShapeInference.Broadcast(s.Input(0).Shape, s.Input(1).Shape) is { } xy && ShapeInference.Broadcast(xy, s.Input(2).Shape) is { } all
                ? all
                : throw s.Fail(ErrorCodes.InvalidShape,
                    $"cannot broadcast condition {ShapeContext.Text(s.Input(0).Shape)}, x {ShapeContext.Text(s.Input(1).Shape)} and y {ShapeContext.Text(s.Input(2).Shape)}"),
        CheckTypes = node =>
        {
            var (condition, x, y, output) = (node.Input(0), node.Input(1), node.Input(2), node.Output);
            if (condition.Type != ElementType.Bool) return $"condition {condition} has element type {condition.Type.DisplayName()}, not bool";
            if (!SelectValues.Types.Contains(x.Type)) return $"x {x} has element type {x.Type.DisplayName()}";
            if (y.Type != x.Type || output.Type != x.Type) return $"x, y and the output must have one element type ({x.Type.DisplayName()}, {y.Type.DisplayName()}, {output.Type.DisplayName()})";
            return null;
        },
        Evaluate = SelectV2Reference.Evaluate,
        Kernel = new SelectV2Kernel(),
    };
}

file static class SelectValues
{
    public static readonly ElementType[] Types = { ElementType.Float32, ElementType.Int8, ElementType.Int16 };
}
