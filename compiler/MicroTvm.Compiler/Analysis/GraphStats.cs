using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Analysis;

/// <summary>Figures for one operator: its multiply-accumulates.</summary>
public sealed record OperatorStats(Node Node, long Macs);

/// <summary>Figures for a whole graph (see <see cref="GraphStats"/> for how each is counted).</summary>
public sealed record GraphStatistics(IReadOnlyList<OperatorStats> Operators, long TotalMacs, long ParameterBytes, long ActivationLowerBound);

/// <summary>
/// The one place that counts a graph's cost: MACs per operator, parameter bytes, and the lower bound on
/// activation memory. The memory planner measures itself against <see cref="ActivationLowerBound"/>.
/// </summary>
public static class GraphStats
{
    public static GraphStatistics Compute(Graph graph)
    {
        var operators = graph.Nodes.Select(n => new OperatorStats(n, Macs(n))).ToArray();
        return new GraphStatistics(operators, operators.Sum(o => o.Macs), ParameterBytes(graph), ActivationLowerBound(graph));
    }

    /// <summary>
    /// Multiply-accumulates of one operator, counted as the MLPerf Tiny model cards do (each operator's rule is in its
    /// registration): CONV_2D output elements × kernel taps × input channels; DEPTHWISE_CONV_2D output elements ×
    /// kernel taps; FULLY_CONNECTED outputs × inputs per output; TRANSPOSE_CONV input elements × kernel taps × output
    /// channels (every input element is scattered through the whole filter). Bias adds, pooling, element-wise and
    /// data movement count 0.
    /// </summary>
    public static long Macs(Node node) => node.Kind.Macs(node);

    /// <summary>Bytes of all constant tensors the graph's operators read (weights, biases, constant operands), each counted once.</summary>
    public static long ParameterBytes(Graph graph) =>
        graph.Nodes.SelectMany(n => n.Inputs).OfType<Tensor>().Where(t => t.IsConstant).Distinct().Sum(t => t.ByteSize);

    /// <summary>
    /// For each non-constant tensor, the first and last position (in <see cref="Graph.Nodes"/> order) at which it
    /// must hold its value: from its producer (graph inputs: from 0) to its last reader (graph outputs: to the last
    /// operator; variable tensors: always). A tensor nobody reads lives only at its producer.
    /// </summary>
    public static IReadOnlyDictionary<Tensor, (int First, int Last)> LiveRanges(Graph graph)
    {
        int last = Math.Max(0, graph.Nodes.Count - 1);
        var ranges = new Dictionary<Tensor, (int First, int Last)>();
        void Touch(Tensor tensor, int position)
        {
            if (tensor.IsConstant) return;
            ranges[tensor] = ranges.TryGetValue(tensor, out var r)
                ? (Math.Min(r.First, position), Math.Max(r.Last, position))
                : (position, position);
        }

        foreach (var input in graph.Inputs) Touch(input, 0);
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var input in graph.Nodes[i].Inputs)
                if (input is not null) Touch(input, i);
            foreach (var output in graph.Nodes[i].Outputs) Touch(output, i);
        }

        foreach (var output in graph.Outputs) Touch(output, last);
        foreach (var state in graph.Tensors.Where(t => t.IsVariable))
            if (ranges.ContainsKey(state)) ranges[state] = (0, last); // kept from one run to the next
        return ranges;
    }

    /// <summary>
    /// The activation-memory lower bound: the largest, over operators in execution order, of the bytes of
    /// non-constant tensors live at that operator (see <see cref="LiveRanges"/>), with no in-place reuse of an
    /// input for an output. No memory plan can use less.
    /// </summary>
    public static long ActivationLowerBound(Graph graph)
    {
        var ranges = LiveRanges(graph);
        int positions = Math.Max(1, graph.Nodes.Count);
        // Sweep: add each tensor's size at its first position, remove it after its last.
        var delta = new long[positions + 1];
        foreach (var (tensor, (first, last)) in ranges)
        {
            delta[first] += tensor.ByteSize;
            delta[last + 1] -= tensor.ByteSize;
        }

        long live = 0, peak = 0;
        for (int i = 0; i < positions; i++)
        {
            live += delta[i];
            peak = Math.Max(peak, live);
        }

        return peak;
    }
}
