using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Codegen.Kernels;

/// <summary>All kernels: the portable one of each operator kind, and the target kernels asked first
/// (<see cref="KernelSelection"/> chooses each node's kernel once from these).</summary>
internal sealed class KernelRegistry
{
    public static KernelRegistry Instance { get; } = new();

    private readonly Dictionary<OpKind, Kernel> _byKind = new();

    /// <summary>Kernels for some targets only, asked first (see <see cref="ForTarget"/>).</summary>
    private readonly TargetKernel[] _targetKernels = { new HeliumGemmKernel(), new HeliumDepthwiseKernel(), new HeliumAddKernel(), new HeliumPoolKernel(), new DspGemmKernel(), new DspDepthwiseKernel(), new DspAddKernel(), new DspPoolKernel() };

    private KernelRegistry()
    {
        Kernel[] kernels =
        {
            new FullyConnectedKernel(), new ConvolutionKernel(), new PoolingKernel(), new ReshapeKernel(),
            new SoftmaxKernel(), new BinaryElementwiseKernel(), new QuantizeKernel(), new DequantizeKernel(), new UnaryKernel(), new LayoutKernel(), new MeanKernel(),
            new TransposeConvKernel(),
        };
        foreach (var kernel in kernels)
            foreach (var kind in kernel.Kinds) _byKind.Add(kind, kernel);
    }

    public Kernel? Find(OpKind kind) => _byKind.GetValueOrDefault(kind);

    /// <summary>The kernel that writes <paramref name="node"/> for <paramref name="target"/>: a target-specific one
    /// where one handles it, else the portable one.</summary>
    public Kernel? ForTarget(Node node, TargetDescription target) =>
        _targetKernels.FirstOrDefault(k => k.Handles(node, target)) ?? Find(node.Kind);
}
