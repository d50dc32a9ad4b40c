using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>LOGICAL_AND, LOGICAL_OR ([a, b] broadcast as TFLite does) and LOGICAL_NOT ([a]): bool to bool.</summary>
public sealed partial class OpKind
{
    public static readonly OpKind LogicalAnd = Logical.Binary("LOGICAL_AND", 86, "&&");
    public static readonly OpKind LogicalOr = Logical.Binary("LOGICAL_OR", 84, "||");

    public static readonly OpKind LogicalNot = new()
    {
        Name = "LOGICAL_NOT", BuiltinCode = 87, Types = Logical.BoolOnly,
        Import = r =>
        {
            r.Inputs(1, 1);
            return (NoAttributes.Instance, r.Data(0));
        },
        InferShape = s => s.SameAsInput(),
        Evaluate = LogicalReference.Evaluate,
        Kernel = new LogicalKernel("!"),
    };
}

file static class Logical
{
    public static readonly ElementType[] BoolOnly = { ElementType.Bool };

    public static OpKind Binary(string name, int code, string op) => new()
    {
        Name = name, BuiltinCode = code, Types = BoolOnly,
        Import = r =>
        {
            r.Inputs(2, 2);
            return (NoAttributes.Instance, r.Data(0, 1));
        },
        InferShape = BinaryShape.Of,
        Evaluate = LogicalReference.Evaluate,
        Kernel = new LogicalKernel(op),
    };
}
