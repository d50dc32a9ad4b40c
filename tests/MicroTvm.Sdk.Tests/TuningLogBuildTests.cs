using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tuning;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// A tuning log in real <c>dotnet build</c>s of the packed SDK (docs/tuning.md): the project-wide MicroTvmTuningLog reaches
/// the compiler, it is an input of the build, and changing it recompiles with gcc only the models whose schedules change;
/// a malformed log is an error naming the log, a stale entry a warning.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class TuningLogBuildTests(SdkPackageFixture sdk)
{
    private string ModelFile(string model) => Path.Combine(sdk.RepositoryRoot, "tests", "models", model, "model.tflite");

    private static string Log(params TuningEntry[] entries) => new TuningLog(entries).ToJson();

    [Fact]
    public void ChangingTheLogRecompilesOnlyTheModelsWhoseSchedulesChange()
    {
        var project = sdk.CreateProject("tuned", """
              <PropertyGroup>
                <MicroTvmTuningLog>tuning.json</MicroTvmTuningLog>
              </PropertyGroup>
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
                <MicroModel Include="hello.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        File.Copy(ModelFile("kws_dscnn"), project.PathOf("kws.tflite"));
        File.Copy(ModelFile("hello_world_int8"), project.PathOf("hello.tflite"));
        var conv = TuningTasks.Of(TfliteImporter.Load(project.PathOf("kws.tflite")), "cortex-m7").First(t => t.Schedules.Any(s => s.Knobs.ContainsKey("layout")));
        Schedule Gemm(string layout, string requantization) => new("dsp-gemm", new Dictionary<string, string> { ["layout"] = layout, ["requantization"] = requantization });

        project.WriteFile("tuning.json", Log(new TuningEntry(conv.Signature, Gemm("int8", "fast"))));
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        Assert.Contains("dsp-gemm layout=int8 requantization=fast", File.ReadAllText(project.PathOf("obj/Debug/models/kws.json")));
        Assert.DoesNotContain(first.Warnings, w => w.Code.StartsWith("MTVM50", StringComparison.Ordinal));

        // Another schedule for a kws operator: kws.c alone is recompiled, hello's files are untouched.
        var before = project.SnapshotOutputs();
        project.WriteFile("tuning.json", Log(new TuningEntry(conv.Signature, Gemm("int8", "general"))));
        var changed = project.Build();
        Assert.True(changed.Succeeded, changed.ToString());
        Assert.Equal(["obj/Debug/models/kws.c"], changed.CompiledSources);
        Assert.True(changed.Linked);
        var after = project.SnapshotOutputs();
        Assert.All(before.Keys.Where(f => f.Contains("hello", StringComparison.Ordinal) && !f.EndsWith(".stamp", StringComparison.Ordinal)), f => Assert.Equal(before[f], after[f]));

        // The same schedules with other measurements: no C is recompiled and nothing is linked.
        project.WriteFile("tuning.json", Log(new TuningEntry(conv.Signature, Gemm("int8", "general"), new TuningMeasurement("mps2-an500", "instructions", 1, 2, 4, 5, 1, 10, 20))));
        var same = project.Build();
        Assert.True(same.Succeeded, same.ToString());
        Assert.Empty(same.CompiledSources);
        Assert.False(same.Linked);

        // A stale entry: a warning with its code, the default code again.
        project.WriteFile("tuning.json", Log(new TuningEntry(conv.Signature.Replace($"kernels={KernelSet.Version}", "kernels=0"), Gemm("int8", "general"))));
        var stale = project.Build();
        Assert.True(stale.Succeeded, stale.ToString());
        Assert.Contains(stale.Warnings, w => w.Code == "MTVM5002" && w.File == project.PathOf("tuning.json"));
        Assert.Equal(["obj/Debug/models/kws.c"], stale.CompiledSources);

        // A malformed log: an error naming the log; no half-written output.
        project.WriteFile("tuning.json", "{ \"format\": \"microtvm-tuning-log\",\n  \"version\": 1,\n  \"entries\": [ oops ] }");
        var bad = project.Build();
        Assert.False(bad.Succeeded);
        var error = Assert.Single(bad.Errors, e => e.Code == "MTVM5000");
        Assert.Equal(project.PathOf("tuning.json"), error.File);
        Assert.Contains("line 3", error.Text);
    }
}
