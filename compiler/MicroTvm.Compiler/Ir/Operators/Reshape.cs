using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Ir;

/// <summary>Operators that keep the element order and change only the shape: [input]; the output aliases the input.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Reshape = new()
    {
        Name = "RESHAPE", BuiltinCode = 22, Types = OperatorSupport.AnyType, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 2);
            return (new ReshapeAttributes(r.ReshapeTarget()), r.Data(0));
        },
        InferShape = Reshapes.Shape,
        Evaluate = LayoutReference.Reshape,
        Kernel = Reshapes.Kernel,
    };

    public static readonly OpKind Squeeze = new()
    {
        Name = "SQUEEZE", BuiltinCode = 43, Types = OperatorSupport.AnyType, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 1);
            var o = r.Options(30 /* SqueezeOptions */);
            var dims = o?.Vector(0, 4, "squeeze_dims")?.ToInt32Array() ?? Array.Empty<int>();
            return (new ReshapeAttributes(Reshapes.Squeezed(r, r.Required(0, "input").Shape, dims)), r.Data(0));
        },
        InferShape = Reshapes.Shape,
        Evaluate = LayoutReference.Reshape,
        Kernel = Reshapes.Kernel,
    };

    public static readonly OpKind ExpandDims = new()
    {
        Name = "EXPAND_DIMS", BuiltinCode = 70, Types = OperatorSupport.AnyType, MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(2, 2);
            var axis = r.ConstantInts(1, "axis");
            if (axis.Length != 1) throw r.Error(ErrorCodes.InvalidOperator, $"the axis operand has {axis.Length} values, expected 1");
            var shape = r.Required(0, "input").Shape;
            int a = axis[0] < 0 ? axis[0] + shape.Length + 1 : axis[0];
            if (a < 0 || a > shape.Length) throw r.Error(ErrorCodes.InvalidOperator, $"axis {axis[0]} is outside [-{shape.Length + 1}, {shape.Length}]");
            return (new ReshapeAttributes(shape.Take(a).Append(1).Concat(shape.Skip(a)).ToArray()), r.Data(0));
        },
        InferShape = Reshapes.Shape,
        Evaluate = LayoutReference.Reshape,
        Kernel = Reshapes.Kernel,
    };
}

file static class Reshapes
{
    public static readonly Kernel Kernel = new ReshapeKernel();

    public static int[] Squeezed(OperandReader r, int[] shape, int[] dims)
    {
        if (dims.Length == 0) return shape.Where(d => d != 1).ToArray();
        var squeezed = new bool[shape.Length];
        foreach (int dim in dims)
        {
            int d = dim < 0 ? dim + shape.Length : dim;
            if (d < 0 || d >= shape.Length || shape[d] != 1)
                throw r.Error(ErrorCodes.InvalidOperator, $"cannot squeeze dimension {dim} of shape [{string.Join(",", shape)}]");
            squeezed[d] = true;
        }

        return shape.Where((_, d) => !squeezed[d]).ToArray();
    }

    public static int[] Shape(ShapeContext s)
    {
        var reshape = s.Attributes<ReshapeAttributes>();
        long count = 1;
        foreach (int dim in reshape.NewShape)
        {
            if (dim < 0) throw s.Fail(ErrorCodes.InvalidShape, $"new shape {ShapeContext.Text(reshape.NewShape)} has a negative dimension");
            count = Math.Min(count * dim, (long)int.MaxValue + 1);
        }

        if (reshape.NewShape.Length > ShapeInference.MaxRank || count != s.Input(0).ElementCount)
            throw s.Fail(ErrorCodes.InvalidShape, $"cannot reshape {ShapeContext.Text(s.Input(0).Shape)} ({s.Input(0).ElementCount} elements) to {ShapeContext.Text(reshape.NewShape)}");
        return (int[])reshape.NewShape.Clone();
    }
}
