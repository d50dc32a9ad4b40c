using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>A kernel for some targets only (Dsp/, Helium/); <see cref="KernelRegistry.ForTarget"/> prefers it over the
/// portable kernel of the same operator where <see cref="Handles"/> says so. It states its own memory traits (in-place
/// writes, scratch): the planner asks the kernel that runs.</summary>
internal abstract class TargetKernel : Kernel
{
    public abstract bool Handles(Node node, TargetDescription target);
}
