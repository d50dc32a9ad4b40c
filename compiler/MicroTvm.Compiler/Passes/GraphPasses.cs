using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Passes;

/// <summary>The graph rewrites of every compilation, in order: the kernel selection, the tuning tasks and the code
/// generator all see the same graph.</summary>
public static class GraphPasses
{
    public static Graph Apply(Graph graph) => ActivationFusion.Apply(ConstantFolding.Apply(graph));
}
