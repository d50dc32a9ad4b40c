using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Sdk.Tests.Infrastructure;
using Microsoft.Build.Logging.StructuredLogger;
using Xunit.Abstractions;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// <c>&lt;MicroModel&gt;</c> items through real <c>dotnet build</c>s of the packed SDK: the KWS sample's scores on the
/// emulated Cortex-M7 against TFLite Micro's, what each incremental build runs (read from binary logs), compiler
/// errors in both compiler hosts, and metadata errors.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class MicroModelTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private string ModelFile(string model) => Path.Combine(sdk.RepositoryRoot, "tests", "models", model, "model.tflite");

    [Fact]
    public void KwsSamplePrintsTfliteMicrosScoresAndRebuildsOnlyWhatChanged()
    {
        var project = CopySample("kws");

        // A design-time build (IDE) of the never-built project: it knows the generated source and header folder
        // but runs no compiler.
        var designTime = project.Run("msbuild", ["-restore", "-t:CompileDesignTime", "-p:DesignTimeBuild=true", "-p:BuildingProject=false",
            "-getItem:MicroTvmCSource", "-getItem:MicroTvmIncludeDirectory"], environment: null);
        Assert.True(designTime.Succeeded, designTime.ToString());
        Assert.DoesNotContain("MicroTvmCompileModels", designTime.TasksRun);
        Assert.DoesNotContain("MicroTvmCompileC", designTime.TasksRun);
        var items = JsonDocument.Parse(designTime.Output[designTime.Output.IndexOf('{')..]).RootElement.GetProperty("Items");
        string generatedDirectory = project.PathOf("obj/Debug/models/");
        Assert.Contains(items.GetProperty("MicroTvmCSource").EnumerateArray(), i => i.GetProperty("FullPath").GetString() == generatedDirectory + "kws.c");
        Assert.Contains(items.GetProperty("MicroTvmIncludeDirectory").EnumerateArray(), i => i.GetProperty("FullPath").GetString() == generatedDirectory);
        Assert.False(File.Exists(generatedDirectory + "kws.c"));

        var run = project.Build("-t:Run");
        Assert.True(run.Succeeded, run.ToString());
        log.WriteLine(string.Join("\n", run.Output.Split('\n').Where(l => l.Contains("| input") || l.Contains("model kws") || l.Contains("bytes"))));
        Assert.Equal(["kws.tflite"], CompiledModels(run));
        for (int k = 0; k < 3; k++)
        {
            var expected = File.ReadAllBytes(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", $"output{k}.bin")).Select(b => (int)(sbyte)b).ToArray();
            var scores = Regex.Match(run.Output, $@"\| input {k}: scores((?: -?\d+)+)");
            Assert.True(scores.Success, run.Output);
            Assert.Equal(expected, scores.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            int top = Array.IndexOf(expected, expected.Max());
            Assert.Matches($@"\| input {k}: top class {top} '", run.Output);
        }

        // The size report's line for the model: its bytes in the linked image, the compiler's own figures, its plan's picture.
        var metadata = JsonDocument.Parse(File.ReadAllText(generatedDirectory + "kws.json")).RootElement;
        string N(string property) => metadata.GetProperty(property).GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        Assert.Matches($@"model kws \(kws\.tflite\): [\d,]+ bytes flash in the image \(code and constants; weights {N("weightsBytes")}\), workspace {N("workspaceBytes")} bytes \(RAM\); memory plan obj/Debug/models/kws\.plan\.svg", run.Output);

        // Nothing changed: no compiler, no gcc, no link, no file rewritten; the size report still has the model.
        var before = project.SnapshotOutputs();
        var noOp = project.Build();
        Assert.True(noOp.Succeeded, noOp.ToString());
        Assert.DoesNotContain("MicroTvmCompileModels", noOp.TasksRun);
        Assert.Empty(noOp.CompiledSources);
        Assert.False(noOp.Linked);
        Assert.Equal(before, project.SnapshotOutputs());
        Assert.Contains("model kws (kws.tflite): ", noOp.Output);

        // A touched model is compiled again, but the same C is not rewritten, so gcc and the linker do not run.
        project.Touch("kws.tflite");
        var touched = project.Build();
        Assert.True(touched.Succeeded, touched.ToString());
        Assert.Equal(["kws.tflite"], CompiledModels(touched));
        Assert.Empty(touched.CompiledSources);
        Assert.False(touched.Linked);
        var after = project.SnapshotOutputs();
        Assert.All(["kws.c", "kws.h", "kws.json"], f => Assert.Equal(before[$"obj/Debug/models/{f}"], after[$"obj/Debug/models/{f}"]));

        // Another compiler (its assembly's hash is part of the model's options) compiles the model again.
        var otherCompiler = project.Build($"-p:MicroTvmCompilerAssembly={project.PathOf("kws.tflite")}");
        Assert.True(otherCompiler.Succeeded, otherCompiler.ToString());
        Assert.Equal(["kws.tflite"], CompiledModels(otherCompiler));
        Assert.Empty(otherCompiler.CompiledSources);

        // Clean removes the generated files.
        var clean = project.Run("clean", [], environment: null);
        Assert.True(clean.Succeeded, clean.ToString());
        Assert.All(["kws.c", "kws.h", "kws.json", "kws.plan.svg"], f => Assert.False(File.Exists(generatedDirectory + f), f));
    }

    [Fact]
    public void ChangingOneModelRegeneratesAndRecompilesOnlyThatModel()
    {
        var project = sdk.CreateProject("two", """
              <ItemGroup>
                <MicroModel Include="a.tflite" />
                <MicroModel Include="b.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("a.tflite"));
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("b.tflite"));

        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        Assert.Equal(["a.tflite", "b.tflite"], CompiledModels(first).Order());
        Assert.Contains("obj/Debug/models/a.c", first.CompiledSources);
        Assert.Contains("obj/Debug/models/b.c", first.CompiledSources);

        // A different model in a.tflite: only a is compiled again, only a.c recompiled, b's files untouched.
        var before = project.SnapshotOutputs();
        File.WriteAllBytes(project.PathOf("a.tflite"), File.ReadAllBytes(ModelFile("hello_world_float")));
        var changed = project.Build();
        Assert.True(changed.Succeeded, changed.ToString());
        Assert.Equal(["a.tflite"], CompiledModels(changed));
        Assert.Equal(["obj/Debug/models/a.c"], changed.CompiledSources);
        Assert.True(changed.Linked);
        var after = project.SnapshotOutputs();
        Assert.All(before.Keys.Where(f => Path.GetFileNameWithoutExtension(f) == "b"), f => Assert.Equal(before[f], after[f]));
        Assert.NotEqual(before["obj/Debug/models/a.c"], after["obj/Debug/models/a.c"]);

        // New metadata for b (another Name): b alone is generated again, under its new name; a is untouched.
        project.WriteFile("two.csproj", File.ReadAllText(project.ProjectFile).Replace("Include=\"b.tflite\"", "Include=\"b.tflite\" Name=\"bee\""));
        var renamed = project.Build();
        Assert.True(renamed.Succeeded, renamed.ToString());
        Assert.Equal(["b.tflite"], CompiledModels(renamed));
        Assert.Equal(["obj/Debug/models/bee.c"], renamed.CompiledSources);
        Assert.Equal(after["obj/Debug/models/a.c"], File.GetLastWriteTimeUtc(project.PathOf("obj/Debug/models/a.c")));
        Assert.Contains("int bee_run(", File.ReadAllText(project.PathOf("obj/Debug/models/bee.h")));
        Assert.False(File.Exists(project.PathOf("obj/Debug/models/b.c")), "the files of the old name are removed");

        // A board whose flash is too small for a firmware that uses both models: the overflow error says what
        // each model contributes.
        project.WriteFile("main.c", """
            #include "a.h"
            #include "bee.h"
            static uint8_t workspace[A_WORKSPACE_SIZE + BEE_WORKSPACE_SIZE + 64] __attribute__((aligned(16)));
            static int8_t in[64], out[64];
            int main(void)
            {
                const a_inputs ai = { (const void*)in }; const a_outputs ao = { (void*)out };
                const bee_inputs bi = { (const void*)in }; const bee_outputs bo = { (void*)out };
                return a_run(&ai, &ao, workspace) + bee_run(&bi, &bo, workspace);
            }
            """);
        project.WriteFile("small.ld", """
            MEMORY
            {
                FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 4K
                RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 4M
            }
            INCLUDE cortexm_sections.ld
            """);
        // With the default MicroTvmWeightLayout (auto) the overflow is retried once with compact weights (the models are
        // compiled again); that does not fit either, so the error is MTVM3191, with each model's share.
        var overflow = project.Build($"-p:MicroTvmLinkerScript={project.PathOf("small.ld")}");
        Assert.False(overflow.Succeeded);
        var error = Assert.Single(overflow.Errors, e => e.Code == "MTVM3191");
        Assert.Matches(@"does not fit mps2-an500's flash even with compact weights .*: [\d,]+ B > 4,096 B", error.Text);
        Assert.Matches(@"model a \(a\.tflite\): weights [\d,]+ bytes \(flash\), workspace [\d,]+ bytes \(RAM\); model bee \(b\.tflite\): weights", error.Text);
    }

    /// <summary>The board's gcc flags compile the generated C, so they must build for the CPU the model is generated for
    /// (MicroTvmCpu): flags of another CPU fail the model with MTVM1013 in both compiler hosts; a board's choice
    /// within the FPU family (the STM32F746's fpv5-sp-d16 on a Cortex-M7) is fine.</summary>
    [Fact]
    public void BoardFlagsForAnotherCpuFailTheModelWithMTVM1013InBothCompilerHosts()
    {
        var project = sdk.CreateProject("flags", """
              <ItemGroup>
                <MicroModel Include="models/net.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        string model = project.PathOf("models/net.tflite");
        Directory.CreateDirectory(Path.GetDirectoryName(model)!);
        File.Copy(ModelFile("hello_world_int8"), model);
        foreach (var host in new[] { Array.Empty<string>(), ["-p:MicroTvmModelCompiler=Cli"] })
        {
            var failed = project.Build([.. host, "-p:MicroTvmCpuFlags=-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"]);
            Assert.False(failed.Succeeded, failed.ToString());
            var error = Assert.Single(failed.Errors);
            Assert.Equal("MTVM1013", error.Code);
            Assert.Equal(model, error.File);
            Assert.Contains("do not build for cortex-m7: they select -mcpu=cortex-m4, not cortex-m7", error.Text);
        }

        var sameFamily = project.Build("-p:MicroTvmCpuFlags=-mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard");
        Assert.True(sameFamily.Succeeded, sameFamily.ToString());
    }

    [Fact]
    public void UnsupportedOperatorFailsWithItsCodeModelPathAndOperatorIndexInBothCompilerHosts()
    {
        var project = sdk.CreateProject("bad", """
              <ItemGroup>
                <MicroModel Include="models/net.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        string model = project.PathOf("models/net.tflite");
        Directory.CreateDirectory(Path.GetDirectoryName(model)!);
        File.Copy(ModelFile("hello_world_int8"), model);
        var good = project.Build();
        Assert.True(good.Succeeded, good.ToString());
        string generated = project.PathOf("obj/Debug/models/");
        Assert.True(File.Exists(generated + "net.c"));

        // Operator 0 is fine, operator 1 is a custom operator no compiler supports.
        var builder = new TfliteModelBuilder();
        int x = builder.AddTensor("x", ElementType.Int8, [1, 4], quantization: (0.5f, 0));
        int y = builder.AddTensor("y", ElementType.Int8, [1, 4], quantization: (0.5f, 0));
        int z = builder.AddTensor("z", ElementType.Int8, [1, 4], quantization: (0.5f, 0));
        builder.Inputs.Add(x);
        builder.Outputs.Add(z);
        builder.AddOperator(Builtin.Relu, [x], [y]);
        builder.AddOperator(Builtin.Custom, [y], [z], customCode: "MyVendorOp");
        File.WriteAllBytes(model, builder.Build());

        // The compiler library inside the dotnet CLI's MSBuild; the packed microtvm tool, forced; and the
        // netstandard2.0 task that Visual Studio's .NET Framework MSBuild loads, which always runs the tool.
        string netStandardTasks = Path.Combine(sdk.PackagesDirectory, "microtvm.sdk", sdk.Version.ToLowerInvariant(), "tasks", "netstandard2.0", "MicroTvm.Build.Tasks.dll");
        var hosts = new (string Name, string[] Arguments, bool RunsTool)[]
        {
            ("in-process", [], false),
            ("microtvm tool", ["-p:MicroTvmModelCompiler=Cli"], true),
            ("netstandard2.0 task", ["-p:MicroTvmTasksAssembly=" + netStandardTasks], true),
        };
        foreach (var (host, arguments, runsTool) in hosts)
        {
            var failed = project.Build(arguments);
            Assert.False(failed.Succeeded, host);
            Assert.Equal(runsTool, ToolRuns(failed));
            var error = Assert.Single(failed.Errors);
            Assert.Equal("MTVM1004", error.Code);
            Assert.Equal(model, error.File);
            Assert.Contains("operator 1 (custom operator 'MyVendorOp')", error.Text);
            Assert.DoesNotContain(" at MicroTvm.", failed.Output); // no stack trace
            // No generated file (nor the stale one of the good model) is left behind.
            Assert.All(["net.c", "net.h", "net.json", "net.stamp"], f => Assert.False(File.Exists(generated + f), f));
        }

        // A good model again, built as Visual Studio would (the netstandard2.0 task runs the microtvm tool): the
        // same files as the compiler library writes.
        File.Copy(ModelFile("hello_world_int8"), model, overwrite: true);
        var viaCli = project.Build("-p:MicroTvmTasksAssembly=" + netStandardTasks);
        Assert.True(viaCli.Succeeded, viaCli.ToString());
        Assert.True(ToolRuns(viaCli));
        var expected = ModelCompiler.Compile(TfliteImporter.Load(model), new CompileOptions("cortex-m7", "net"));
        foreach (var (file, content) in expected.Files)
        {
            Assert.Equal(content, File.ReadAllText(generated + file));
        }
    }

    [Fact]
    public void WrongMetadataIsAnErrorNamingTheItemAndTheProject()
    {
        var project = sdk.CreateProject("metadata", """
              <ItemGroup>
                <MicroModel Include="a/kws.tflite" />
                <MicroModel Include="b/kws.tflite" />
                <MicroModel Include="m4.tflite" Cpu="cortex-m4" />
                <MicroModel Include="named.tflite" Name="my-model" />
                <MicroModel Include="graph.tflite" Executor="graph" />
                <MicroModel Include="io.tflite" IoInWorkspace="yes" />
                <MicroModel Include="missing.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        foreach (var file in new[] { "a/kws.tflite", "b/kws.tflite", "m4.tflite", "named.tflite", "graph.tflite", "io.tflite" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(project.PathOf(file))!);
            File.Copy(ModelFile("hello_world_int8"), project.PathOf(file));
        }

        var result = project.Build();

        Assert.False(result.Succeeded);
        Assert.All(result.Errors, e => Assert.Equal(project.ProjectFile, e.File));
        Assert.DoesNotContain("MicroTvmCompileModels", result.TasksRun);
        var byCode = result.Errors.ToDictionary(e => e.Code, e => e.Text);
        Assert.Equal(["MTVM0101", "MTVM0102", "MTVM0103", "MTVM0104", "MTVM0105", "MTVM0107"], byCode.Keys.Order());
        Assert.Contains("'missing.tflite'", byCode["MTVM0101"]);
        Assert.Contains("'m4.tflite' has Cpu 'cortex-m4', but board 'mps2-an500' has a cortex-m7 CPU", byCode["MTVM0102"]);
        Assert.Contains("'named.tflite' has Name 'my-model'", byCode["MTVM0103"]);
        Assert.Contains("'a/kws.tflite' and MicroModel 'b/kws.tflite' both have the name 'kws'", byCode["MTVM0104"]);
        Assert.Contains("'graph.tflite' has Executor 'graph'", byCode["MTVM0105"]);
        Assert.Contains("'io.tflite' has IoInWorkspace 'yes'; use 'true'", byCode["MTVM0107"]);
    }

    /// <summary>
    /// <c>IoInWorkspace="true"</c>: every shared model, its inputs written into the workspace through the generated
    /// accessors (a workspace the other models left dirty), runs in QEMU and gives TensorFlow Lite Micro's outputs.
    /// </summary>
    [Fact]
    public void ModelsWithInputsAndOutputsInTheWorkspaceGiveTfliteMicrosOutputsInQemu()
    {
        string modelsRoot = Path.Combine(sdk.RepositoryRoot, "tests", "models");
        var firmware = new ModelCheckFirmware(modelsRoot);
        foreach (var model in Directory.GetDirectories(modelsRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            firmware.AddMicroModel(model!, ioInWorkspace: true);
        var project = firmware.CreateProject(sdk, "", "models-io");
        firmware.RunAndAssertAllMatch(project, log);
        string header = File.ReadAllText(project.PathOf("obj/Debug/models/ad_toycar_io.h"));
        Assert.Contains("int ad_toycar_io_run(void* workspace);", header);
        Assert.Contains("#define AD_TOYCAR_IO_IO_IN_WORKSPACE 1", header);
    }

    /// <summary>Turning IoInWorkspace on regenerates that model alone (in either compiler host, with the same files);
    /// turning it off again restores the caller-buffer API.</summary>
    [Fact]
    public void ChangingIoInWorkspaceRegeneratesTheModel()
    {
        var project = sdk.CreateProject("io", """
              <ItemGroup>
                <MicroModel Include="a.tflite" />
                <MicroModel Include="b.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("""
            #include "a.h"
            #include "b.h"
            static uint8_t workspace[A_WORKSPACE_SIZE + B_WORKSPACE_SIZE] __attribute__((aligned(16)));
            static int8_t in[16], out[16];
            int main(void)
            {
                const b_inputs bi = { (const void*)in }; const b_outputs bo = { (void*)out };
            #if A_IO_IN_WORKSPACE
                a_input0(workspace)[0] = 1;
                return a_run(workspace) + b_run(&bi, &bo, workspace);
            #else
                const a_inputs ai = { (const void*)in }; const a_outputs ao = { (void*)out };
                return a_run(&ai, &ao, workspace) + b_run(&bi, &bo, workspace);
            #endif
            }
            """));
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("a.tflite"));
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("b.tflite"));
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        string header = project.PathOf("obj/Debug/models/a.h");
        Assert.Contains("#define A_IO_IN_WORKSPACE 0", File.ReadAllText(header));

        var before = project.SnapshotOutputs();
        project.WriteFile("io.csproj", File.ReadAllText(project.ProjectFile).Replace("Include=\"a.tflite\"", "Include=\"a.tflite\" IoInWorkspace=\"true\""));
        var inside = project.Build();
        Assert.True(inside.Succeeded, inside.ToString());
        Assert.Equal(["a.tflite"], CompiledModels(inside));
        Assert.Contains("obj/Debug/models/a.c", inside.CompiledSources);
        Assert.DoesNotContain("obj/Debug/models/b.c", inside.CompiledSources);
        var after = project.SnapshotOutputs();
        Assert.All(before.Keys.Where(f => Path.GetFileNameWithoutExtension(f) == "b"), f => Assert.Equal(before[f], after[f]));
        string insideHeader = File.ReadAllText(header), insideSource = File.ReadAllText(project.PathOf("obj/Debug/models/a.c"));
        Assert.Contains("int a_run(void* workspace);", insideHeader);
        Assert.Contains("#define A_IO_IN_WORKSPACE 1", insideHeader);
        Assert.Contains("\"ioInWorkspace\": true", File.ReadAllText(project.PathOf("obj/Debug/models/a.json")));
        Assert.Contains("inputs and outputs inside", inside.Output);

        // The microtvm tool (Visual Studio's compiler host) gets the option too: the same files.
        File.Delete(project.PathOf("obj/Debug/models/a.stamp"));
        var cli = project.Build("-p:MicroTvmModelCompiler=Cli");
        Assert.True(cli.Succeeded, cli.ToString());
        Assert.True(ToolRuns(cli));
        Assert.Equal(insideHeader, File.ReadAllText(header));
        Assert.Equal(insideSource, File.ReadAllText(project.PathOf("obj/Debug/models/a.c")));

        // Unchanged metadata: nothing runs.
        var noOp = project.Build();
        Assert.True(noOp.Succeeded, noOp.ToString());
        Assert.DoesNotContain("MicroTvmCompileModels", noOp.TasksRun);

        project.WriteFile("io.csproj", File.ReadAllText(project.ProjectFile).Replace(" IoInWorkspace=\"true\"", " IoInWorkspace=\"false\""));
        var outside = project.Build();
        Assert.True(outside.Succeeded, outside.ToString());
        Assert.Equal(["a.tflite"], CompiledModels(outside));
        Assert.Contains("#define A_IO_IN_WORKSPACE 0", File.ReadAllText(header));
    }

    /// <summary>Whether the model compile task ran the microtvm tool rather than the compiler library.</summary>
    private static bool ToolRuns(BuildResult result) =>
        result.Log!.FindChildrenRecursive<Microsoft.Build.Logging.StructuredLogger.Task>(t => t.Name == "MicroTvmCompileModels")
            .SelectMany(t => t.FindChildrenRecursive<Message>())
            .Any(m => m.Text.StartsWith("MicroTvmCompileModels: compiling ", StringComparison.Ordinal) && m.Text.EndsWith("(microtvm tool)", StringComparison.Ordinal));

    /// <summary>Models the model compile task compiled in a build, as the project lists them.</summary>
    private static List<string> CompiledModels(BuildResult result)
    {
        const string marker = "MicroTvmCompileModels: compiling ";
        return result.Log!.FindChildrenRecursive<Microsoft.Build.Logging.StructuredLogger.Task>(t => t.Name == "MicroTvmCompileModels")
            .SelectMany(t => t.FindChildrenRecursive<Message>())
            .Select(m => m.Text)
            .Where(text => text.StartsWith(marker, StringComparison.Ordinal))
            .Select(text => text[marker.Length..text.IndexOf(" for ", StringComparison.Ordinal)].Replace('\\', '/'))
            .ToList();
    }

    /// <summary>A copy of samples/&lt;name&gt; built against the SDK under test.</summary>
    private TestProject CopySample(string name)
    {
        var project = sdk.CreateProject(name, "", new Dictionary<string, string>());
        string sample = Path.Combine(sdk.RepositoryRoot, "samples", name);
        foreach (var file in Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(sample, file);
            if (relative.StartsWith("bin" + Path.DirectorySeparatorChar) || relative.StartsWith("obj" + Path.DirectorySeparatorChar))
            {
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(project.PathOf(relative))!);
            File.Copy(file, project.PathOf(relative), overwrite: true);
        }
        return project;
    }
}
