using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tuning;

/// <summary>
/// The schedules an operator can have on a target: its target kernel with every combination of that kernel's knobs
/// (the default first), and the portable kernel. An operator without a target kernel has one schedule, the portable one.
/// </summary>
internal static class ScheduleSpace
{
    public static Schedule Default(Node node, TargetDescription target) =>
        KernelRegistry.Instance.ForTarget(node, target) is TargetKernel k ? new Schedule(k.ScheduleName) : new Schedule(Schedule.Portable);

    public static IReadOnlyList<Schedule> All(Node node, TargetDescription target)
    {
        if (KernelRegistry.Instance.ForTarget(node, target) is not TargetKernel kernel) return new[] { new Schedule(Schedule.Portable) };
        IEnumerable<Dictionary<string, string>> combinations = new[] { new Dictionary<string, string>() };
        foreach (var knob in kernel.Knobs(node))
            combinations = combinations.SelectMany(c => knob.Values.Select(v => new Dictionary<string, string>(c) { [knob.Name] = v })).ToList();
        return combinations.Select(c => new Schedule(kernel.ScheduleName, c)).Append(new Schedule(Schedule.Portable)).ToList();
    }

    /// <summary>The kernel that generates <paramref name="node"/> under <paramref name="schedule"/>, or null with the
    /// reason when the schedule does not fit (another kernel, an unknown knob or value).</summary>
    public static Kernel? Apply(Node node, TargetDescription target, Schedule schedule, out string? problem)
    {
        problem = null;
        var chosen = KernelRegistry.Instance.ForTarget(node, target);
        if (schedule.Kernel == Schedule.Portable)
        {
            if (schedule.Knobs.Count > 0) problem = "the portable kernel has no knobs";
            return problem is null ? node.Kind.Kernel : null;
        }

        if (chosen is not TargetKernel kernel || kernel.ScheduleName != schedule.Kernel)
        {
            problem = $"kernel '{schedule.Kernel}' does not take this operator on this CPU (its kernel is '{(chosen as TargetKernel)?.ScheduleName ?? Schedule.Portable}')";
            return null;
        }

        var knobs = kernel.Knobs(node);
        foreach (var (name, value) in schedule.Knobs)
        {
            var knob = knobs.FirstOrDefault(k => k.Name == name);
            if (knob is null) problem = $"kernel '{kernel.ScheduleName}' has no knob '{name}' for this operator (knobs: {(knobs.Count == 0 ? "none" : string.Join(", ", knobs.Select(k => k.Name)))})";
            else if (!knob.Values.Contains(value)) problem = $"knob '{name}' has no value '{value}' (values: {string.Join(", ", knob.Values)})";
            if (problem is not null) return null;
        }

        return kernel.Configure(schedule);
    }
}

/// <summary>Each node's schedule from a tuning log (default where the log has no entry or the entry does not fit),
/// with the warnings that the log gave.</summary>
internal sealed class ScheduleChoice
{
    private readonly TuningLog? _log;
    private readonly TargetDescription _target;
    private readonly List<CompilerWarning> _warnings = new();

    public ScheduleChoice(TuningLog? log, TargetDescription target, string? modelFile)
    {
        _log = log;
        _target = target;
        if (log is null) return;
        string file = log.File ?? modelFile ?? "tuning log";
        var stale = log.Entries.Where(e => e.KernelSetVersion != KernelSet.Version).ToList();
        if (stale.Count > 0)
            _warnings.Add(new CompilerWarning(ErrorCodes.TuningLogStale,
                $"{stale.Count} of {log.Entries.Count} tuning log entries were measured for another kernel set (kernels={stale[0].KernelSetVersion?.ToString() ?? "?"}, this compiler's is {KernelSet.Version}) and are ignored; tune again", file));
        if (log.Entries.Count > 0 && !log.Entries.Any(e => string.Equals(e.Cpu, target.Name, StringComparison.OrdinalIgnoreCase)))
            _warnings.Add(new CompilerWarning(ErrorCodes.TuningLogOtherCpu,
                $"the tuning log has no entry for {target.Name} (it was tuned for {string.Join(", ", log.Entries.Select(e => e.Cpu ?? "?").Distinct())}); every operator keeps its default schedule", file));
    }

    public IReadOnlyList<CompilerWarning> Warnings => _warnings;

    /// <summary>The node's kernel, and the schedule it runs (null kernel: the node has no kernel at all).</summary>
    public (Kernel? Kernel, Schedule Schedule) For(Node node)
    {
        var fallback = (KernelRegistry.Instance.ForTarget(node, _target), ScheduleSpace.Default(node, _target));
        if (_log is null || fallback.Item1 is null || _log.Find(OperatorSignature.Of(node, _target.Name)) is not { } entry) return fallback;
        var kernel = ScheduleSpace.Apply(node, _target, entry.Schedule, out var problem);
        if (kernel is not null) return (kernel, entry.Schedule);
        _warnings.Add(new CompilerWarning(ErrorCodes.TuningScheduleMismatch,
            $"{node}: the tuning log's schedule '{entry.Schedule}' does not fit: {problem}; the default schedule is used", _log.File));
        return fallback;
    }
}
