using System.Text;

namespace MicroTvm.Compiler.Tuning;

/// <summary>One knob of a target kernel's schedule: its name and its values, today's value first (the default).
/// <paramref name="Compact"/>: for a knob that chooses how the weights are stored, the value that stores them in the
/// fewest bytes (what <see cref="WeightLayout.Size"/> takes; <see cref="WeightLayout.Speed"/> takes the default). Null:
/// the knob does not change the weights' flash.</summary>
public sealed record Knob(string Name, IReadOnlyList<string> Values, string? Compact = null)
{
    public string Default => Values[0];

    public bool IsWeightLayout => Compact is not null;

    /// <summary>The knob's value under <paramref name="layout"/>.</summary>
    public string ValueFor(WeightLayout layout) => layout == WeightLayout.Size && Compact is not null ? Compact : Default;
}

/// <summary>How the kernels store weights where they have the choice (<c>MicroTvmWeightLayout</c>, <c>--weight-layout</c>):
/// Speed, each kernel's fastest layout (the DSP kernels' filters widened to int16); Size, each kernel's most compact one
/// (int8). The build's <c>auto</c> is not a compiler setting: it links with Speed and compiles with Size only when that
/// firmware does not fit the board's flash (docs/tuning.md).</summary>
public enum WeightLayout
{
    Speed,
    Size,
}

/// <summary>
/// How one operator is generated: the kernel (a target kernel's name such as <c>dsp-gemm</c>, or <c>portable</c>) and
/// a value for each of that kernel's knobs. A knob left out takes its default. Two schedules are equal when their
/// text is (<c>dsp-gemm layout=int8 requantization=fast</c>: knobs in name order).
/// </summary>
public sealed class Schedule : IEquatable<Schedule>
{
    public const string Portable = "portable";

    public Schedule(string kernel, IReadOnlyDictionary<string, string>? knobs = null)
    {
        Kernel = kernel;
        Knobs = new SortedDictionary<string, string>(knobs?.ToDictionary(k => k.Key, k => k.Value) ?? new Dictionary<string, string>(), StringComparer.Ordinal);
    }

    public string Kernel { get; }

    public IReadOnlyDictionary<string, string> Knobs { get; }

    /// <summary>The knob's value, else its default.</summary>
    public string Get(Knob knob) => Knobs.TryGetValue(knob.Name, out var v) ? v : knob.Default;

    public override string ToString()
    {
        var text = new StringBuilder(Kernel);
        foreach (var (name, value) in Knobs) text.Append(' ').Append(name).Append('=').Append(value);
        return text.ToString();
    }

    public bool Equals(Schedule? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as Schedule);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}

/// <summary>The kernel set's version, part of every operator signature: bump it when a kernel's code or knobs change
/// in a way that makes earlier measurements meaningless (a log for another version is stale, MTVM5002).</summary>
public static class KernelSet
{
    public const int Version = 5;
}
