using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

public sealed partial class OpKind
{
    /// <summary>ADD_N: [x0, x1, …] of one shape (no broadcasting) -> their sum; float32 and int8 (TFLite Micro's
    /// kernels; int8 inputs must share one scale and zero point).</summary>
    public static readonly OpKind AddN = new()
    {
        Name = "ADD_N", BuiltinCode = 106, Types = AddNTypes.All,
        Import = r =>
        {
            if (r.InputCount < 2) throw r.Error(ErrorCodes.InvalidOperator, $"has {r.InputCount} input(s); ADD_N takes at least 2");
            return (NoAttributes.Instance, Enumerable.Range(0, r.InputCount).Select(i => (Tensor?)r.Required(i, $"input {i}")).ToArray());
        },
        InferShape = s =>
        {
            var shape = s.Input(0).Shape;
            for (int i = 1; i < s.Node.Inputs.Count; i++)
                if (!s.Input(i).Shape.SequenceEqual(shape))
                    throw s.Fail(ErrorCodes.InvalidShape, $"input {i} has shape {ShapeContext.Text(s.Input(i).Shape)}, input 0 {ShapeContext.Text(shape)}; ADD_N does not broadcast");
            return shape;
        },
        CheckQuantization = (node, fail) =>
        {
            if (node.Output.Type != ElementType.Int8) return;
            var first = node.Input(0).Quantization!;
            for (int i = 1; i < node.Inputs.Count; i++)
                if (node.Input(i).Quantization is { } q && (q.Scale != first.Scale || q.ZeroPoint != first.ZeroPoint))
                    throw fail(ErrorCodes.InvalidQuantization, $"input {node.Input(i)} is quantized differently from input {node.Input(0)}; TFLite Micro's int8 ADD_N takes one scale and zero point");
            AddNQuantization.Derive(node);   // MTVM2010 when the sum could overflow
        },
        Evaluate = AddNReference.Evaluate,
        Kernel = new AddNKernel(),
    };
}

file static class AddNTypes
{
    public static readonly ElementType[] All = { ElementType.Float32, ElementType.Int8 };
}
