using MicroTvm.Compiler.Tests.Frontend;
using System.Diagnostics;
using MicroTvm.Build.Tasks;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The build stage under abuse (issue 16): model names that would hide headers, a damaged obj/, two builds of one
/// project at once, MSBuild-special characters in the project path, forged compiler diagnostics. Real dotnet builds
/// of the packed SDK with real gcc.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet pack and build, gcc, QEMU: not in eng/test.sh --fast
public sealed class BuildRobustnessTests(SdkPackageFixture sdk)
{
    private string ModelFile(string model) => Path.Combine(sdk.RepositoryRoot, "tests", "models", model, "model.tflite");

    /// <summary>The generated-models folder is on every source's include path: a model named like a C library header
    /// (its default name comes from the file name), or like a header in another include folder, is refused before the
    /// compiler runs, naming the model; renamed, the same sources build.</summary>
    [Fact]
    public void AModelNamedLikeAHeaderIsRefusedAndOrdinaryNamesBuild()
    {
        var project = sdk.CreateProject("shadow", """
              <ItemGroup>
                <MicroModel Include="stdint.tflite" />
                <MicroModel Include="text.tflite" Name="String" />
                <MicroModel Include="util.tflite" />
                <IncludeDirectory Include="inc" />
              </ItemGroup>
            """, new Dictionary<string, string>
            {
                ["inc/util.h"] = "int util_answer(void);\n",
                ["main.c"] = """
                    #include <stdint.h>
                    #include <stdio.h>
                    #include <string.h>
                    #include "util.h"
                    #include "stdint_model.h"
                    #include "text.h"
                    #include "util_net.h"
                    int util_answer(void) { return 42; }
                    int main(void) { char text[8]; strcpy(text, "ok"); printf("%s %d\n", text, (int)INT8_MAX + util_answer()); return 0; }
                    """,
            });
        foreach (var file in new[] { "stdint.tflite", "text.tflite", "util.tflite" })
        {
            File.Copy(ModelFile("hello_world_int8"), project.PathOf(file));
        }

        var refused = project.Build();

        Assert.False(refused.Succeeded);
        Assert.DoesNotContain("MicroTvmCompileModels", refused.TasksRun);
        Assert.Equal(3, refused.Errors.Count);
        Assert.All(refused.Errors, e => Assert.Equal(("MTVM0120", project.ProjectFile), (e.Code, e.File)));
        Assert.Contains(refused.Errors, e => e.Text.Contains("MicroModel 'stdint.tflite' has the name 'stdint'") && e.Text.Contains("<stdint.h>"));
        Assert.Contains(refused.Errors, e => e.Text.Contains("MicroModel 'text.tflite' has the name 'String'") && e.Text.Contains("<string.h>"));
        Assert.Contains(refused.Errors, e => e.Text.Contains("MicroModel 'util.tflite' has the name 'util'") && e.Text.Contains(project.PathOf("inc/util.h")));

        project.WriteFile("shadow.csproj", File.ReadAllText(project.ProjectFile)
            .Replace("Include=\"stdint.tflite\"", "Include=\"stdint.tflite\" Name=\"stdint_model\"")
            .Replace("Name=\"String\"", "Name=\"text\"")
            .Replace("Include=\"util.tflite\"", "Include=\"util.tflite\" Name=\"util_net\""));
        var built = project.Build();
        Assert.True(built.Succeeded, built.ToString());
        Assert.Empty(built.Warnings);
        Assert.True(File.Exists(project.PathOf("obj/Debug/models/stdint_model.h")));
    }

