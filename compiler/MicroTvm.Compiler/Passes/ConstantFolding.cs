using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Passes;

/// <summary>
/// Computes at compile time every operator whose inputs are all constants (a DEQUANTIZE of stored weights, a shape
/// arithmetic chain) with the reference evaluator, so its outputs become constants in flash and the operator costs
/// nothing at run time. Bit for bit what the operator would compute on the device: the evaluator is the arithmetic the
/// generated C follows. Not folded: operators with a variable (state) operand, outputs that are graph outputs, operators
/// the evaluator cannot run (a custom operator), and results larger than both the constants they read and
/// <see cref="GrowthAllowance"/> (a FILL or BROADCAST_TO would otherwise trade a few bytes of flash for many).
/// </summary>
public static class ConstantFolding
{
    public const long GrowthAllowance = 1024;

    public static Graph Apply(Graph graph)
    {
        var folded = new Dictionary<Tensor, Tensor>();
        var nodes = new List<Node>();
        var outputs = graph.Outputs.ToHashSet();
        foreach (var original in graph.Nodes)
        {
            var node = Rewired(original, folded);
            if (Foldable(node, outputs) && Evaluate(node, graph.SourcePath) is { } values)
            {
                foreach (var output in node.Outputs)
                    folded[output] = new Tensor(output.Id, output.Name, output.Type, output.Shape, output.Quantization, values[output]);
                continue;
            }

            nodes.Add(node);
        }

        if (folded.Count == 0) return graph;
        return new Graph(graph.Name, graph.Tensors.Select(t => folded.GetValueOrDefault(t, t)).ToList(), nodes, graph.Inputs, graph.Outputs)
        {
            SourcePath = graph.SourcePath,
        };
    }

    private static Node Rewired(Node node, Dictionary<Tensor, Tensor> folded) =>
        node.Inputs.Any(t => t is not null && folded.ContainsKey(t))
            ? new Node(node.Index, node.Kind, node.Attributes, node.Inputs.Select(t => t is null ? null : folded.GetValueOrDefault(t, t)).ToArray(), node.Outputs)
            : node;

    private static bool Foldable(Node node, HashSet<Tensor> graphOutputs)
    {
        var inputs = node.Inputs.Where(t => t is not null).Select(t => t!).ToList();
        if (inputs.Count == 0 || inputs.Any(t => !t.IsConstant || t.IsVariable)) return false;
        if (node.Outputs.Any(t => graphOutputs.Contains(t) || t.IsVariable)) return false;
        long read = inputs.Distinct().Sum(t => t.ByteSize), written = node.Outputs.Sum(t => t.ByteSize);
        return written <= Math.Max(read, GrowthAllowance);
    }

    /// <summary>The node's outputs as the evaluator computes them; null when it cannot (the operator stays, and the
    /// kernel selection reports what it reports for it).</summary>
    private static IReadOnlyDictionary<Tensor, byte[]>? Evaluate(Node node, string? source)
    {
        var tensors = node.Inputs.Where(t => t is not null).Select(t => t!).Concat(node.Outputs).Distinct().ToList();
        var single = new Graph($"fold{node.Index}", tensors, new[] { node }, Array.Empty<Tensor>(), node.Outputs) { SourcePath = source };
        try
        {
            return ReferenceEvaluator.Run(single, Array.Empty<byte[]>());
        }
        catch (CompilerException)
        {
            return null;
        }
    }
}
