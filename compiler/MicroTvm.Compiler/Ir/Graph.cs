using MicroTvm.Compiler.Diagnostics;

namespace MicroTvm.Compiler.Ir;

/// <summary>
/// A model as the compiler sees it: tensors, nodes in execution order, graph inputs and outputs.
/// Built by a frontend (TFLite) or by hand in tests; <see cref="Validate"/> checks the invariants every later
/// stage relies on.
/// </summary>
public sealed class Graph
{
    public Graph(string name, IReadOnlyList<Tensor> tensors, IReadOnlyList<Node> nodes, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> outputs)
    {
        Name = name;
        Tensors = tensors;
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The model's name (defaults to the file name without extension); generated C prefixes derive from it elsewhere.</summary>
    public string Name { get; }

    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>Nodes in a valid execution order (every operand is produced before it is read).</summary>
    public IReadOnlyList<Node> Nodes { get; private set; }

    public IReadOnlyList<Tensor> Inputs { get; }

    public IReadOnlyList<Tensor> Outputs { get; }

    /// <summary>The source file, for messages; null for graphs built in memory.</summary>
    public string? SourcePath { get; init; }

    /// <summary>The producing node of each non-constant, non-input tensor.</summary>
    public Dictionary<Tensor, Node> Producers()
    {
        var producers = new Dictionary<Tensor, Node>();
        foreach (var node in Nodes)
            foreach (var output in node.Outputs)
                producers[output] = node;
        return producers;
    }

    /// <summary>
    /// Checks that every tensor is produced exactly once (by a node, or as a graph input or constant), that no
    /// node reads a tensor nobody produces (variable tensors are read and updated in place, never produced), and that
    /// there is no cycle. Reorders <see cref="Nodes"/>
    /// topologically (stable: keeps the model's order where it is already valid).
    /// </summary>
    public void Validate()
    {
        var produced = new Dictionary<Tensor, Node>();
        var graphInputs = new HashSet<Tensor>(Inputs); // sets, not list scans: validation must stay linear in the model size
        foreach (var node in Nodes)
        {
            foreach (var output in node.Outputs)
            {
                if (output.IsConstant)
                    throw Error(ErrorCodes.InvalidGraph, node, $"writes constant tensor {output}");
                if (graphInputs.Contains(output))
                    throw Error(ErrorCodes.InvalidGraph, node, $"writes graph input {output}");
                if (output.IsVariable)
                    throw Error(ErrorCodes.InvalidGraph, node, $"has variable tensor {output} among its outputs; an operator updates its state through an input");
                if (!produced.TryAdd(output, node))
                    throw Error(ErrorCodes.InvalidGraph, node, $"writes {output}, which {produced[output]} writes too");
            }
        }

        foreach (var node in Nodes)
            foreach (var input in node.Inputs)
                if (input is not null && !input.IsConstant && !input.IsVariable && !graphInputs.Contains(input) && !produced.ContainsKey(input))
                    throw Error(ErrorCodes.InvalidGraph, node, $"reads {input}, which no operator produces and which is not a graph input");

        foreach (var tensor in Inputs.Concat(Outputs))
            if (tensor.IsVariable)
                throw new CompilerException(ErrorCodes.InvalidGraph, $"variable tensor {tensor} is a graph input or output; state lives inside the model") { File = SourcePath };

        foreach (var output in Outputs)
            if (!output.IsConstant && !graphInputs.Contains(output) && !produced.ContainsKey(output))
                throw new CompilerException(ErrorCodes.InvalidGraph, $"graph output {output} is not produced by any operator") { File = SourcePath };

        Nodes = TopologicalOrder(produced);
    }

    private List<Node> TopologicalOrder(Dictionary<Tensor, Node> producers)
    {
        // Kahn's algorithm, always taking the lowest model position that is ready, so a valid order is kept as is.
        var position = new Dictionary<Node, int>();
        for (int i = 0; i < Nodes.Count; i++) position[Nodes[i]] = i;
        var pending = new int[Nodes.Count];
        var consumers = new List<Node>[Nodes.Count];
        for (int i = 0; i < Nodes.Count; i++) consumers[i] = new List<Node>();
        for (int i = 0; i < Nodes.Count; i++)
        {
            foreach (var producer in Nodes[i].Inputs.Where(t => t is not null && producers.ContainsKey(t)).Select(t => producers[t!]).Distinct())
            {
                pending[i]++;
                consumers[position[producer]].Add(Nodes[i]);
            }
        }

        var ready = new SortedSet<int>(Enumerable.Range(0, Nodes.Count).Where(i => pending[i] == 0));
        var order = new List<Node>(Nodes.Count);
        while (ready.Count > 0)
        {
            int next = ready.Min;
            ready.Remove(next);
            order.Add(Nodes[next]);
            foreach (var consumer in consumers[next])
                if (--pending[position[consumer]] == 0)
                    ready.Add(position[consumer]);
        }

        if (order.Count != Nodes.Count)
        {
            var ordered = new HashSet<Node>(order);
            var stuck = Nodes.First(n => !ordered.Contains(n));
            throw Error(ErrorCodes.InvalidGraph, stuck, "is part of a cycle: its inputs depend on its own outputs");
        }

        return order;
    }

    private CompilerException Error(string code, Node node, string message) =>
        new(code, $"{node}: {message}") { File = SourcePath, OperatorIndex = node.Index, OperatorName = node.Kind.Name };
}
