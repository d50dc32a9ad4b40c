using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Passes;

/// <summary>
/// Folds a standalone RELU or RELU6 into the CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED before it, as that layer's
/// fused activation: one pass over the data and one buffer less. Only where the result is the same bit for bit: the
/// layer has no fused activation, its output feeds nothing else and is no graph output, and the activation's input
/// and output have the same type and quantization (then quantized RELU rescales by exactly 1 and both forms clamp the
/// layer's values to the same quantized 0 and 6; float clamps are the same comparisons).
/// </summary>
public static class ActivationFusion
{
    public static Graph Apply(Graph graph)
    {
        var readers = new Dictionary<Tensor, int>();
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs)
                if (input is not null) readers[input] = readers.GetValueOrDefault(input) + 1;
        var outputs = graph.Outputs.ToHashSet();
        var producers = graph.Producers();

        var replaced = new Dictionary<Node, Node>(); // layer -> the layer with the activation fused
        var removed = new HashSet<Node>();           // the folded activations
        foreach (var activation in graph.Nodes)
        {
            if (FusedKind(activation.Kind) is not { } fused || activation.Inputs.Count != 1) continue;
            var between = activation.Input(0);
            if (!producers.TryGetValue(between, out var layer) || replaced.ContainsKey(layer)) continue;
            if (readers.GetValueOrDefault(between) != 1 || outputs.Contains(between) || layer.Outputs.Count != 1) continue;
            if (WithActivation(layer, fused) is not { } attributes || !SameValues(between, activation.Output)) continue;
            replaced[layer] = new Node(layer.Index, layer.Kind, attributes, layer.Inputs, new[] { activation.Output });
            removed.Add(activation);
        }

        if (removed.Count == 0) return graph;
        var dropped = removed.Select(n => n.Input(0)).ToHashSet();
        var nodes = graph.Nodes.Where(n => !removed.Contains(n)).Select(n => replaced.GetValueOrDefault(n, n)).ToList();
        return new Graph(graph.Name, graph.Tensors.Where(t => !dropped.Contains(t)).ToList(), nodes, graph.Inputs, graph.Outputs)
        {
            SourcePath = graph.SourcePath,
        };
    }

    private static FusedActivation? FusedKind(OpKind kind) =>
        kind == OpKind.Relu ? FusedActivation.Relu : kind == OpKind.Relu6 ? FusedActivation.Relu6 : null;

    /// <summary>The layer's attributes with <paramref name="activation"/> fused; null when it is no such layer or
    /// already has one.</summary>
    private static OpAttributes? WithActivation(Node layer, FusedActivation activation) => layer.Attributes switch
    {
        Conv2DAttributes { Activation: FusedActivation.None } a => a with { Activation = activation },
        DepthwiseConv2DAttributes { Activation: FusedActivation.None } a => a with { Activation = activation },
        FullyConnectedAttributes { Activation: FusedActivation.None } a => a with { Activation = activation },
        _ => null,
    };

    /// <summary>Same type, shape and (per-tensor) quantization, or both float32.</summary>
    private static bool SameValues(Tensor a, Tensor b)
    {
        if (a.Type != b.Type || !a.Shape.SequenceEqual(b.Shape)) return false;
        if (a.Type == ElementType.Float32) return true;
        var (qa, qb) = (a.Quantization, b.Quantization);
        return qa is { Scales.Count: 1, ZeroPoints.Count: 1 } && qb is { Scales.Count: 1, ZeroPoints.Count: 1 }
            && qa.Scale == qb.Scale && qa.ZeroPoints[0] == qb.ZeroPoints[0] && qa.Scale > 0;
    }
}
