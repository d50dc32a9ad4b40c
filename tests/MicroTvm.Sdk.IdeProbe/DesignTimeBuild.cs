using System.Text.Json;
using Microsoft.Build.Evaluation;
using Microsoft.Build.Execution;
using Microsoft.Build.Framework;

namespace MicroTvm.Sdk.IdeProbe;

/// <summary>Kept apart from Program's top level: no Microsoft.Build type may be loaded before the Locator registered MSBuild.</summary>
internal static class DesignTimeBuild
{
    /// <summary>The global properties Visual Studio's project system sets for a design-time build.</summary>
    private static readonly Dictionary<string, string> DesignTime = new()
    {
        ["DesignTimeBuild"] = "true",
        ["BuildingProject"] = "false",
        ["SkipCompilerExecution"] = "true",
        ["ProvideCommandLineArgs"] = "true",
        ["BuildProjectReferences"] = "false",
    };

    public static int Run(string projectFile, string[] targets, string[] itemTypes)
    {
        var errors = new ErrorLogger();
        using var collection = new ProjectCollection();
        var parameters = new BuildParameters(collection) { Loggers = [errors], DisableInProcNode = false, EnableNodeReuse = false };

        // Restore first, in its own evaluation (as IDEs and dotnet build do).
        var restore = BuildManager.DefaultBuildManager.Build(parameters,
            new BuildRequestData(projectFile, new Dictionary<string, string?> { ["MSBuildRestoreSessionId"] = Guid.NewGuid().ToString() }, null, ["Restore"], null));

        var project = collection.LoadProject(projectFile, DesignTime, null);
        var instance = project.CreateProjectInstance();
        var existing = targets.Where(t => instance.Targets.ContainsKey(t)).ToArray();
        var result = BuildManager.DefaultBuildManager.Build(parameters,
            new BuildRequestData(instance, existing, null, BuildRequestDataFlags.ProvideProjectStateAfterBuild));

        var output = new Dictionary<string, object>
        {
            ["restore"] = restore.OverallResult.ToString(),
            ["results"] = targets.ToDictionary(t => t, t => result.ResultsByTarget.TryGetValue(t, out var r) ? r.ResultCode.ToString() : "Missing"),
            ["items"] = itemTypes.ToDictionary(type => type, type => (result.ProjectStateAfterBuild ?? instance).GetItems(type)
                .Select(i => i.GetMetadataValue("FullPath")).ToArray()),
            ["properties"] = new[] { "MicroTvmSdkRoot", "Board", "MicroTvmCpu", "MicroTvmModelDirectory", "MicroTvmCompileCommandsFile", "TargetFramework", "MSBuildRuntimeType", "MSBuildVersion" }
                .ToDictionary(p => p, p => instance.GetPropertyValue(p)),
            ["evaluationItems"] = itemTypes.ToDictionary(type => type, type => project.GetItems(type).Select(i => i.EvaluatedInclude).ToArray()),
            ["errors"] = errors.Errors,
        };
        Console.WriteLine(JsonSerializer.Serialize(output, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private sealed class ErrorLogger : ILogger
    {
        public List<string> Errors { get; } = [];
        public LoggerVerbosity Verbosity { get; set; } = LoggerVerbosity.Quiet;
        public string? Parameters { get; set; }
        public void Initialize(IEventSource eventSource) => eventSource.ErrorRaised += (_, e) => Errors.Add($"{e.File}({e.LineNumber}): {e.Code}: {e.Message}");
        public void Shutdown() { }
    }
}
