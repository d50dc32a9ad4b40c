using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>The errors of the reference implementations (each operator's is found through its <see cref="OpKind"/>).</summary>
internal static class ReferenceErrors
{
    /// <summary>The error for an operator whose element types (or kind) the evaluator does not implement.</summary>
    public static CompilerException Unsupported(Node node)
    {
        string types = string.Join(", ", node.Inputs.Select(t => t is null ? "-" : t.Type.DisplayName()));
        return new CompilerException(
            ErrorCodes.UnsupportedOperatorType,
            $"{node}: operator/type combination not supported (inputs {types} -> output {node.Outputs[0].Type.DisplayName()})")
        {
            OperatorIndex = node.Index,
            OperatorName = node.Kind.Name,
        };
    }

    /// <summary>The error for an operator whose operands contradict its attributes (a graph the importer should not produce).</summary>
    public static CompilerException Invalid(Node node, string message) =>
        new(ErrorCodes.InvalidOperator, $"{node}: {message}") { OperatorIndex = node.Index, OperatorName = node.Kind.Name };
}
