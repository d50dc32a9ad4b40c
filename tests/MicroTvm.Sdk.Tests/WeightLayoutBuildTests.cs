using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// MicroTvmWeightLayout in real builds of the packed SDK (docs/tuning.md): on a board whose flash is too small for the
/// DSP kernels' widened filters, auto compiles the models with compact weights and links again (once), and the firmware
/// runs in QEMU equal to TensorFlow Lite Micro; speed there is an error with its code; auto on a board with room keeps
/// the widened layout, generating the same C as the compiler's default.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class WeightLayoutBuildTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private string ModelsRoot => Path.Combine(sdk.RepositoryRoot, "tests", "models");

    /// <summary>mps2-an500 (Cortex-M7) described in the project folder with <paramref name="flash"/> of flash.</summary>
    private Dictionary<string, string> SmallFlashBoard(string flash)
    {
        string catalog = Path.Combine(sdk.RepositoryRoot, "templates", "firmware", "boards", "mps2-an500");
        return new Dictionary<string, string>
        {
            ["boards/small-an500/board.props"] = File.ReadAllText(Path.Combine(catalog, "board.props"))
                .Replace("$(MSBuildThisFileDirectory)../common", "$(MicroTvmBoardsDirectory)common", StringComparison.Ordinal)
                .Replace("mps2-an500.ld", "small.ld", StringComparison.Ordinal),
            ["boards/small-an500/small.ld"] = Regex.Replace(File.ReadAllText(Path.Combine(catalog, "mps2-an500.ld")), @"(FLASH \(rx\)\s*:[^\n]*LENGTH = )\S+", "${1}" + flash),
        };
    }

    private void WriteBoard(TestProject project, string flash)
    {
        Directory.CreateDirectory(project.PathOf("boards/small-an500"));
        foreach (var (file, content) in SmallFlashBoard(flash))
            project.WriteFile(file, content);
    }

    [Fact]
    public void AutoCompactsTheWeightsWhereWidenedOnesDoNotFitTheFlash()
    {
        var firmware = new ModelCheckFirmware(ModelsRoot);
        firmware.AddMicroModel("ic_resnet8");
        var project = firmware.CreateProject(sdk, """
              <PropertyGroup>
                <MicroTvmBoardDirectory>boards/small-an500</MicroTvmBoardDirectory>
              </PropertyGroup>
            """, "small-flash");
        WriteBoard(project, "160K");

        // The firmware with int16 filters (165,739 B of weights) does not fit 160 KiB; with int8 ones (88,363 B) it does.
        firmware.RunAndAssertAllMatch(project, log);
        string metadata = File.ReadAllText(project.PathOf("obj/Debug/models/ic_resnet8.json"));
        Assert.Contains("\"weightLayout\": \"int8\"", metadata);
        Assert.Contains("dsp-gemm layout=int8", metadata);
        var decided = Regex.Match(File.ReadAllText(project.PathOf("obj/Debug/models.weight-layout")), @"reason=auto: speed ([\d,]+) B > flash 163,840 B");
        Assert.True(decided.Success);
        Assert.True(long.Parse(decided.Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture) > 163_840);

        // The build's own figures and reason, then a rebuild that does nothing: no model compiled, no link (the decision
        // is an input of the build, not made again).
        string[] flags = ["-p:OptimizationLevel=2", "-p:CStandard=c99", "-p:CWarningFlags=\"-Wall -Wextra -Werror\""];
        var again = project.Build(flags);
        Assert.True(again.Succeeded, again.ToString());
        Assert.Contains($"; weights int8 (auto: speed {decided.Groups[1].Value} B > flash 163,840 B)", again.Output);
        Assert.DoesNotContain("MicroTvmCompileModels", again.TasksRun);
        Assert.False(again.Linked);

        // speed on this board: an error with its code, naming the model and the layouts that would fit.
        var speed = project.Build([.. flags, "-p:MicroTvmWeightLayout=speed"]);
        Assert.False(speed.Succeeded);
        var error = Assert.Single(speed.Errors, e => e.Code == "MTVM3192");
        Assert.Contains("model ic_resnet8 has MicroTvmWeightLayout=speed", error.Text);
        Assert.Contains("> 163,840 B", error.Text);

        // Back to auto: the decision still holds, so one compile and one link.
        var back = project.Build(flags);
        Assert.True(back.Succeeded, back.ToString());
        Assert.Single(back.TasksRun, t => t == "MicroTvmLink");
    }

    /// <summary>A main that calls the model, so the linker keeps it.</summary>
    private const string KwsMain = """
        #include "kws.h"
        static uint8_t ws[KWS_WORKSPACE_SIZE] __attribute__((aligned(16)));
        static int8_t in[KWS_INPUT0_SIZE], out[KWS_OUTPUT0_SIZE];
        int main(void)
        {
            kws_inputs i = { in };
            kws_outputs o = { out };
            return kws_run(&i, &o, ws);
        }

        """;

    /// <summary>A project with kws_dscnn as a MicroModel and <see cref="KwsMain"/> on the small board with <paramref name="flash"/>.</summary>
    private TestProject KwsProjectOnSmallBoard(string name, string flash)
    {
        var project = sdk.CreateProject(name, """
              <PropertyGroup>
                <MicroTvmBoardDirectory>boards/small-an500</MicroTvmBoardDirectory>
              </PropertyGroup>
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
              </ItemGroup>
            """, Projects.SingleMain(KwsMain));
        File.Copy(Path.Combine(ModelsRoot, "kws_dscnn", "model.tflite"), project.PathOf("kws.tflite"));
        WriteBoard(project, flash);
        return project;
    }

    [Fact]
    public void AutoDecidesWithOneLinkPerBuildAndEvenSizeCanOverflow()
    {
        // A first build on the small board links twice (speed overflows, size fits); one far too small for either fails
        // with the compact-weights code.
        var project = KwsProjectOnSmallBoard("tiny-flash", "64K");
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        Assert.Equal(2, first.TasksRun.Count(t => t == "MicroTvmLink"));
        Assert.Matches(@"; weights int8 \(auto: speed [\d,]+ B > flash 65,536 B\)", first.Output);

        WriteBoard(project, "32K");
        var tiny = project.Build();
        Assert.False(tiny.Succeeded);
        var error = Assert.Single(tiny.Errors, e => e.Code == "MTVM3191");
        Assert.Contains("even with compact weights", error.Text);
        Assert.Contains("> 32,768 B", error.Text);
    }

    /// <summary>A decision file that an SDK before 32f2242 wrote has no speed link's flash: it is kept, and the build stays
    /// on compact weights with one link per change, the file as it was. Before 078b79a the missing figure read as the
    /// largest number: the first link after it recorded its flash, a larger second one's speed estimate overflowed to a
    /// negative number and dropped the decision, and the link with widened weights that followed did not fit (MTVM3192).</summary>
    [Fact]
    public void AutoKeepsADecisionWithoutTheSpeedLinksFlash()
    {
        var project = KwsProjectOnSmallBoard("older-decision", "64K");
        var first = project.Build();
        Assert.True(first.Succeeded, first.ToString());
        string file = project.PathOf("obj/Debug/older-decision.weight-layout");
        bool Figure(string line) => line.StartsWith("speedFlash=", StringComparison.Ordinal) || line.StartsWith("sizeFlash=", StringComparison.Ordinal);
        var lines = File.ReadAllLines(file);
        Assert.Contains(lines, l => l.StartsWith("speedFlash=", StringComparison.Ordinal));
        var older = lines.Where(l => !Figure(l)).ToArray();
        File.WriteAllLines(file, older);

        // Two edits that grow the application (the overflow needed a link larger than the one before).
        for (int change = 1; change <= 2; change++)
        {
            project.WriteFile("main.c", KwsMain
                .Replace("#include \"kws.h\"\n", $"#include \"kws.h\"\nstatic const volatile uint8_t ballast[{256 * change}] = {{ 1 }};\n", StringComparison.Ordinal)
                .Replace("return kws_run(&i, &o, ws);", "return kws_run(&i, &o, ws) + ballast[0];", StringComparison.Ordinal));
            var build = project.Build();
            Assert.True(build.Succeeded, $"change {change}: {build}");
            Assert.Single(build.TasksRun, t => t == "MicroTvmLink");
            Assert.Matches(@"; weights int8 \(auto: speed [\d,]+ B > flash 65,536 B\)", build.Output);
        }

        Assert.Equal(older, File.ReadAllLines(file));
    }

    [Fact]
    public void AutoGoesBackToWidenedWeightsWhenTheApplicationShrinks()
    {
        var project = KwsProjectOnSmallBoard("shrinking-app", "4M");
        var roomy = project.Build();
        Assert.True(roomy.Succeeded, roomy.ToString());
        Assert.Contains("; weights int16 (auto: speed fits)", roomy.Output);
        long speedFlash = long.Parse(Regex.Match(roomy.Output, @"Flash: [\d.]+% \(([\d,]+) of").Groups[1].Value.Replace(",", ""), System.Globalization.CultureInfo.InvariantCulture);

        // 10 KiB more flash than that firmware takes, and an application grown by 16 KiB of constants: speed overflows,
        // compact weights (about 20 KB less) fit.
        WriteBoard(project, (speedFlash + 10_240).ToString(System.Globalization.CultureInfo.InvariantCulture));
        string grownMain = KwsMain.Replace("#include \"kws.h\"\n", "#include \"kws.h\"\nstatic const volatile uint8_t ballast[16384] = { 1 };\n", StringComparison.Ordinal)
            .Replace("return kws_run(&i, &o, ws);", "return kws_run(&i, &o, ws) + ballast[0];", StringComparison.Ordinal);
        project.WriteFile("main.c", grownMain);
        var grown = project.Build();
        Assert.True(grown.Succeeded, grown.ToString());
        Assert.Equal(2, grown.TasksRun.Count(t => t == "MicroTvmLink"));
        Assert.Matches(@"; weights int8 \(auto: speed [\d,]+ B > flash [\d,]+ B\)", grown.Output);

        // The constants gone: the link with compact weights sees room for the widened ones and the build goes back to them.
        project.WriteFile("main.c", KwsMain);
        var shrunk = project.Build();
        Assert.True(shrunk.Succeeded, shrunk.ToString());
        Assert.Equal(2, shrunk.TasksRun.Count(t => t == "MicroTvmLink"));
        Assert.Contains("now leaves room for widened weights", shrunk.Output);
        Assert.Contains("; weights int16 (auto: speed fits)", shrunk.Output);
        Assert.False(File.Exists(project.PathOf("obj/Debug/shrinking-app.weight-layout")));
        Assert.Equal(File.ReadAllText(project.PathOf("obj/Debug/models/kws.c")),
            ModelCompiler.Compile(TfliteImporter.Load(project.PathOf("kws.tflite")), new CompileOptions("cortex-m7", "kws")).Files["kws.c"]);

        var again = project.Build();
        Assert.True(again.Succeeded, again.ToString());
        Assert.False(again.Linked);
    }

    [Fact]
    public void AutoKeepsTheWidenedLayoutWhereItFits()
    {
        var project = sdk.CreateProject("roomy-flash", """
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
              </ItemGroup>
            """, Projects.SingleMain(KwsMain));
        File.Copy(Path.Combine(ModelsRoot, "kws_dscnn", "model.tflite"), project.PathOf("kws.tflite"));
        var build = project.Build();
        Assert.True(build.Succeeded, build.ToString());
        Assert.Single(build.TasksRun, t => t == "MicroTvmLink");
        Assert.Contains("; weights int16 (auto: speed fits)", build.Output);
        var expected = ModelCompiler.Compile(TfliteImporter.Load(project.PathOf("kws.tflite")), new CompileOptions("cortex-m7", "kws"));
        Assert.Equal(expected.Files["kws.c"], File.ReadAllText(project.PathOf("obj/Debug/models/kws.c")));
        Assert.False(File.Exists(project.PathOf("obj/Debug/roomy-flash.weight-layout")));
    }
}
