using MicroTvm.Compiler.Analysis;
using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Planning;
using MicroTvm.Compiler.Quantization;
using MicroTvm.Compiler.Tuning;

namespace MicroTvm.Compiler.Codegen;

/// <summary>
/// The kernel of every node, chosen once for the target (a DSP or Helium kernel where one takes the node, else the
/// portable one). The support check, the memory planner (aliases, in-place outputs, scratch) and the emitter all read
/// this one choice, so what is planned is what runs. A tuning log's schedule (<see cref="ScheduleChoice"/>) can pick
/// the portable kernel or set a target kernel's knobs.
/// </summary>
internal sealed class KernelSelection : IKernelMemoryTraits
{
    private readonly Dictionary<Node, Kernel> _kernels;
    private readonly Dictionary<Node, Schedule> _schedules;

    private KernelSelection(Dictionary<Node, Kernel> kernels, Dictionary<Node, Schedule> schedules, IReadOnlyList<Diagnostics.CompilerWarning> warnings)
    {
        _kernels = kernels;
        _schedules = schedules;
        Warnings = warnings;
    }

    /// <summary>Chooses every node's kernel; an error (MTVM2102) names the first node no kernel supports.</summary>
    public static KernelSelection Choose(Graph graph, TargetDescription target, TuningLog? tuning = null, WeightLayout layout = WeightLayout.Speed)
    {
        var kernels = new Dictionary<Node, Kernel>();
        var schedules = new Dictionary<Node, Schedule>();
        var errors = new List<CompilerException>();
        var choice = new ScheduleChoice(tuning, target, graph.SourcePath, layout);
        foreach (var node in graph.Nodes)
        {
            var (kernel, schedule) = choice.For(node);
            schedules[node] = schedule;
            string? reason;
            try
            {
                reason = kernel is null ? "the code generator has no kernel for this operator" : kernel.Unsupported(node);
                AccumulatorBound.Check(node);
            }
            catch (CompilerException e)
            {
                errors.Add(e.ForOperator(node, graph.SourcePath));
                continue;
            }

            if (node.Outputs.Count != 1 && node.Kind.InferShapes is null) reason ??= "operators with several outputs are not supported";
            if (reason is not null)
            {
                errors.Add(new CompilerException(ErrorCodes.UnsupportedOperatorCodegen,
                    $"operator {node.Index} ({node.Kind.Name}) with input {node.Inputs.FirstOrDefault()?.ToString() ?? "none"} cannot be compiled: {reason}")
                {
                    File = graph.SourcePath, OperatorIndex = node.Index, OperatorName = node.Kind.Name,
                });
                continue;
            }

            kernels[node] = kernel!;
        }

        // Every operator's problem at once, not one per rebuild.
        if (errors.Count > 0) throw CompilerException.Combine(errors);

        return new KernelSelection(kernels, schedules, choice.Warnings);
    }

    public Kernel this[Node node] => _kernels[node];

    /// <summary>The schedule the node's kernel runs (for the metadata).</summary>
    public Schedule ScheduleOf(Node node) => _schedules[node];

    public IReadOnlyList<Diagnostics.CompilerWarning> Warnings { get; }

    /// <summary>The weight layouts the operators run with ("int16", "int8", "int16+int8" when a tuning log mixes them);
    /// null when no kernel of this model has the choice.</summary>
    public string? WeightLayouts(Graph graph, TargetDescription target)
    {
        var values = graph.Nodes.SelectMany(n => ScheduleSpace.LayoutValues(n, target, _schedules[n])).Distinct().ToList();
        return values.Count == 0 ? null : string.Join("+", values);
    }

    public bool IsAlias(Node node) => _kernels[node].IsAlias(node);

    public bool CanWriteOver(Node node, int inputIndex) => _kernels[node].CanWriteOver(node, inputIndex);

    public long ScratchBytes(Node node) => _granted.TryGetValue(node, out long bytes) ? bytes : _kernels[node].ScratchBytes(node);

    private readonly Dictionary<Node, long> _granted = new();

    /// <summary>Grants kernels' wishes for more scratch (<see cref="Kernel.ScratchWishes"/>), operators with the most MACs
    /// first, each the first wish that leaves the workspace of <paramref name="plan"/>'s first answer as it is; returns
    /// the plan with them.</summary>
    public MemoryPlan GrantScratchWishes(Graph graph, Func<MemoryPlan> plan)
    {
        var best = plan();
        foreach (var node in graph.Nodes.OrderByDescending(GraphStats.Macs))
            foreach (long wish in _kernels[node].ScratchWishes(node))
            {
                Grant(node, wish);
                var tried = plan();
                if (tried.WorkspaceBytes <= best.WorkspaceBytes)
                {
                    best = tried;
                    break;
                }

                _granted.Remove(node);
            }

        return best;
    }

    /// <summary>Gives the node's kernel <paramref name="bytes"/> of scratch; the plan and the model then hold what the
    /// kernel uses of them (<see cref="Kernel.ScratchUsed"/>), not more.</summary>
    internal void Grant(Node node, long bytes) => _granted[node] = _kernels[node].ScratchUsed(node, bytes);

    public int ScratchAlignment(Node node) => _kernels[node].ScratchAlignment(node);
}
