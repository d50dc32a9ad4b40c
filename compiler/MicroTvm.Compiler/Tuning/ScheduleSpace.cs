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
    public static Schedule Default(Node node, TargetDescription target, WeightLayout layout = WeightLayout.Speed) =>
        KernelRegistry.Instance.ForTarget(node, target) is TargetKernel k ? new Schedule(k.ScheduleName, LayoutKnobs(k.Knobs(node), layout)) : new Schedule(Schedule.Portable);

    /// <summary>The weight-layout knobs set for <paramref name="layout"/>; none under Speed (their defaults), so a build
    /// without a log generates today's code byte for byte.</summary>
    private static Dictionary<string, string> LayoutKnobs(IEnumerable<Knob> knobs, WeightLayout layout) =>
        layout == WeightLayout.Speed ? new() : knobs.Where(k => k.IsWeightLayout).ToDictionary(k => k.Name, k => k.ValueFor(layout));

    /// <summary>A log entry's schedule with the knobs it leaves out set for <paramref name="layout"/>: an explicit
    /// layout in the log wins over the build's.</summary>
    public static Schedule WithLayout(Node node, TargetDescription target, Schedule schedule, WeightLayout layout)
    {
        if (layout == WeightLayout.Speed || KernelRegistry.Instance.ForTarget(node, target) is not TargetKernel k || k.ScheduleName != schedule.Kernel) return schedule;
        var knobs = LayoutKnobs(k.Knobs(node), layout);
        foreach (var (name, value) in schedule.Knobs) knobs[name] = value;
        return new Schedule(schedule.Kernel, knobs);
    }

    /// <summary>The values of the weight-layout knobs <paramref name="schedule"/> runs with ("int16", "int8"); empty when
    /// the node's kernel has no such knob.</summary>
    public static IEnumerable<string> LayoutValues(Node node, TargetDescription target, Schedule schedule) =>
        KernelRegistry.Instance.ForTarget(node, target) is TargetKernel k && k.ScheduleName == schedule.Kernel
            ? k.Knobs(node).Where(x => x.IsWeightLayout).Select(schedule.Get) : Enumerable.Empty<string>();

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
    private readonly WeightLayout _layout;
    private readonly List<CompilerWarning> _warnings = new();

    public ScheduleChoice(TuningLog? log, TargetDescription target, string? modelFile, WeightLayout layout = WeightLayout.Speed)
    {
        _log = log;
        _target = target;
        _layout = layout;
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
        var registered = KernelRegistry.Instance.ForTarget(node, _target);
        var defaultSchedule = ScheduleSpace.Default(node, _target, _layout);
        var fallback = (defaultSchedule.Knobs.Count == 0 ? registered : ScheduleSpace.Apply(node, _target, defaultSchedule, out _), defaultSchedule);
        if (_log is null || registered is null || _log.Find(OperatorSignature.Of(node, _target.Name)) is not { } entry) return fallback;
        var schedule = ScheduleSpace.WithLayout(node, _target, entry.Schedule, _layout);
        var kernel = ScheduleSpace.Apply(node, _target, schedule, out var problem);
        if (kernel is not null) return (kernel, schedule);
        _warnings.Add(new CompilerWarning(ErrorCodes.TuningScheduleMismatch,
            $"{node}: the tuning log's schedule '{entry.Schedule}' does not fit: {problem}; the default schedule is used", _log.File));
        return fallback;
    }
}
