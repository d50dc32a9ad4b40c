using System.Text;
using MicroTvm.Compiler.Codegen.Kernels;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Passes;
using MicroTvm.Compiler.Planning;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Codegen;

/// <summary>What to compile for.</summary>
/// <param name="Target">A <see cref="Targets"/> name (cortex-m7, host, …).</param>
/// <param name="Name">The C prefix (<c>&lt;name&gt;_run</c>, <c>&lt;name&gt;.h</c>); defaults to the graph's name. Made a
/// valid C identifier: characters other than letters, digits and '_' become '_'.</param>
/// <param name="PortableKernels">Use only the portable C kernels, also where the target has DSP/MVE ones (to compare
/// the two, or to rule the target kernels out while debugging). The target's flags and alignment still apply.</param>
/// <param name="IoInWorkspace">Place the graph's inputs and outputs inside the workspace, planned like every other
/// tensor (an input's bytes are reused after its last reader, an output's bytes are taken only from its producer on):
/// <c>&lt;name&gt;_run(void* workspace)</c> and accessors <c>&lt;name&gt;_input0(workspace)</c>,
/// <c>&lt;name&gt;_output0(workspace)</c> instead of caller-owned input and output buffers.</param>
/// <param name="Tuning">Schedules per operator signature (docs/tuning.md); operators without an entry keep their
/// default schedule. Ignored with <paramref name="PortableKernels"/>.</param>
/// <param name="GccFlags">The flags that will compile the generated C (a board's <c>MicroTvmCpuFlags</c>); when given,
/// they must build for <paramref name="Target"/> (<see cref="TargetDescription.CheckGccFlags"/>), else MTVM1013.</param>
/// <param name="WeightLayout">How kernels with the choice store weights (docs/tuning.md): Speed (widened, the default) or
/// Size (compact). A tuning log entry's explicit layout wins for its signature.</param>
public sealed record CompileOptions(string Target = "host", string? Name = null, bool PortableKernels = false, bool IoInWorkspace = false, Tuning.TuningLog? Tuning = null, string? GccFlags = null,
    Tuning.WeightLayout WeightLayout = Tuning.WeightLayout.Speed);

/// <summary>The generated files (file name → content) and the facts about them.</summary>
public sealed class GeneratedModel
{
    internal GeneratedModel(string name, IReadOnlyDictionary<string, string> files, ModelMetadata metadata)
    {
        Name = name;
        Files = files;
        Metadata = metadata;
    }

    /// <summary>Problems that did not stop compilation (a stale or mismatched tuning log).</summary>
    public IReadOnlyList<CompilerWarning> Warnings { get; init; } = Array.Empty<CompilerWarning>();

    /// <summary>The C prefix; file names are <c>Name.c</c>, <c>Name.h</c>, <c>Name.json</c>.</summary>
    public string Name { get; }

    public IReadOnlyDictionary<string, string> Files { get; }

    public ModelMetadata Metadata { get; }

    public string SourceFile => Name + ".c";

    public string HeaderFile => Name + ".h";

    public string MetadataFile => Name + ".json";

    /// <summary>The memory plan as a picture (<see cref="MemoryPlanPicture"/>).</summary>
    public string PlanPictureFile => MemoryPlanPicture.FileName(Name);

    /// <summary>Writes every file into <paramref name="directory"/> (created if needed). All files are written to
    /// temporary names first and only then renamed, so a failure never leaves half a file or a mixed set; files whose
    /// content is already identical are left untouched (their timestamps too, for incremental builds).</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var pending = new List<(string Temporary, string Path)>();
        try
        {
            foreach (var (file, content) in Files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var path = Path.Combine(directory, file);
                if (File.Exists(path) && File.ReadAllText(path) == content) continue;
                var temporary = path + ".tmp";
                File.WriteAllText(temporary, content, new UTF8Encoding(false));
                pending.Add((temporary, path));
            }

            foreach (var (temporary, path) in pending) File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            foreach (var (temporary, _) in pending)
                if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}

/// <summary>
/// Turns a graph into C: one function per operator, one entry point <c>&lt;name&gt;_run</c>, constants as
/// <c>static const</c> data, activations at planned offsets in one caller-supplied workspace.
/// </summary>
public static class ModelCompiler
{
    public static GeneratedModel Compile(Graph graph, CompileOptions options)
    {
        var target = Targets.Find(options.Target);
        if (options.GccFlags is { } flags && target.CheckGccFlags(flags) is { } mismatch)
            throw new CompilerException(ErrorCodes.GccFlagsMismatch, $"the C compiler flags '{flags}' do not build for {target.Name}: {mismatch}") { File = graph.SourcePath };
        if (options.PortableKernels) target = target with { HasDsp = false, HasMve = false };
        string name = CIdentifier(options.Name ?? graph.Name, graph.SourcePath);
        graph.Validate();
        graph = GraphPasses.Apply(graph);
        var kernels = KernelSelection.Choose(graph, target, options.PortableKernels ? null : options.Tuning, options.WeightLayout);

        foreach (var tensor in graph.Inputs.Concat(graph.Outputs))
            if (tensor.IsConstant)
                throw new CompilerException(ErrorCodes.UnsupportedOperatorCodegen, $"graph input/output {tensor} is a constant") { File = graph.SourcePath };

        var plan = kernels.GrantScratchWishes(graph, () => MemoryPlanner.Plan(graph, kernels, target.Alignment, options.IoInWorkspace));
        long withoutScratch = plan.ScratchOffsets.Count == 0 ? plan.WorkspaceBytes
            : MemoryPlanner.Plan(graph, new WithoutScratch(kernels), target.Alignment, options.IoInWorkspace).WorkspaceBytes;
        try
        {
            return new SourceEmitter(graph, name, target, kernels, plan, withoutScratch).Emit() is var generated && kernels.Warnings.Count > 0
                ? new GeneratedModel(generated.Name, generated.Files, generated.Metadata) { Warnings = kernels.Warnings }
                : generated;
        }
        catch (CompilerException e)
        {
            throw e.WithFile(graph.SourcePath ?? graph.Name);
        }
    }

    /// <summary>The model name as a C identifier (letters, digits, '_'; not starting with a digit).</summary>
    public static string CIdentifier(string name, string? file = null)
    {
        string result = CIdentifiers.From(name);
        if (!CIdentifiers.IsValid(result))
            throw new CompilerException(ErrorCodes.InvalidModelName, $"model name '{name}' has no letter or digit to build a C identifier from; give a name") { File = file };
        return result;
    }

    /// <summary>The same kernels as if none needed scratch: the plan the JSON compares the real one with.</summary>
    private sealed class WithoutScratch(IKernelMemoryTraits kernels) : IKernelMemoryTraits
    {
        public bool IsAlias(Node node) => kernels.IsAlias(node);

        public bool CanWriteOver(Node node, int inputIndex) => kernels.CanWriteOver(node, inputIndex);

        public long ScratchBytes(Node node) => 0;
    }
}
