using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>The six incremental-build guarantees, checked with real gcc runs read from binary logs.</summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class IncrementalBuildTests(SdkPackageFixture sdk)
{
    private static readonly string[] AllProjectSources = ["src/main.c", "src/other.c", "src/util.c"];

    private TestProject CreateBuiltProject(out BuildResult first)
    {
        var project = sdk.CreateProject("incremental", "", Projects.ThreeSources());
        first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        return project;
    }

    private static IEnumerable<string> ProjectSources(BuildResult result) =>
        result.CompiledSources.Where(s => s.StartsWith("src/", StringComparison.Ordinal)).Order();

    [Fact]
    public void FirstBuildCompilesEverySourceAndLinksTheFirmware()
    {
        var project = CreateBuiltProject(out var first);
        Assert.Equal(AllProjectSources, ProjectSources(first));
        // The C runtime and the board support are compiled with the project.
        Assert.Contains(first.CompiledSources, s => s.EndsWith("crt/src/platform.c", StringComparison.Ordinal));
        Assert.Contains(first.CompiledSources, s => s.EndsWith("cortexm_startup.c", StringComparison.Ordinal));
        Assert.True(first.Linked);
        foreach (var extension in new[] { ".elf", ".bin", ".hex", ".map" })
        {
            Assert.True(File.Exists(project.PathOf($"bin/Debug/incremental{extension}")), extension);
        }
        Assert.True(File.Exists(project.PathOf("obj/Debug/c/src/main.o")));
        // A compilation database for clangd / VS Code, one entry per compiled source.
        using var database = System.Text.Json.JsonDocument.Parse(File.ReadAllText(project.PathOf("obj/Debug/compile_commands.json")));
        Assert.Equal(first.CompiledSources.Count, database.RootElement.GetArrayLength());
        Assert.Contains(database.RootElement.EnumerateArray(),
            entry => entry.GetProperty("file").GetString() == project.PathOf("src/main.c")
                     && entry.GetProperty("arguments").EnumerateArray().Any(a => a.GetString() == "-mcpu=cortex-m7"));
        // No C# compiler ran and no assembly was produced.
        Assert.DoesNotContain("Csc", first.TasksRun);
        Assert.Empty(Directory.GetFiles(project.PathOf("bin"), "*.dll", SearchOption.AllDirectories));
    }

    [Fact]
    public void TheCompilationDatabaseIsAcceptedByClangd()
    {
        var project = CreateBuiltProject(out _);
        using var database = System.Text.Json.JsonDocument.Parse(File.ReadAllText(project.PathOf("obj/Debug/compile_commands.json")));
        var main = database.RootElement.EnumerateArray().Single(e => e.GetProperty("file").GetString() == project.PathOf("src/main.c"));
        var arguments = main.GetProperty("arguments").EnumerateArray().Select(a => a.GetString()!).ToList();

        // The build's own diagnostics format is not in it (clang rejects it); gcc's built-in include folders are, so a
        // clang-based tool finds newlib's headers.
        Assert.DoesNotContain("-fdiagnostics-plain-output", arguments);
        var systemIncludes = arguments.Where(a => a.StartsWith("-isystem", StringComparison.Ordinal)).Select(a => a["-isystem".Length..]).ToList();
        Assert.Contains(systemIncludes, folder => File.Exists(Path.Combine(folder, "stdio.h")));

        // clangd itself where it is installed (Debian's clangd; not in eng/install-toolchain.sh: it brings ~150 MB of LLVM).
        string? clangd = Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "clangd")).FirstOrDefault(File.Exists);
        if (clangd != null)
        {
            var check = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(clangd)
            {
                ArgumentList = { "--check=" + project.PathOf("src/main.c"), "--compile-commands-dir=" + project.PathOf("obj/Debug") },
                RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = project.Directory,
            })!;
            string log = check.StandardError.ReadToEnd() + check.StandardOutput.ReadToEnd();
            Assert.True(check.WaitForExit(120_000));
            Assert.DoesNotContain("unknown argument", log);
            Assert.Contains("All checks completed, 0 errors", log);
        }
    }

    [Fact]
    public void NoOpBuildRunsNoGccAndRewritesNoFile()
    {
        var project = CreateBuiltProject(out _);
        var before = project.SnapshotOutputs();

        var second = project.Build();

        Assert.True(second.Succeeded, second.ToString());
        Assert.Empty(second.CompiledSources);
        Assert.False(second.Linked);
        Assert.Equal(before, project.SnapshotOutputs());
    }

    [Fact]
    public void TouchingOneSourceRecompilesOnlyThatObjectThenRelinks()
    {
        var project = CreateBuiltProject(out _);
        var otherObject = File.GetLastWriteTimeUtc(project.PathOf("obj/Debug/c/src/other.o"));
        project.Touch("src/util.c");

        var result = project.Build();

        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal(["src/util.c"], result.CompiledSources);
        Assert.True(result.Linked);
        var settled = project.Build();
        Assert.Empty(settled.CompiledSources);
        Assert.False(settled.Linked);
        Assert.Equal(otherObject, File.GetLastWriteTimeUtc(project.PathOf("obj/Debug/c/src/other.o")));
    }

    [Fact]
    public void TouchingAHeaderRecompilesExactlyTheSourcesThatIncludeIt()
    {
        var project = CreateBuiltProject(out _);

        project.Touch("src/common.h");
        var afterCommon = project.Build();
        var settled = project.Build();
        project.Touch("src/util.h");
        var afterUtil = project.Build();

        Assert.True(afterCommon.Succeeded, afterCommon.ToString());
        Assert.Equal(["src/main.c", "src/util.c"], afterCommon.CompiledSources.Order());
        Assert.True(afterCommon.Linked);
        Assert.Empty(settled.CompiledSources);
        Assert.Equal(["src/main.c", "src/util.c"], afterUtil.CompiledSources.Order());
    }

    [Fact]
    public void ChangingADefineTheOptimisationOrTheBoardRebuildsEveryObject()
    {
        var project = CreateBuiltProject(out var first);
        int everything = first.CompiledSources.Count;

        var withDefine = project.Build("-p:PreprocessorDefinitions=EXTRA_FEATURE=1");
        var sameDefineAgain = project.Build("-p:PreprocessorDefinitions=EXTRA_FEATURE=1");
        var optimised = project.Build("-p:PreprocessorDefinitions=EXTRA_FEATURE=1", "-p:OptimizationLevel=s");
        var otherBoard = project.Build("-p:PreprocessorDefinitions=EXTRA_FEATURE=1", "-p:OptimizationLevel=s", "-p:Board=mps2-an386");

        Assert.True(withDefine.Succeeded, withDefine.ToString());
        Assert.Equal(everything, withDefine.CompiledSources.Count);
        Assert.True(withDefine.Linked);
        Assert.Empty(sameDefineAgain.CompiledSources);
        Assert.False(sameDefineAgain.Linked);
        Assert.Equal(everything, optimised.CompiledSources.Count);
        Assert.True(otherBoard.Succeeded, otherBoard.ToString());
        Assert.Equal(everything, otherBoard.CompiledSources.Count);
        Assert.Contains("-mcpu=cortex-m4", File.ReadAllText(project.PathOf("obj/Debug/incremental.link.rsp")));
    }

    [Fact]
    public void DesignTimeBuildRunsNoGcc()
    {
        var project = sdk.CreateProject("designtime", "", Projects.ThreeSources());

        // What Visual Studio and Rider ask for: design-time targets, compiler execution skipped.
        var designTime = project.Build(
            "-t:ResolveAssemblyReferencesDesignTime;ResolveProjectReferencesDesignTime;CompileDesignTime;Compile",
            "-p:DesignTimeBuild=true", "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true", "-p:BuildingInsideVisualStudio=true");
        // Even a Build target requested in a design-time build stops before the tools.
        var designTimeBuild = project.Build("-p:DesignTimeBuild=true");

        Assert.True(designTime.Succeeded, designTime.ToString());
        Assert.True(designTimeBuild.Succeeded, designTimeBuild.ToString());
        foreach (var result in new[] { designTime, designTimeBuild })
        {
            Assert.DoesNotContain("MicroTvmCompileC", result.TasksRun);
            Assert.DoesNotContain("MicroTvmLink", result.TasksRun);
            Assert.DoesNotContain("Csc", result.TasksRun);
        }
        Assert.False(Directory.Exists(project.PathOf("obj/Debug/c")));
        Assert.False(File.Exists(project.PathOf("bin/Debug/designtime.elf")));
    }

    [Fact]
    public void CleanRemovesWhatTheBuildWrote()
    {
        var project = CreateBuiltProject(out _);
        var beforeBuild = project.SnapshotOutputs().Keys.Where(p => p.EndsWith(".o") || p.EndsWith(".elf")).ToList();
        Assert.NotEmpty(beforeBuild);

        var clean = project.Run("clean", [], environment: null);

        Assert.True(clean.Succeeded, clean.ToString());
        var left = project.SnapshotOutputs().Keys
            .Where(p => !p.Contains("project.assets.json") && !p.Contains(".nuget.") && !p.EndsWith("project.nuget.cache")
                        && !p.EndsWith(".assets.cache") && !p.EndsWith("FileListAbsolute.txt"))
            .ToList();
        Assert.Empty(left);
    }
}
