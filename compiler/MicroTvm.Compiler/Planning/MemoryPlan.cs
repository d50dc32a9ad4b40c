using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Planning;

/// <summary>Where a tensor's bytes live while the model runs.</summary>
public enum StorageKind
{
    /// <summary>At <see cref="TensorPlacement.Offset"/> in the caller's workspace.</summary>
    Workspace,

    /// <summary>In the caller's buffer for graph input <see cref="TensorPlacement.IoIndex"/> (read only).</summary>
    Input,

    /// <summary>In the caller's buffer for graph output <see cref="TensorPlacement.IoIndex"/>.</summary>
    Output,

    /// <summary>Constant data in flash.</summary>
    Constant,

    /// <summary>A variable (state) tensor at <see cref="TensorPlacement.Offset"/> in the workspace's state region
    /// (the first <see cref="MemoryPlan.StateBytes"/> bytes), kept from one run to the next.</summary>
    State,
}

/// <summary>
/// The placement of one tensor. Tensors that share storage (a reshape and its input, an operator writing over an
/// input it was the last reader of) have the same <see cref="Buffer"/>, kind and offset.
/// </summary>
/// <param name="Buffer">Id of the shared buffer; -1 for constants.</param>
/// <param name="FirstStep">Position in execution order where the tensor is written (-1 for graph inputs, variables and constants).</param>
/// <param name="LastStep">Last position where it is read (or written, if never read); int.MaxValue for graph outputs
/// and, with inputs and outputs in the workspace, for every tensor sharing a graph output's bytes.</param>
public sealed record TensorPlacement(Tensor Tensor, StorageKind Kind, int IoIndex, long Offset, long Bytes, int Buffer, int FirstStep, int LastStep);

/// <summary>The static memory plan of a graph: every tensor's storage and the workspace it needs.</summary>
public sealed class MemoryPlan
{
    public MemoryPlan(IReadOnlyDictionary<Tensor, TensorPlacement> placements, IReadOnlyList<BufferRequest> buffers, PackingResult packing, int alignment, bool ioInWorkspace,
        IReadOnlyDictionary<Node, long>? scratchOffsets = null, long stateBytes = 0)
    {
        StateBytes = stateBytes;
        ScratchOffsets = scratchOffsets ?? new Dictionary<Node, long>();
        IoInWorkspace = ioInWorkspace;
        Placements = placements;
        Buffers = buffers;
        Packing = packing;
        Alignment = alignment;
    }

    public IReadOnlyDictionary<Tensor, TensorPlacement> Placements { get; }

    /// <summary>The workspace buffers as the packer saw them (aligned sizes, lifetimes in steps).</summary>
    public IReadOnlyList<BufferRequest> Buffers { get; }

    public PackingResult Packing { get; }

    public int Alignment { get; }

    /// <summary>Graph inputs and outputs live in the workspace too (no caller buffers).</summary>
    public bool IoInWorkspace { get; }

    /// <summary>The state region at the start of the workspace: every variable tensor, each aligned, never shared.</summary>
    public long StateBytes { get; }

    /// <summary>The state region followed by the packed buffers.</summary>
    public long WorkspaceBytes => StateBytes + Packing.TotalBytes;

    /// <summary>Workspace offset of each operator's scratch (operators whose kernel needs some).</summary>
    public IReadOnlyDictionary<Node, long> ScratchOffsets { get; }

    public TensorPlacement this[Tensor tensor] => Placements[tensor];
}
