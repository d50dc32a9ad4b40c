using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>Comparisons: [a, b] broadcast as TFLite does, a bool output. int8 operands are compared on a common
/// scale (<see cref="ComparisonQuantization"/>); the other types by value.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Equal = Comparison.Create("EQUAL", 71, "==", withBool: true);
    public static readonly OpKind NotEqual = Comparison.Create("NOT_EQUAL", 72, "!=", withBool: true);
    public static readonly OpKind Less = Comparison.Create("LESS", 58, "<", withBool: false);
    public static readonly OpKind LessEqual = Comparison.Create("LESS_EQUAL", 63, "<=", withBool: false);
    // TFLite Micro's GREATER also takes int16 but prepares no quantization for it, so it compares zeros and every
    // result is false (tests/operators/greater_i16); we refuse int16 rather than reproduce that.
    public static readonly OpKind Greater = Comparison.Create("GREATER", 61, ">", withBool: false);
    public static readonly OpKind GreaterEqual = Comparison.Create("GREATER_EQUAL", 62, ">=", withBool: false);
}

file static class Comparison
{
    private static readonly ElementType[] Ordered = { ElementType.Float32, ElementType.Int8, ElementType.Int32, ElementType.Int64 };

    public static OpKind Create(string name, int code, string op, bool withBool)
    {
        var types = withBool ? Ordered.Append(ElementType.Bool).ToArray() : Ordered;
        return new OpKind
        {
            Name = name, BuiltinCode = code, Types = types,
            Import = r =>
            {
                r.Inputs(2, 2);
                return (NoAttributes.Instance, r.Data(0, 1));
            },
            InferShape = BinaryShape.Of,
            CheckTypes = node => !types.Contains(node.Input(0).Type)
                ? $"input {node.Input(0)} has element type {node.Input(0).Type.DisplayName()}"
                : node.Output.Type != ElementType.Bool ? $"output {node.Output} has element type {node.Output.Type.DisplayName()}, not bool" : null,
            Evaluate = (node, values) => ComparisonReference.Evaluate(node, values, op),
            Kernel = new ComparisonKernel(op),
        };
    }
}
