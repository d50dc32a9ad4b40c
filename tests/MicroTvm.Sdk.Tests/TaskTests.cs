using System.Collections;
using MicroTvm.Build.Tasks;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The model tasks called directly, with a build engine that records what they log: their codes, messages, files
/// and outputs checked without a dotnet build (the end-to-end tests in MicroModelTests check the same through MSBuild).
/// </summary>
public sealed class TaskTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("microtvm-tasktests-").FullName;
    private readonly RecordingBuildEngine engine = new();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void IoInWorkspaceThatIsNeitherTrueNorFalseIsMTVM0107OnTheProject()
    {
        var resolve = Resolve(Model("io.tflite", ("IoInWorkspace", "yes")));

        Assert.False(resolve.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("MTVM0107", error.Code);
        Assert.Equal(engine.ProjectFileOfTaskNode, error.File);
        Assert.Equal("MicroModel 'io.tflite' has IoInWorkspace 'yes'; use 'true' (inputs and outputs inside the workspace: "
            + "<name>_run(workspace)) or 'false' (the default: caller buffers).", error.Message);
        Assert.Empty(resolve.ResolvedModels);
    }

    [Theory]
    [InlineData("TRUE", "true")]
    [InlineData(" false ", "false")]
    [InlineData("", "false")]
    public void ResolvedModelCarriesIoInWorkspaceAsTrueOrFalseAndItsOption(string written, string resolved)
    {
        var resolve = Resolve(Model("kws.tflite", ("IoInWorkspace", written)));

        Assert.True(resolve.Execute(), string.Join("\n", engine.Errors.Select(e => e.Message)));
        var item = Assert.Single(resolve.ResolvedModels);
        Assert.Equal(resolved, item.GetMetadata("IoInWorkspace"));
        Assert.Equal(resolved == "true", MicroTvmResolveModels.IsIoInWorkspace(item));
        Assert.Equal("name=kws;target=cortex-m7;executor=aot" + (resolved == "true" ? ";io-in-workspace" : ""), item.GetMetadata("Options"));
        Assert.Equal(Path.Combine(directory, "gen", "kws.json"), item.GetMetadata("MetadataFile"));
    }

    [Fact]
    public void EachBadMetadataIsItsOwnError()
    {
        var resolve = Resolve(
            Model("missing.tflite", create: false),
            Model("a.tflite", ("Cpu", "cortex-m55")),
            Model("b.tflite", ("Executor", "graph")),
            Model("c.tflite", ("Name", "2fast")),
            Model("d.tflite", ("Name", "kws")),
            Model("kws.tflite"));

        Assert.False(resolve.Execute());
        Assert.Equal(["MTVM0101", "MTVM0102", "MTVM0105", "MTVM0103", "MTVM0104"], engine.Errors.Select(e => e.Code));
        Assert.Contains($"the model file {Path.Combine(directory, "missing.tflite")} does not exist", engine.Errors[0].Message);
        Assert.Contains("has Cpu 'cortex-m55', but board 'nucleo' has a cortex-m7 CPU", engine.Errors[1].Message);
        Assert.Contains("has Name '2fast', which is not a C identifier", engine.Errors[3].Message);
        Assert.Equal("MicroModel 'd.tflite' and MicroModel 'kws.tflite' both have the name 'kws' (the C prefix and the folder of the generated files). Give one of them another Name.",
            engine.Errors[4].Message);
        Assert.All(engine.Errors, e => Assert.Equal("MicroTvm.Sdk.Errors", e.HelpKeyword));
    }

    [Fact]
    public void SizeReportSaysWhetherInputsAndOutputsAreInsideTheWorkspace()
    {
        var resolve = Resolve(Model("a.tflite", ("IoInWorkspace", "true")), Model("b.tflite"));
        Assert.True(resolve.Execute());
        foreach (var item in resolve.ResolvedModels)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(item.GetMetadata("MetadataFile"))!);
            File.WriteAllText(item.GetMetadata("MetadataFile"), "{\n  \"weightsBytes\": 12345,\n  \"workspaceBytes\": 2048,\n  \"stateBytes\": 0\n}\n");
        }

        var report = new MicroTvmReportModelSizes { BuildEngine = engine, Models = resolve.ResolvedModels };

        Assert.True(report.Execute());
        Assert.Equal([
            "  model a (a.tflite): weights 12,345 bytes (flash), workspace 2,048 bytes (RAM, inputs and outputs inside)",
            "  model b (b.tflite): weights 12,345 bytes (flash), workspace 2,048 bytes (RAM)"],
            engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message));
    }

    [Fact]
    public void ModelTheCompilerRejectsIsAnErrorOnTheModelFileAndLeavesNoGeneratedFiles()
    {
        var resolve = Resolve(Model("bad.tflite"));
        Assert.True(resolve.Execute());
        var item = resolve.ResolvedModels[0];
        Directory.CreateDirectory(item.GetMetadata("OutputDirectory"));
        File.WriteAllText(item.GetMetadata("SourceFile"), "/* stale */");

        var compile = new MicroTvmCompileModels { BuildEngine = engine, Models = resolve.ResolvedModels, ProjectDirectory = directory };

        Assert.False(compile.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.StartsWith("MTVM1", error.Code);
        Assert.Equal(Path.Combine(directory, "bad.tflite"), error.File);
        Assert.Equal("MicroTvm.Sdk.Errors", error.HelpKeyword);
        Assert.False(File.Exists(item.GetMetadata("SourceFile")));
        Assert.False(File.Exists(item.GetMetadata("StampFile")));
    }

    private MicroTvmResolveModels Resolve(params ITaskItem[] models) => new()
    {
        BuildEngine = engine,
        Models = models,
        BoardCpu = "cortex-m7",
        Board = "nucleo",
        OutputDirectory = Path.Combine(directory, "gen"),
        ProjectDirectory = directory,
    };

    /// <summary>A MicroModel item; its file exists (bytes that are no TFLite model: these tasks do not read it) unless
    /// <paramref name="create"/> is false.</summary>
    private ITaskItem Model(string include, params (string Name, string Value)[] metadata) => Model(include, true, metadata);

    private ITaskItem Model(string include, bool create, params (string Name, string Value)[] metadata)
    {
        if (create) File.WriteAllText(Path.Combine(directory, include), "not a model");
        var item = new TaskItem(include);
        foreach (var (name, value) in metadata) item.SetMetadata(name, value);
        return item;
    }

    /// <summary>The build engine a task sees inside MSBuild, recording errors, warnings and messages.</summary>
    private sealed class RecordingBuildEngine : IBuildEngine
    {
        public List<BuildErrorEventArgs> Errors { get; } = [];

        public List<BuildWarningEventArgs> Warnings { get; } = [];

        public List<BuildMessageEventArgs> Messages { get; } = [];

        public bool ContinueOnError => false;

        public int LineNumberOfTaskNode => 0;

        public int ColumnNumberOfTaskNode => 0;

        public string ProjectFileOfTaskNode => "/projects/app/app.csproj";

        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
            throw new NotSupportedException();

        public void LogCustomEvent(CustomBuildEventArgs e) { }

        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e);

        public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(e);

        public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e);
    }
}
