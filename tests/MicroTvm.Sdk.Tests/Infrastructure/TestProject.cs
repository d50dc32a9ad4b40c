using Microsoft.Build.Logging.StructuredLogger;
using LoggedTask = Microsoft.Build.Logging.StructuredLogger.Task;
using LoggedBuild = Microsoft.Build.Logging.StructuredLogger.Build;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>A firmware project in a temporary folder, built with the real dotnet CLI.</summary>
public sealed class TestProject(SdkPackageFixture sdk, string directory, string name)
{
    private int buildCount;

    public string Directory { get; } = directory;

    public string Name { get; } = name;

    public string ProjectFile => Path.Combine(Directory, Name + ".csproj");

    public string PathOf(string relativePath) => Path.Combine(Directory, relativePath);

    public void WriteFile(string relativePath, string content) => File.WriteAllText(PathOf(relativePath), content);

    /// <summary>
    /// Sets a file's timestamp to now, as an editor saving it would; waits first until now is later than every
    /// file under obj/ and bin/, so the change is visible whatever the file system's timestamp resolution.
    /// (Never a time in the future: outputs written afterwards would look older than their input.)
    /// </summary>
    public void Touch(string relativePath)
    {
        var newestOutput = SnapshotOutputs().Values.DefaultIfEmpty(DateTime.MinValue).Max();
        while (DateTime.UtcNow <= newestOutput.AddMilliseconds(10))
        {
            Thread.Sleep(10);
        }
        File.SetLastWriteTimeUtc(PathOf(relativePath), DateTime.UtcNow);
    }

    /// <summary>dotnet build (or another command) with a binary log, analysed into a <see cref="BuildResult"/>.</summary>
    public BuildResult Build(params string[] arguments) => Run("build", arguments, environment: null);

    public BuildResult Run(string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment, TimeSpan? timeout = null)
    {
        int count = Interlocked.Increment(ref buildCount); // builds may run at once (the build lock tests)
        string binlog = Path.Combine(sdk.Root, "logs", $"{Path.GetFileName(Directory)}-{count}-{command}.binlog");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(binlog)!);
        var allArguments = new List<string> { command, ProjectFile, "-nodeReuse:false", "-tl:off", "-v:n", "-bl:" + binlog };
        allArguments.AddRange(arguments);
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory };
        if (environment != null)
        {
            foreach (var (key, value) in environment)
            {
                env[key] = value;
            }
        }
        var result = DotNet.Run(Directory, allArguments, env, timeout ?? TimeSpan.FromMinutes(5));
        return new BuildResult(result.ExitCode, result.Output, File.Exists(binlog) ? BinaryLog.ReadBuild(binlog) : null);
    }

    /// <summary>
    /// dotnet <paramref name="command"/> of this project in a pseudo-terminal, with no logger options: the terminal
    /// logger where dotnet build picks it. Returns the exit code and the lines the terminal shows (<see cref="TerminalText"/>).
    /// </summary>
    public ProcessOutput RunInTerminal(string command, params string[] arguments)
    {
        var result = DotNet.RunInTerminal(Directory, [command, .. arguments],
            new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory, ["TERM"] = "xterm-256color" }, TimeSpan.FromMinutes(5));
        return result with { Output = TerminalText.Visible(result.Output) };
    }

    /// <summary>Every file under obj/ and bin/ with its last write time, except the build lock (obj/&lt;cfg&gt;/microtvm.lock):
    /// every build writes its process id there, and it is no output.</summary>
    public Dictionary<string, DateTime> SnapshotOutputs()
    {
        var snapshot = new Dictionary<string, DateTime>();
        foreach (var folder in new[] { "obj", "bin" })
        {
            string root = PathOf(folder);
            if (!System.IO.Directory.Exists(root))
            {
                continue;
            }
            foreach (var file in System.IO.Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                if (Path.GetFileName(file) == "microtvm.lock")
                {
                    continue;
                }
                snapshot[Path.GetRelativePath(Directory, file)] = File.GetLastWriteTimeUtc(file);
            }
        }
        return snapshot;
    }
}

public sealed record LoggedError(string Code, string File, int Line, int Column, string Text);

/// <summary>What one build did, read from its binary log.</summary>
public sealed class BuildResult
{
    private const string CompileMarker = "MicroTvmCompileC: compiling ";

    public BuildResult(int exitCode, string output, LoggedBuild? log)
    {
        ExitCode = exitCode;
        Output = output;
        Log = log;
        if (log == null)
        {
            return;
        }
        var tasks = log.FindChildrenRecursive<LoggedTask>();
        TasksRun = tasks.Select(t => t.Name).ToList();
        CompiledSources = tasks.Where(t => t.Name == "MicroTvmCompileC")
            .SelectMany(t => t.FindChildrenRecursive<Message>())
            .Select(m => m.Text)
            .Where(text => text.StartsWith(CompileMarker, StringComparison.Ordinal))
            .Select(text => text[CompileMarker.Length..].Replace('\\', '/'))
            .ToList();
        Errors = log.FindChildrenRecursive<Error>()
            .Select(e => new LoggedError(e.Code ?? "", e.File ?? "", e.LineNumber, e.ColumnNumber, e.Text ?? ""))
            .ToList();
        Warnings = log.FindChildrenRecursive<Warning>()
            .Select(e => new LoggedError(e.Code ?? "", e.File ?? "", e.LineNumber, e.ColumnNumber, e.Text ?? ""))
            .ToList();
    }

    public int ExitCode { get; }

    public string Output { get; }

    public LoggedBuild? Log { get; }

    public bool Succeeded => ExitCode == 0;

    /// <summary>Names of the MSBuild tasks that executed (skipped targets run no task).</summary>
    public IReadOnlyList<string> TasksRun { get; } = [];

    /// <summary>Sources gcc compiled in this build, as the compile task names them (relative to the project).</summary>
    public IReadOnlyList<string> CompiledSources { get; } = [];

    public bool Linked => TasksRun.Contains("MicroTvmLink");

    public IReadOnlyList<LoggedError> Errors { get; } = [];

    public IReadOnlyList<LoggedError> Warnings { get; } = [];

    public override string ToString() => $"exit {ExitCode}\n{Output}";
}
