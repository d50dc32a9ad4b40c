using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tuning;

/// <summary>
/// The key of a tuning log entry: what decides an operator's generated code shape and so its best schedule. Operator,
/// every input's and the output's type and shape (constants marked), the attributes (with the fused activation), the
/// quantization traits that change the code (per-channel or per-tensor filter), the target CPU and the kernel set's
/// version. Weights and scales are not in it: operators that differ only in them share a schedule (every schedule is
/// exact for any weights). Read on the graph after activation fusion, as the kernels see it.
/// </summary>
public static class OperatorSignature
{
    public static string Of(Node node, string cpu)
    {
        string Tensor(Tensor? t) => t is null ? "none" : $"{t.Type.DisplayName()}{t.ShapeText}{(t.IsConstant ? "c" : "")}";
        var parts = new List<string> { node.Kind.Name, string.Join(" ", node.Inputs.Select(Tensor)) + " -> " + string.Join(" ", node.Outputs.Select(Tensor)) };
        string attributes = node.Attributes.Describe();
        if (attributes.Length > 0) parts.Add("{" + attributes + "}");
        if (node.Inputs.Count > 1 && node.Inputs[1] is { IsConstant: true, Quantization: { } q })
            parts.Add(q.IsPerChannel ? "per-channel" : "per-tensor");
        parts.Add($"cpu={cpu.ToLowerInvariant()}");
        parts.Add($"kernels={KernelSet.Version}");
        return string.Join(" ", parts);
    }
}
