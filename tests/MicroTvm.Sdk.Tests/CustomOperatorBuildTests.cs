using System.Text.RegularExpressions;
using MicroTvm.Compiler.Tests.Codegen;
using MicroTvm.Sdk.Tests.Infrastructure;
using Microsoft.Build.Logging.StructuredLogger;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// <c>&lt;MicroModelOperator&gt;</c> items through real <c>dotnet build</c>s of the packed SDK: a model whose custom
/// operator (between a RELU and an ADD) is the project's C, run in QEMU, its output checked against the reference
/// evaluator for the builtin parts plus the operator's defined function (<see cref="CustomOperatorModel"/>); the custom
/// options bytes printed by the firmware as the C function got them; what each incremental build recompiles; a missing
/// implementation (MTVM1004 naming the project), bad items, and -t:Validate (MTVM1091).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU and dotnet build: not in eng/test.sh --fast
public sealed class CustomOperatorBuildTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private static readonly sbyte[] X = { -128, -1, 0, 1, 16, 127, -64, 5 };

    private const string Main = CustomOperatorModel.FirmwareMain;

    private static string Items(int scratch, string extra = "") => $"""
          <ItemGroup>
            <MicroModel Include="net.tflite" />
            <MicroModelOperator Include="ops/scale_shift.c" Name="{CustomOperatorModel.Code}" ScratchBytes="{scratch}" />
        {extra}  </ItemGroup>
        """;

    [Fact]
    public void TheModelLibraryCarriesTheProjectsCustomOperator()
    {
        var project = sdk.CreateProject("customlib", Items(40), new Dictionary<string, string>
        {
            ["main.c"] = Main,
            ["ops/scale_shift.c"] = CustomOperatorModel.Implementation,
        });
        File.WriteAllBytes(project.PathOf("net.tflite"), CustomOperatorModel.Model(CustomOperatorModel.Options(3, -5)));

        var library = project.Build("-t:ModelLibrary");

        Assert.True(library.Succeeded, library.ToString());
        Assert.Equal(CustomOperatorModel.Implementation, File.ReadAllText(project.PathOf("bin/Debug/models/net/src/operators/scale_shift.c")));
        string archive = project.PathOf("bin/Debug/models/net/lib/cortex-m7/libnet.a");
        string symbols = DotNet.RunProgram("arm-none-eabi-nm", project.Directory, [archive], TimeSpan.FromMinutes(1)).Output;
        Assert.Matches(@"(?m)^[0-9a-f]+ T net_run\s*$", symbols);
        Assert.Matches(@"(?m)^[0-9a-f]+ T Vendor_ScaleShift\s*$", symbols);
        Assert.True(File.Exists(project.PathOf("bin/Debug/models/net.zip")));
        Assert.Contains("| `Vendor.ScaleShift` | `Vendor_ScaleShift` | `src/operators/scale_shift.c`, in the archive |",
            File.ReadAllText(project.PathOf("bin/Debug/models/net/README.md")));
    }

    [Fact]
    public void TheProjectsCustomOperatorRunsInQemuAndRebuildsOnlyWhatDependsOnIt()
    {
        var project = sdk.CreateProject("customop", Items(40), new Dictionary<string, string>
        {
            ["main.c"] = Main,
            ["ops/scale_shift.c"] = CustomOperatorModel.Implementation,
        });
        var options = CustomOperatorModel.Options(3, -5);
        File.WriteAllBytes(project.PathOf("net.tflite"), CustomOperatorModel.Model(options));

        var run = project.Build("-t:Run");
        Assert.True(run.Succeeded, run.ToString());
        Assert.Equal(1, run.CompiledSources.Count(s => s.EndsWith("scale_shift.c", StringComparison.Ordinal))); // once, though the default items list it too
        Assert.Contains("status 0", run.Output);
        var seen = Regex.Match(run.Output, @"\| options((?: [0-9a-f]{2})*)\r?\n");
        Assert.True(seen.Success, run.Output);
        Assert.Equal(Convert.ToHexString(options).ToLowerInvariant(), seen.Groups[1].Value.Replace(" ", ""));
        var y = Regex.Match(run.Output, @"\| y((?: -?\d+)+)");
        Assert.True(y.Success, run.Output);
        var expected = CustomOperatorModel.Expected(X.Select(v => unchecked((byte)v)).ToArray(), 3, -5).Select(b => (int)(sbyte)b);
        Assert.Equal(expected, y.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
        log.WriteLine(y.Value);

        // The operator's C changed: that object alone is compiled, the model is not regenerated.
        project.Touch("ops/scale_shift.c");
        var touched = project.Build();
        Assert.True(touched.Succeeded, touched.ToString());
        Assert.DoesNotContain("MicroTvmCompileModels", touched.TasksRun);
        Assert.Equal(["ops/scale_shift.c"], touched.CompiledSources);
        Assert.True(touched.Linked);

        // Another operator item: the compiler runs again but writes the same C (the model does not use it), so gcc
        // compiles only the new file.
        project.WriteFile("unused.c", "#include \"microtvm/custom_op.h\"\nint Unused(const microtvm_custom_op* op) { (void)op; return 0; }\n");
        project.WriteFile(project.Name + ".csproj", File.ReadAllText(project.ProjectFile).Replace(Items(40),
            Items(40, "    <MicroModelOperator Include=\"unused.c\" Name=\"Unused\" />\n")));
        var added = project.Build();
        Assert.True(added.Succeeded, added.ToString());
        Assert.Contains("MicroTvmCompileModels", added.TasksRun);
        Assert.Equal(["unused.c"], added.CompiledSources);

        // More scratch: the model's plan changes, so its C is compiled again, and main.c, which includes net.h (a new
        // NET_WORKSPACE_SIZE); the operator's C is not.
        project.WriteFile(project.Name + ".csproj", File.ReadAllText(project.ProjectFile).Replace("ScratchBytes=\"40\"", "ScratchBytes=\"64\""));
        var rescratched = project.Build("-t:Run");
        Assert.True(rescratched.Succeeded, rescratched.ToString());
        Assert.Equal(["main.c", "obj/Debug/models/net.c"], rescratched.CompiledSources.Select(s => s.Replace(project.Directory.Replace('\\', '/') + "/", "")).Order());
        Assert.Contains("\"scratchBytes\": 64", File.ReadAllText(project.PathOf("obj/Debug/models/net.json")));
        Assert.Matches(@"\| y((?: -?\d+)+)", rescratched.Output);

        // The evaluator cannot run the project's C: validation says so, with a code, before building anything.
        var validate = project.Build("-t:Validate");
        Assert.False(validate.Succeeded);
        var error = Assert.Single(validate.Errors);
        Assert.Equal("MTVM1091", error.Code);
        Assert.Contains(CustomOperatorModel.Code, error.Text);
    }

    [Fact]
    public void AMissingImplementationNamesTheProjectAndBadItemsAreErrors()
    {
        var project = sdk.CreateProject("nocustomop", """
              <ItemGroup>
                <MicroModel Include="net.tflite" />
              </ItemGroup>
            """, Projects.SingleMain("int main(void) { return 0; }\n"));
        File.WriteAllBytes(project.PathOf("net.tflite"), CustomOperatorModel.Model(CustomOperatorModel.Options(3, -5)));

        foreach (var arguments in new[] { Array.Empty<string>(), ["-p:MicroTvmModelCompiler=Cli"] })
        {
            var failed = project.Build(arguments);
            Assert.False(failed.Succeeded);
            var error = Assert.Single(failed.Errors);
            Assert.Equal("MTVM1004", error.Code);
            Assert.Equal(project.PathOf("net.tflite"), error.File);
            Assert.Contains($"operator 1 (custom operator '{CustomOperatorModel.Code}')", error.Text);
            string howTo = $"<MicroModelOperator Include=\"vendor_scaleshift.c\" Name=\"{CustomOperatorModel.Code}\" /> to nocustomop.csproj";
            Assert.True(error.Text.Contains(howTo, StringComparison.Ordinal), error.Text);
        }

        string items = File.ReadAllText(project.ProjectFile).Replace("""<MicroModel Include="net.tflite" />""", """
            <MicroModel Include="net.tflite" />
                <MicroModelOperator Include="a.c" Name="" />
                <MicroModelOperator Include="b.c" Name="B" ScratchBytes="lots" />
                <MicroModelOperator Include="c.c" Name="x.y" />
                <MicroModelOperator Include="d.c" Name="x-y" />
            """);
        project.WriteFile(project.Name + ".csproj", items);
        var bad = project.Build();
        Assert.False(bad.Succeeded);
        var codes = bad.Errors.Select(e => (e.Code, e.File)).OrderBy(e => e.Code).ToList();
        Assert.Equal([("MTVM0150", project.ProjectFile), ("MTVM0151", project.ProjectFile), ("MTVM0152", project.ProjectFile)], codes);
        Assert.DoesNotContain(bad.TasksRun, t => t == "MicroTvmCompileModels");
    }
}
