using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Passes;

namespace MicroTvm.Compiler.Tuning;

/// <summary>One operator signature to tune: a graph of one of its operators (its non-constant inputs as graph inputs,
/// its variable tensors, the state of SVDF and LSTM, inside the graph as in the model),
/// the schedules of its space (default first) and how many operators of the model share it.</summary>
public sealed record TuningTask(string Signature, Graph Operator, IReadOnlyList<Schedule> Schedules, int Occurrences)
{
    public Schedule Default => Schedules[0];

    /// <summary>The options that compile <see cref="Operator"/> with <paramref name="schedule"/>: the same compiler path
    /// as a build with a tuning log holding that one entry.</summary>
    public CompileOptions Options(string cpu, string name, Schedule schedule) =>
        new(cpu, name, Tuning: new TuningLog(new[] { new TuningEntry(Signature, schedule) }));
}

public static class TuningTasks
{
    /// <summary>The distinct operator signatures of <paramref name="graph"/> (after the graph passes, as the kernels see
    /// it) whose space has more than one schedule, in model order.</summary>
    public static IReadOnlyList<TuningTask> Of(Graph graph, string cpu)
    {
        var target = Targets.Find(cpu);
        graph.Validate();
        var fused = GraphPasses.Apply(graph);
        var tasks = new List<TuningTask>();
        var seen = new Dictionary<string, int>();
        foreach (var node in fused.Nodes)
        {
            if (node.Outputs.Count != 1 || KernelRegistry(node, target) is null) continue;
            string signature = OperatorSignature.Of(node, target.Name);
            if (seen.TryGetValue(signature, out int k))
            {
                tasks[k] = tasks[k] with { Occurrences = tasks[k].Occurrences + 1 };
                continue;
            }

            var schedules = ScheduleSpace.All(node, target);
            if (schedules.Count < 2) continue;
            var inputs = node.Inputs.Where(t => t is { IsConstant: false, IsVariable: false }).Select(t => t!).Distinct().ToList();
            var tensors = node.Inputs.Where(t => t is not null).Select(t => t!).Concat(node.Outputs).Distinct().ToList();
            var single = new Graph($"op{node.Index}", tensors, new[] { node }, inputs, node.Outputs) { SourcePath = graph.SourcePath };
            seen[signature] = tasks.Count;
            tasks.Add(new TuningTask(signature, single, schedules, 1));
        }

        return tasks;
    }

    private static Codegen.Kernels.Kernel? KernelRegistry(Node node, TargetDescription target) =>
        Codegen.Kernels.KernelRegistry.Instance.ForTarget(node, target);
}
