using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Ir;

/// <summary>SHAPE: the input's (static) shape, known at compile time, so the values are an attribute and the input is
/// never read. Any input type; int32 output (TFLite Micro writes no other).</summary>
public sealed partial class OpKind
{
    public static readonly OpKind Shape = new()
    {
        Name = "SHAPE", BuiltinCode = 77, Types = OperatorSupport.AnyType, TypesText = "any input type (int32 output)", MovesDataOnly = true,
        Import = r =>
        {
            r.Inputs(1, 1);
            r.Options(55 /* ShapeOptions: out_type, which TFLite Micro ignores for the output tensor's type */);
            return (new ShapeAttributes((int[])r.Required(0, "input").Shape.Clone()), r.Data(0));
        },
        CheckTypes = node => node.Output.Type == ElementType.Int32 ? null : $"output {node.Output} has element type {node.Output.Type.DisplayName()}",
        InferShape = s => new[] { s.Input(0).Rank },
        Evaluate = (node, values) => values.SetInts(node.Output, node.AttributesAs<ShapeAttributes>().Values),
        Kernel = new ShapeKernel(),
    };
}

/// <summary>SHAPE. Inputs: [input] (not read); <see cref="Values"/> is its shape.</summary>
public sealed record ShapeAttributes(int[] Values) : OpAttributes
{
    public override string Describe() => $"shape {string.Join(",", Values)}";
}
