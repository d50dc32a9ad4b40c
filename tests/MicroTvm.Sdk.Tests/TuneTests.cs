using System.Text.Json;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tuning;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// <c>dotnet build -t:Tune</c> end to end on the emulated Cortex-M7 (docs/tuning.md): kws_dscnn's operators are tuned
/// in one tuning firmware through the RPC server (every candidate's output checked against the reference evaluator on
/// the device), the log has an entry per signature with the default measured too, and a build with the log uses the
/// chosen schedules, gives TensorFlow Lite Micro's outputs on the stored inputs and takes no more instructions than
/// the default build.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class TuneTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an500", "cortex-m7")]
    // On the M55 the one-operator timings choose helium-gemm pixels=1 for two CONV_2D signatures (18 % fewer instructions
    // alone) while the whole model takes 8 % more: the tuner's whole-model check must then keep the defaults.
    [InlineData("mps3-an547", "cortex-m55")]
    public void TuningKwsOnAnEmulatedBoardWritesALogThatTheBuildUses(string board, string cpu)
    {
        var firmware = new ModelCheckFirmware(Path.Combine(sdk.RepositoryRoot, "tests", "models"));
        firmware.AddMicroModel("kws_dscnn");
        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>");
        var defaults = firmware.RunAndAssertAllMatch(project, log);

        var tune = project.Build("-t:Tune", "-p:MicroTvmTuneRepeats=2");
        log.WriteLine(string.Join("\n", tune.Output.Split('\n').Where(l => l.Contains("trial ") || l.Contains("tuned operators") || l.Contains("tuning ") || l.Contains("whole model"))));
        Assert.True(tune.Succeeded, tune.ToString());
        Assert.Contains("trial 1 of ", tune.Output);
        string logFile = project.PathOf("kws_dscnn.tuning.json");
        var tuned = TuningLog.Load(logFile);
        var tasks = TuningTasks.Of(TfliteImporter.Load(project.PathOf("models/kws_dscnn.tflite")), cpu);
        Assert.Equal(tasks.Select(t => t.Signature).Order(), tuned.Entries.Select(e => e.Signature).Order());
        Assert.All(tuned.Entries, e =>
        {
            Assert.NotNull(e.Measured);
            Assert.Equal("instructions", e.Measured!.Unit);
            Assert.True(e.Measured.Cost > 0 && e.Measured.Cost <= e.Measured.DefaultCost, $"{e.Signature}: {e.Measured.Cost} > {e.Measured.DefaultCost}");
            Assert.True(e.Measured.Candidates >= 2, e.Signature);
        });
        // A log that changes any schedule was timed as a whole model against the defaults, and gained.
        if (tuned.Entries.Any(e => e.Measured!.Cost < e.Measured.DefaultCost))
            Assert.Matches(@"whole model: [\d,]+ instructions with the tuned schedules, [\d,]+ with the defaults \([\d.]+% fewer\)", tune.Output);
        using (var json = JsonDocument.Parse(File.ReadAllText(logFile)))
            Assert.Equal("microtvm-tuning-log", json.RootElement.GetProperty("format").GetString());

        // The build with the log: its schedules in the model's .json, TFLM's outputs, no more instructions.
        project.WriteFile("models.csproj", File.ReadAllText(project.ProjectFile).Replace("<ItemGroup>", "<PropertyGroup><MicroTvmTuningLog>kws_dscnn.tuning.json</MicroTvmTuningLog></PropertyGroup>\n  <ItemGroup>"));
        var after = firmware.RunAndAssertAllMatch(project, log);
        string metadata = File.ReadAllText(Directory.GetFiles(project.PathOf("obj"), "kws_dscnn.json", SearchOption.AllDirectories).Single());
        Assert.All(tuned.Entries.Where(e => e.Measured!.Cost < e.Measured.DefaultCost), e => Assert.Contains($"\"{e.Schedule}\"", metadata));
        log.WriteLine($"kws_dscnn on {board}: default {string.Join(", ", defaults)} instructions, tuned {string.Join(", ", after)}");
        Assert.All(after.Zip(defaults), p => Assert.True(p.First <= p.Second, $"tuned {p.First} > default {p.Second}"));
    }
}
