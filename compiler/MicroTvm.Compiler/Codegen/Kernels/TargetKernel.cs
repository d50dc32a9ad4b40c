using System.Text.RegularExpressions;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tuning;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>A kernel for some targets only (Dsp/, Helium/); <see cref="KernelRegistry.ForTarget"/> prefers it over the
/// portable kernel of the same operator where <see cref="Handles"/> says so. It states its own memory traits (in-place
/// writes, scratch): the planner asks the kernel that runs.</summary>
internal abstract class TargetKernel : Kernel
{
    public abstract bool Handles(Node node, TargetDescription target);

    /// <summary>The kernel's name in schedules and tuning logs: the class name in lower case words without "Kernel"
    /// (DspGemmKernel: dsp-gemm).</summary>
    public string ScheduleName => Regex.Replace(GetType().Name.Replace("Kernel", ""), "(?<=[a-z0-9])([A-Z])", "-$1").ToLowerInvariant();

    /// <summary>The knobs this kernel has for <paramref name="node"/> (none: one schedule). Every value of every knob
    /// generates code bit-exact with the reference evaluator; the first value is what the kernel did before it had knobs.</summary>
    public virtual IReadOnlyList<Knob> Knobs(Node node) => Array.Empty<Knob>();

    /// <summary>This kernel with the knobs' values of <paramref name="schedule"/> (checked against <see cref="Knobs"/>).</summary>
    public virtual TargetKernel Configure(Schedule schedule) => this;
}