    /// <summary>A tensor name from the model that holds a newline and an error line of its own, in a model file
    /// whose name looks like an error prefix: in every compiler host (in-process, the microtvm tool, the netstandard2.0
    /// task of Visual Studio's MSBuild, which always runs the tool) the build reports exactly one error, the model's,
    /// on the model's file, with the newline shown escaped.</summary>
    [Fact]
    public void ANewlineInATensorNameCannotForgeASecondError()
    {
        var project = sdk.CreateProject("forge", """
              <ItemGroup>
                <MicroModel Include="net: error MTVM9999: x.tflite" Name="net" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        string model = project.PathOf("net: error MTVM9999: x.tflite");
        const string forged = "y\nspoofed.c : error MTVM0000: forged error\r\nspoofed.c(1,1): error MTVM0001: another";
        var builder = new TfliteModelBuilder();
        int x = builder.AddTensor("x", TfliteModelBuilder.TensorTypes.Float32, [1, 4]);
        int y = builder.AddTensor(forged, TfliteModelBuilder.TensorTypes.Float16, [1, 4]);
        builder.Inputs.Add(x);
        builder.Outputs.Add(y);
        builder.AddOperator(TfliteModelBuilder.Builtin.Relu, [x], [y]);
        File.WriteAllBytes(model, builder.Build());

        string netStandardTasks = Path.Combine(sdk.PackagesDirectory, "microtvm.sdk", sdk.Version.ToLowerInvariant(), "tasks", "netstandard2.0", "MicroTvm.Build.Tasks.dll");
        string[][] hosts = [[], ["-p:MicroTvmModelCompiler=Cli"], ["-p:MicroTvmTasksAssembly=" + netStandardTasks]];
        foreach (var arguments in hosts)
        {
            var result = project.Build(arguments);

            string host = arguments.Length == 0 ? "in-process" : arguments[0];
            Assert.False(result.Succeeded, host);
            var error = Assert.Single(result.Errors);
            Assert.Equal(("MTVM1005", model), (error.Code, error.File));
            Assert.Contains("spoofed.c : error MTVM0000: forged error", error.Text);
            Assert.Contains("spoofed.c(1,1): error MTVM0001: another' has element type float16", error.Text);
            Assert.DoesNotContain('\n', error.Text);
            Assert.DoesNotContain('\r', error.Text);
            Assert.DoesNotContain("MTVM0000", result.Errors.Select(e => e.Code));
            Assert.Contains("1 Error(s)", result.Output);
        }
    }

    private const string ModelMain = """
        #include "net.h"
        static uint8_t workspace[NET_WORKSPACE_SIZE] __attribute__((aligned(NET_WORKSPACE_ALIGNMENT)));
        static net_input0_t input[NET_INPUT0_ELEMENTS];
        static net_output0_t output[NET_OUTPUT0_ELEMENTS];
        int main(void)
        {
            const net_inputs in = { .input0 = input };
            const net_outputs out = { .output0 = output };
            return net_run(&in, &out, workspace);
        }
        """;

    private TestProject CreateModelProject(string name, string? folderName = null)
    {
        var project = sdk.CreateProject(name, """
              <ItemGroup>
                <MicroModel Include="net.tflite" />
              </ItemGroup>
            """, new Dictionary<string, string> { ["main.c"] = ModelMain }, folderName);
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("net.tflite"));
        return project;
    }

    /// <summary>Whatever is deleted, emptied or overwritten in obj/ (generated model files, objects) or bin/ (the
    /// firmware), the next build notices it by content record, not timestamp, and rebuilds just that, with the same
    /// bytes as before; then a build is a no-op again. A firmware damaged without a trace (same size and time) gives a
    /// coded error that says how to rebuild, never an exception's text.</summary>
    [Fact]
    public void ADamagedObjFolderIsRepairedByTheNextBuild()
    {
        var project = CreateModelProject("repair");
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        string models = project.PathOf("obj/Debug/models/"), elf = project.PathOf("bin/Debug/repair.elf"), mainObject = project.PathOf("obj/Debug/c/main.o");
        var original = new[] { "net.c", "net.h", "net.json" }.ToDictionary(f => f, f => File.ReadAllText(models + f));
        byte[] firmware = File.ReadAllBytes(elf);

        var damages = new (string What, Action Damage, string[] Recompiled)[]
        {
            ("deleted net.c", () => File.Delete(models + "net.c"), ["obj/Debug/models/net.c"]),
            ("edited net.c", () => File.AppendAllText(models + "net.c", "int edited_by_hand;\n"), ["obj/Debug/models/net.c"]),
            ("deleted net.h", () => File.Delete(models + "net.h"), ["main.c", "obj/Debug/models/net.c"]), // a new net.h
            ("deleted net.json", () => File.Delete(models + "net.json"), []),
            ("emptied main.o", () => File.WriteAllBytes(mainObject, []), ["main.c"]),
            ("garbage main.o", () => File.WriteAllText(mainObject, "not an object file"), ["main.c"]),
            ("truncated .elf", () => File.WriteAllBytes(elf, firmware[..(firmware.Length / 2)]), []),
            ("deleted .elf", () => File.Delete(elf), []),
        };
        foreach (var (what, damage, recompiled) in damages)
        {
            damage();

            var repaired = project.Build();

            Assert.True(repaired.Succeeded, what + "\n" + repaired);
            Assert.Empty(repaired.Warnings);
            Assert.Equal(recompiled.Order(), repaired.CompiledSources.Where(s => !s.StartsWith('/')).Order());
            Assert.All(original, f => Assert.Equal(f.Value, File.ReadAllText(models + f.Key)));
            Assert.Equal(firmware, File.ReadAllBytes(elf));
            Assert.Matches(@"model net \(net\.tflite\): [\d,]+ bytes flash in the image \(code and constants; weights [\d,]+\)", repaired.Output);
            var settled = project.Build();
            Assert.True(settled.Succeeded, what + "\n" + settled);
            Assert.DoesNotContain("MicroTvmCompileModels", settled.TasksRun);
            Assert.Empty(settled.CompiledSources);
            Assert.False(settled.Linked, what);
        }

        // Damage that keeps the firmware's size and time: the size report cannot read it and says what to do.
        var written = File.GetLastWriteTimeUtc(elf);
        File.WriteAllBytes(elf, new byte[firmware.Length]);
        File.SetLastWriteTimeUtc(elf, written);
        var unreadable = project.Build();
        Assert.False(unreadable.Succeeded);
        var error = Assert.Single(unreadable.Errors);
        Assert.Equal(("MTVM3110", elf), (error.Code, error.File));
        Assert.Contains("not a 32-bit little-endian ELF file. Delete repair.elf and build again", error.Text);
        File.Delete(elf);
        Assert.True(project.Build().Succeeded);

        // Every truncation of a real firmware is bad data to the reader, never an index or overflow exception.
        string truncated = project.PathOf("obj/truncated.elf");
        for (int length = 0; length < firmware.Length; length += 1 + length / 8)
        {
            File.WriteAllBytes(truncated, firmware[..length]);
            try
            {
                ElfImage.ReadSections(truncated);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    /// <summary>
    /// The build lock in obj/Debug/: a build waits, naming the holder's process id, while another process holds it, and
    /// gives up with MTVM0121 after MicroTvmBuildLockTimeout; a lock file left by a process that has ended is taken over;
    /// two real builds of one project started together both succeed, one after the other, with the same firmware.
    /// </summary>
    [Fact]
    public async Task TwoBuildsOfOneProjectAtOnceWaitForEachOther()
    {
        var project = CreateModelProject("concurrent");
        string lockFile = project.PathOf("obj/Debug/microtvm.lock"), elf = project.PathOf("bin/Debug/concurrent.elf");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        using (var ended = Process.Start("true")!)
        {
            ended.WaitForExit();
            File.WriteAllText(lockFile, ended.Id + "\n");
        }
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        Assert.DoesNotContain("Waiting for another build", first.Output);
        byte[] firmware = File.ReadAllBytes(elf);

        // Held by this test process: the build waits, then builds once it is released.
        var held = BuildLock.TryAcquire(lockFile);
        Assert.NotNull(held);
        var timedOut = project.Build("-p:MicroTvmBuildLockTimeout=2");
        Assert.False(timedOut.Succeeded);
        var error = Assert.Single(timedOut.Errors);
        Assert.Equal(("MTVM0121", project.ProjectFile), (error.Code, error.File));
        Assert.Contains($"Another build of this project (process {Environment.ProcessId}) has held {lockFile} for 2 s", error.Text);
        File.Delete(project.PathOf("obj/Debug/c/main.o"));
        var waited = await BuildReleasingWhenItWaits(project, held!);
        Assert.True(waited.ExitCode == 0, waited.Output);
        Assert.Contains($"Waiting for another build of this project (process {Environment.ProcessId}) to finish: it holds {lockFile}.", waited.Output);
        Assert.Contains("MicroTvmCompileC: compiling main.c", waited.Output);

        // Real builds at once, from scratch (model, objects and firmware all written by one of them).
        for (int round = 0; round < 3; round++)
        {
            Directory.Delete(project.PathOf("obj/Debug/models"), recursive: true);
            Directory.Delete(project.PathOf("obj/Debug/c"), recursive: true);
            File.Delete(elf);
            var builds = Enumerable.Range(0, 2).Select(_ => Task.Run(() => project.Build())).ToArray();
            var results = await Task.WhenAll(builds);
            Assert.All(results, r => Assert.True(r.Succeeded, r.ToString()));
            Assert.Equal(firmware, File.ReadAllBytes(elf));
        }
        var settled = project.Build();
        Assert.Empty(settled.CompiledSources);
        Assert.False(settled.Linked);
    }

    /// <summary>Builds <paramref name="project"/> while this process holds its lock, reading the console as it comes, and
    /// releases the lock once the build says it waits (however long restore and evaluation took before).</summary>
    private async Task<ProcessOutput> BuildReleasingWhenItWaits(TestProject project, BuildLock held)
    {
        var startInfo = new ProcessStartInfo(DotNet.Executable)
        {
            WorkingDirectory = project.Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "build", project.ProjectFile, "-nodeReuse:false", "-tl:off", "-v:n" })
            startInfo.ArgumentList.Add(argument);
        startInfo.Environment["NUGET_PACKAGES"] = sdk.PackagesDirectory;
        startInfo.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH" })
            startInfo.Environment.Remove(name);
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            if (e.Data.Contains("Waiting for another build of this project"))
                held.Dispose();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            held.Dispose();
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        lock (output)
            return new ProcessOutput(process.ExitCode, output.ToString());
    }

    /// <summary>MSBuild-special characters in the project's folder: '$' (also as "$(Foo)"), '@' (also "@(Foo)") and "'"
    /// build, write only inside the project, and build again as a no-op; ';' and '%' are refused with MTVM0122 before
    /// restore writes anything (NuGet splits a path at ';', MSBuild reads '%41' as 'A').</summary>
    [Theory]
    [InlineData("proj$(Foo)x", true)]
    [InlineData("proj$x", true)]
    [InlineData("proj@(Foo)x", true)]
    [InlineData("proj'x", true)]
    [InlineData("proj;x", false)]
    [InlineData("proj%41x", false)]
    [InlineData("proj%x", false)]
    public void SpecialCharactersInTheProjectPathBuildInsideTheProjectOrAreRefused(string folder, bool works)
    {
        string parent = "special-" + Guid.NewGuid().ToString("N")[..6];
        var project = CreateModelProject("special", Path.Combine(parent, folder));
        string parentDirectory = Path.GetDirectoryName(project.Directory)!;

        if (!works)
        {
            // As a person builds it: in the folder, no project argument (the command line itself splits a ';' argument).
            var refused = DotNet.Run(project.Directory, ["build", "-nodeReuse:false", "-tl:off", "-v:m"],
                new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory }, TimeSpan.FromMinutes(5));
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains($"{project.ProjectFile} : error MTVM0122: The project's path contains ';' or '%'", refused.Output);
            Assert.DoesNotContain(refused.Output.Split('\n'), line => line.Contains(": error ") && !line.Contains("error MTVM0122"));
            Assert.Equal([project.Directory], Directory.GetFileSystemEntries(parentDirectory));
            Assert.False(Directory.Exists(project.PathOf("obj")));
            return;
        }
        var result = project.Build();
        Assert.Equal([project.Directory], Directory.GetFileSystemEntries(parentDirectory));
        Assert.True(result.Succeeded, result.ToString());
        Assert.True(File.Exists(project.PathOf("obj/Debug/models/net.options")));
        Assert.True(File.Exists(project.PathOf("bin/Debug/special.elf")));
        var before = project.SnapshotOutputs();
        var noOp = project.Build();
        Assert.True(noOp.Succeeded, noOp.ToString());
        Assert.DoesNotContain("MicroTvmCompileModels", noOp.TasksRun);
        Assert.Empty(noOp.CompiledSources);
        Assert.False(noOp.Linked);
        Assert.Equal(before, project.SnapshotOutputs());
        Assert.Equal([project.Directory], Directory.GetFileSystemEntries(parentDirectory));
    }
}
