using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>The target kernels, asked before the portable kernel that each operator's <see cref="OpKind"/> names
/// (<see cref="KernelSelection"/> chooses each node's kernel once from these).</summary>
internal sealed class KernelRegistry
{
    public static KernelRegistry Instance { get; } = new();

    /// <summary>Kernels for some targets only, asked first (see <see cref="ForTarget"/>).</summary>
    private readonly TargetKernel[] _targetKernels = { new HeliumGemmKernel(), new HeliumGemm16Kernel(), new HeliumDepthwise16Kernel(), new HeliumWindowDepthwiseKernel(), new HeliumPlaneDepthwiseKernel(), new HeliumDepthwiseKernel(), new HeliumAddKernel(), new HeliumBroadcastAddKernel(), new HeliumAdd16Kernel(), new HeliumPoolKernel(), new DspGemmKernel(), new DspFullyConnectedKernel(), new DspLstmKernel(), new DspSvdfKernel(), new DspDepthwiseKernel(), new DspAddKernel(), new DspPoolKernel(), new FpuQuantizeKernel(5), new FpuQuantizeKernel(4) };

    /// <summary>The kernel that writes <paramref name="node"/> for <paramref name="target"/>: a target-specific one
    /// where one handles it, else the portable one.</summary>
    public Kernel? ForTarget(Node node, TargetDescription target) =>
        _targetKernels.FirstOrDefault(k => k.Handles(node, target)) ?? node.Kind.Kernel;
}
