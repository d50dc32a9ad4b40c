using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Planning;

/// <summary>How the kernels use memory; the code generator answers, the planner decides.</summary>
public interface IKernelMemoryTraits
{
    /// <summary>The operator's output is its first input reinterpreted (RESHAPE and friends): no copy, same bytes.</summary>
    bool IsAlias(Node node);

    /// <summary>The kernel stays correct when its output occupies the same bytes as input <paramref name="inputIndex"/>.</summary>
    bool CanWriteOver(Node node, int inputIndex);

    /// <summary>Working memory the operator's kernel needs during its step (0: none).</summary>
    long ScratchBytes(Node node);

    /// <summary>The byte alignment the scratch's widest element needs (int64 accumulators: 8); the planner gives it
    /// the larger of this and the workspace alignment.</summary>
    int ScratchAlignment(Node node) => 1;
}

/// <summary>
/// Plans where every activation lives. By default graph inputs stay in the caller's input buffers and graph outputs
/// are written straight to the caller's output buffers; every other activation gets an offset in one workspace.
/// With <c>ioInWorkspace</c> the graph inputs and outputs are workspace buffers like any other: an input is live from
/// before the first step (the caller writes it) to its last reader, an output from its producer to after the last
/// step (the caller reads it), so their bytes are reused outside those lifetimes.
/// Aliases share their input's storage; an operator that allows it writes over an input whose lifetime ends at that
/// operator; each operator's scratch is a buffer live during its step only; the remaining buffers are packed by
/// <see cref="BufferPacker"/>. Variable (state) tensors come first, one after the other at the start of the
/// workspace (<see cref="MemoryPlan.StateBytes"/>): their bytes are never shared, and keep their value between runs.
/// </summary>
public static class MemoryPlanner
{
    public static MemoryPlan Plan(Graph graph, IKernelMemoryTraits traits, int alignment, bool ioInWorkspace = false)
    {
        var nodes = graph.Nodes;
        // A scratch that needs more than the target's alignment raises the workspace's own (the caller aligns it).
        int workspaceAlignment = nodes.Where(n => traits.ScratchBytes(n) > 0)
            .Select(n => traits.ScratchAlignment(n)).Append(alignment).Max();
        var step = new Dictionary<Node, int>();
        for (int i = 0; i < nodes.Count; i++) step[nodes[i]] = i;

        // Union-find over tensors: tensors in one set share storage.
        var parent = new Dictionary<Tensor, Tensor>();
        Tensor Root(Tensor t)
        {
            while (parent.TryGetValue(t, out var p) && p != t) t = p;
            return t;
        }

        var inputIndex = new Dictionary<Tensor, int>();
        for (int i = 0; i < graph.Inputs.Count; i++) inputIndex.TryAdd(graph.Inputs[i], i);
        var outputIndex = new Dictionary<Tensor, int>();
        for (int i = 0; i < graph.Outputs.Count; i++) outputIndex.TryAdd(graph.Outputs[i], i);

        // Last step at which each tensor is read.
        var lastRead = new Dictionary<Tensor, int>();
        foreach (var node in nodes)
            foreach (var input in node.Inputs)
                if (input is not null && !input.IsConstant) lastRead[input] = step[node];

        // Inside the workspace a graph output is read by the caller after the last step: nothing may reuse its bytes.
        int afterLastStep = nodes.Count;
        if (ioInWorkspace)
            foreach (var output in outputIndex.Keys) lastRead[output] = afterLastStep;

        bool IsExternal(Tensor root) => root.IsConstant || (!ioInWorkspace && (inputIndex.ContainsKey(root) || outputIndex.ContainsKey(root)));

        // Last read of each storage set, kept per root as sets merge (linear in the graph size).
        var setLastUse = new Dictionary<Tensor, int>();
        int SetLastUse(Tensor root) => setLastUse.TryGetValue(root, out var s) ? s : lastRead.GetValueOrDefault(root, -1);
        void Join(Tensor member, Tensor root)
        {
            int last = Math.Max(SetLastUse(root), lastRead.GetValueOrDefault(member, -1));
            parent[member] = root;
            setLastUse[root] = last;
        }

        foreach (var node in nodes)
        {
            var output = node.Output;
            if ((!ioInWorkspace && outputIndex.ContainsKey(output)) || node.Outputs.Count != 1) continue;
            var first = node.Inputs.Count > 0 ? node.Inputs[0] : null;
            if (traits.IsAlias(node) && first is not null)
            {
                Join(output, Root(first));
                continue;
            }

            for (int i = 0; i < node.Inputs.Count; i++)
            {
                var input = node.Inputs[i];
                if (input is null || input.IsConstant || !traits.CanWriteOver(node, i)) continue;
                var root = Root(input);
                if (IsExternal(root) || root.IsVariable || input.ByteSize != output.ByteSize) continue;
                if (SetLastUse(root) != step[node]) continue;
                Join(output, root);
                break;
            }
        }

        // Collect storage sets and their lifetimes.
        var members = new Dictionary<Tensor, List<Tensor>>();
        foreach (var tensor in graph.Tensors)
        {
            if (tensor.IsConstant) continue;
            var root = Root(tensor);
            if (!members.TryGetValue(root, out var list)) members[root] = list = new List<Tensor>();
            list.Add(tensor);
        }

        var producerStep = new Dictionary<Tensor, int>();
        foreach (var node in nodes)
            foreach (var output in node.Outputs) producerStep[output] = step[node];

        var placements = new Dictionary<Tensor, TensorPlacement>();
        var requests = new List<BufferRequest>();
        var rootOfBuffer = new List<Tensor>();
        long stateBytes = 0;
        foreach (var (root, list) in members.OrderBy(kv => kv.Key.Id))
        {
            if (root.IsVariable)
            {
                // Live before the first step and after the last: the next run reads what this one left.
                int id = -2 - rootOfBuffer.Count;
                rootOfBuffer.Add(root);
                foreach (var t in list)
                    placements[t] = new TensorPlacement(t, StorageKind.State, -1, stateBytes, t.ByteSize, id, -1, int.MaxValue);
                stateBytes += BufferPacker.AlignUp(root.ByteSize, alignment);
                continue;
            }

            bool used = list.Any(t => producerStep.ContainsKey(t) || inputIndex.ContainsKey(t) || outputIndex.ContainsKey(t));
            if (!used) continue;
            int firstStep = list.Select(t => producerStep.TryGetValue(t, out var s) ? s : -1).Min();
            int lastStep = list.Select(t => Math.Max(lastRead.TryGetValue(t, out var r) ? r : -1, producerStep.TryGetValue(t, out var p) ? p : -1)).Max();
            int buffer = requests.Count;
            if (!IsExternal(root))
            {
                requests.Add(new BufferRequest(buffer, root.ByteSize, firstStep, lastStep));
                rootOfBuffer.Add(root);
            }
            else
            {
                buffer = -2 - rootOfBuffer.Count; // external storage sets get negative ids
                rootOfBuffer.Add(root);
            }

            foreach (var t in list)
            {
                var (kind, io) = ioInWorkspace ? (StorageKind.Workspace, -1)
                    : inputIndex.TryGetValue(root, out var ii) ? (StorageKind.Input, ii)
                    : outputIndex.TryGetValue(root, out var oi) ? (StorageKind.Output, oi)
                    : (StorageKind.Workspace, -1);
                if (outputIndex.ContainsKey(root) || (ioInWorkspace && lastStep == afterLastStep)) lastStep = int.MaxValue;
                placements[t] = new TensorPlacement(t, kind, io, 0, t.ByteSize, buffer, firstStep, lastStep);
            }
        }

        var scratchBuffers = new Dictionary<Node, int>();
        foreach (var node in nodes)
        {
            long scratch = traits.ScratchBytes(node);
            if (scratch <= 0) continue;
            scratchBuffers[node] = requests.Count;
            requests.Add(new BufferRequest(requests.Count, scratch, step[node], step[node], traits.ScratchAlignment(node)));
        }

        // The packed buffers start at a multiple of every buffer's alignment.
        stateBytes = BufferPacker.AlignUp(stateBytes, workspaceAlignment);

        var packing = BufferPacker.Pack(requests, alignment);
        foreach (var (tensor, placement) in placements.ToList())
            if (placement.Kind == StorageKind.Workspace)
                placements[tensor] = placement with { Offset = stateBytes + packing.Offsets[placement.Buffer] };

        foreach (var tensor in graph.Tensors.Where(t => t.IsConstant))
            placements[tensor] = new TensorPlacement(tensor, StorageKind.Constant, -1, 0, tensor.ByteSize, -1, -1, int.MaxValue);

        var scratchOffsets = scratchBuffers.ToDictionary(kv => kv.Key, kv => stateBytes + packing.Offsets[kv.Value]);
        return new MemoryPlan(placements, requests, packing, workspaceAlignment, ioInWorkspace, scratchOffsets, stateBytes);
    }
}
