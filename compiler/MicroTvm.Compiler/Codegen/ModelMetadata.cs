using System.Text.Json;
using System.Text.Json.Serialization;

namespace MicroTvm.Compiler.Codegen;

/// <summary>What <c>&lt;name&gt;.json</c> holds: the model's interface, operators and memory plan (the equivalent of
/// microTVM's Model Library Format metadata).</summary>
/// <param name="WorkspaceBytes">Size of the caller-supplied workspace (graph inputs and outputs included when <paramref name="IoInWorkspace"/>).</param>
/// <param name="WorkspaceLowerBoundBytes">No packing of the workspace buffers (after aliasing and in-place sharing) can be smaller.</param>
/// <param name="GreedyBySizeBytes">What the classic greedy-by-size placement would need, for comparison.</param>
/// <param name="InputOutputBytes">Bytes of the caller's own input and output buffers, outside the workspace (0 when
/// <paramref name="IoInWorkspace"/>): the model's RAM is always WorkspaceBytes + InputOutputBytes.</param>
/// <param name="IoInWorkspace">The graph's inputs and outputs live inside the workspace (their offsets are in
/// <see cref="IoMetadata.Offset"/>); <c>&lt;name&gt;_run(void* workspace)</c>.</param>
/// <param name="ActivationLowerBoundBytes">The analysis' activation lower bound: the most activation bytes live at one operator, graph inputs and outputs included, without in-place reuse (compare with WorkspaceBytes + InputOutputBytes).</param>
/// <param name="ScratchBytes">The most kernel scratch one operator uses (scratch lives in the workspace during its
/// operator's step only; per operator in <see cref="OperatorMetadata.ScratchBytes"/>).</param>
/// <param name="WorkspaceWithoutScratchBytes">What the workspace would be without any scratch: WorkspaceBytes minus
/// this is what the scratch costs.</param>
/// <param name="StateBytes">Bytes of the model's state (variable tensors) at the start of the workspace, part of
/// WorkspaceBytes, kept between runs; <c>&lt;name&gt;_reset</c> initialises them.</param>
/// <param name="WeightsBytes">Bytes of all constant data in the generated C (weights, folded biases, multipliers, tables).</param>
/// <param name="WeightLayout">How the kernels that have the choice store the weights ("int16" widened, "int8" compact,
/// both joined with '+' when a tuning log mixes them); absent when no kernel of the model has the choice.</param>
public sealed record ModelMetadata(
    string Name,
    string Target,
    string? Source,
    long WorkspaceBytes,
    int WorkspaceAlignment,
    long WorkspaceLowerBoundBytes,
    long GreedyBySizeBytes,
    string PlannerStrategy,
    long InputOutputBytes,
    bool IoInWorkspace,
    long ActivationLowerBoundBytes,
    long WeightsBytes,
    long Macs,
    IReadOnlyList<IoMetadata> Inputs,
    IReadOnlyList<IoMetadata> Outputs,
    IReadOnlyList<OperatorMetadata> Operators,
    IReadOnlyList<TensorMetadata> MemoryPlan,
    long ScratchBytes = 0,
    long WorkspaceWithoutScratchBytes = 0,
    long StateBytes = 0,
    string? WeightLayout = null)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options).Replace("\r\n", "\n") + "\n";

    public static ModelMetadata FromJson(string json) => JsonSerializer.Deserialize<ModelMetadata>(json, Options)
        ?? throw new JsonException("empty metadata");
}

/// <summary>A graph input or output as the C API exposes it.</summary>
/// <param name="Offset">Byte offset inside the workspace when the inputs and outputs live there; null for a caller's buffer.</param>
public sealed record IoMetadata(int Index, int Tensor, string Name, string Type, int[] Shape, long Bytes, double? Scale, long? ZeroPoint, long? Offset = null);

/// <summary>One operator in execution order.</summary>
/// <param name="Function">The generated C function; null for an alias (RESHAPE …) that runs no code.</param>
/// <param name="ScratchBytes">Workspace bytes its kernel uses as scratch during this step (null: none).</param>
/// <param name="ScratchOffset">Where in the workspace.</param>
/// <param name="Schedule">The kernel and its knobs (docs/tuning.md), e.g. "dsp-gemm layout=int8"; "portable" for the portable kernel.</param>
public sealed record OperatorMetadata(int Step, int Index, string Kind, string? Function, int[] Inputs, int[] Outputs, long? Macs,
    long? ScratchBytes = null, long? ScratchOffset = null, string? Schedule = null);

/// <summary>Where one activation lives.</summary>
/// <param name="Storage">workspace, input, output, state.</param>
/// <param name="Offset">Byte offset in the workspace (workspace and state storage).</param>
/// <param name="FirstStep">Execution step that writes it (-1: a graph input or a state tensor).</param>
/// <param name="LastStep">Last step that reads it (null: a graph output, read by the caller).</param>
/// <param name="SharesWith">Tensor ids sharing the same bytes (aliases, in-place operators).</param>
public sealed record TensorMetadata(int Tensor, string Name, string Type, int[] Shape, long Bytes, string Storage, long? Offset, int FirstStep, int? LastStep, int[]? SharesWith);
