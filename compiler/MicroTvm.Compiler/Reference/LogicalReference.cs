using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Reference;

/// <summary>LOGICAL_AND, LOGICAL_OR (broadcast) and LOGICAL_NOT on bool tensors (any non-zero byte is true; results
/// are 0 or 1), as TFLite Micro's logical.cc and elementwise.cc compute them.</summary>
internal static class LogicalReference
{
    public static void Evaluate(Node node, TensorValues values)
    {
        var output = node.Output;
        if (node.Inputs.Any(t => t?.Type != ElementType.Bool) || output.Type != ElementType.Bool) throw ReferenceErrors.Unsupported(node);
        var a = Broadcast.To(values.Ints(node.Input(0)), node.Input(0).Shape, output.Shape);
        var result = new int[a.Length];
        if (node.Kind == OpKind.LogicalNot)
        {
            for (int i = 0; i < a.Length; i++) result[i] = a[i] == 0 ? 1 : 0;
        }
        else
        {
            var b = Broadcast.To(values.Ints(node.Input(1)), node.Input(1).Shape, output.Shape);
            bool and = node.Kind == OpKind.LogicalAnd;
            for (int i = 0; i < a.Length; i++) result[i] = (and ? a[i] != 0 && b[i] != 0 : a[i] != 0 || b[i] != 0) ? 1 : 0;
        }

        values.SetInts(output, result);
    }
}
