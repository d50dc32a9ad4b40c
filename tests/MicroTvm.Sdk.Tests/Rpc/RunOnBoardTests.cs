using System.IO.Compression;
using System.Text.Json;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests.Rpc;

/// <summary>
/// <c>microtvm run model.tflite --board</c> as a user runs it — the tool packed inside the SDK package under test — on
/// every model of tests/models, against TensorFlow Lite Micro's stored outputs; and <c>-t:Validate</c> /
/// <c>-t:Profile</c> in a firmware project.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet pack and build, gcc, QEMU: not in eng/test.sh --fast
public sealed class RunOnBoardTests(SdkPackageFixture sdk)
{
    private static readonly object Gate = new();

    /// <summary>The SDK package under test, unpacked once (what NuGet puts in its package folder).</summary>
    private string SdkRoot
    {
        get
        {
            lock (Gate)
            {
                string root = Path.Combine(sdk.Root, "sdk-unpacked");
                if (!File.Exists(Path.Combine(root, "Sdk", "Sdk.props")))
                    ZipFile.ExtractToDirectory(sdk.PackagePath, root, overwriteFiles: true);
                return root;
            }
        }
    }

    private ProcessOutput Microtvm(params string[] arguments) =>
        DotNet.Run(sdk.Root, [Path.Combine(SdkRoot, "tools", "microtvm", "microtvm.dll"), .. arguments], null, TimeSpan.FromMinutes(5));

    public static TheoryData<string> Models() => new(Directory.GetDirectories(Path.Combine(FindRoot(), "tests", "models")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryModelOnTheEmulatedM7EqualsTheStoredReference(string model)
    {
        string folder = Path.Combine(sdk.RepositoryRoot, "tests", "models", model);
        string output = Path.Combine(sdk.Root, "run-" + model);
        var run = Microtvm("run", Path.Combine(folder, "model.tflite"), "--board", "mps2-an500", "--input", Path.Combine(folder, "input1.bin"),
            "-o", output, "--cache", Path.Combine(sdk.Root, "run-cache"));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("equal to the reference evaluator", run.Output);
        Assert.Matches(@"inference\s+[\d,]+ instructions", run.Output);

        // TFLite Micro's outputs (x86-64 reference kernels): bit-exact for integer outputs, 1e-5 for float.
        byte[] expected = File.ReadAllBytes(Path.Combine(folder, "output1.bin")), actual = File.ReadAllBytes(Path.Combine(output, "output0.bin"));
        using var result = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "result.json")));
        // The device equals the evaluator bit for bit, float32 too (run checks that: "equal to the reference evaluator").
        Assert.Equal("bit-exact", result.RootElement.GetProperty("outputs")[0].GetProperty("rule").GetString());
        bool isFloat = result.RootElement.GetProperty("outputs")[0].GetProperty("type").GetString() == "float32";
        Assert.Equal(expected.Length, actual.Length);
        if (!isFloat)
        {
            Assert.Equal(expected, actual);
        }
        else
        {
            for (int i = 0; i < expected.Length / 4; i++)
            {
                float e = BitConverter.ToSingle(expected, 4 * i), a = BitConverter.ToSingle(actual, 4 * i);
                Assert.True(Math.Abs(e - a) <= 1e-5 * (1 + Math.Abs(e)), $"element {i}: {a} vs {e}");
            }
        }

        // The second run builds nothing.
        var again = Microtvm("run", Path.Combine(folder, "model.tflite"), "--board", "mps2-an500", "--json", "--cache", Path.Combine(sdk.Root, "run-cache"));
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("server firmware (cached)", again.Output);
    }

    /// <summary>MTVM4104's path, with a device that really computes different bits: a copy of the SDK under test whose
    /// model sources are compiled with <c>-ffp-contract=fast</c> (gcc's default for GNU C) instead of <c>off</c>, so the
    /// Cortex-M7 fuses a*b+c into VFMA. hello_world_float's output then differs from the evaluator in the last bits;
    /// the run fails with MTVM4104 naming the first differing element, and result.json records it.</summary>
    [Fact]
    public void ADeviceThatComputesOtherBitsFailsTheRunNamingTheFirstDifference()
    {
        string contracting = Path.Combine(sdk.Root, "sdk-contracting");
        if (!Directory.Exists(contracting))
        {
            foreach (string file in Directory.EnumerateFiles(SdkRoot, "*", SearchOption.AllDirectories))
            {
                string target = Path.Combine(contracting, Path.GetRelativePath(SdkRoot, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            string targets = Path.Combine(contracting, "targets", "MicroTvm.Model.targets");
            string text = File.ReadAllText(targets);
            Assert.Contains("AdditionalOptions=\"-ffp-contract=off\"", text);
            File.WriteAllText(targets, text.Replace("AdditionalOptions=\"-ffp-contract=off\"", "AdditionalOptions=\"-ffp-contract=fast\""));
        }

        string folder = Path.Combine(sdk.RepositoryRoot, "tests", "models", "hello_world_float");
        string output = Path.Combine(sdk.Root, "run-contracting");
        var run = Microtvm("run", Path.Combine(folder, "model.tflite"), "--board", "mps2-an500", "--input", Path.Combine(folder, "input1.bin"),
            "-o", output, "--sdk", contracting, "--cache", Path.Combine(sdk.Root, "run-cache-contracting"));
        Assert.True(run.ExitCode == 1, run.Output);
        Assert.Matches(@"model\.tflite: error MTVM4104: output 0 differs from the reference evaluator at element 0 \(of 1; shape \[1,1\]\): device -?[\d.]+, reference -?[\d.]+", run.Output);
        using var result = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "result.json")));
        var check = result.RootElement.GetProperty("outputs")[0];
        Assert.False(check.GetProperty("equal").GetBoolean());
        Assert.InRange(check.GetProperty("maxDifference").GetDouble(), 1e-9, 1e-5); // the last bits, not garbage
    }

    [Fact]
    public void ValidateAndProfileInAFirmwareProject()
    {
        string folder = Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn");
        var project = sdk.CreateProject("kwsapp", """
              <PropertyGroup>
                <Board>mps2-an500</Board>
              </PropertyGroup>
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
                <MicroModelInput Include="input2.bin" Model="kws" />
              </ItemGroup>
            """, new Dictionary<string, string> { ["main.c"] = "int main(void) { return 0; }\n" });
        File.Copy(Path.Combine(folder, "model.tflite"), project.PathOf("kws.tflite"));
        File.Copy(Path.Combine(folder, "input2.bin"), project.PathOf("input2.bin"));

        // In a terminal, at normal verbosity: the terminal logger shows the project's "-> output" line, which holds the result
        // ("test" because the steps that stream their lines live run _TestRunStart, see tasks/LiveOutput.cs).
        var validate = project.RunInTerminal("build", "-tl:on", "-t:Validate");
        Assert.True(validate.ExitCode == 0, validate.Output);
        using (var json = JsonDocument.Parse(File.ReadAllBytes(project.PathOf(Path.Combine("obj", "Debug", "validate", "kws.json")))))
        {
            Assert.True(json.RootElement.GetProperty("outputs")[0].GetProperty("equal").GetBoolean());
            string instructions = json.RootElement.GetProperty("inference").GetDouble().ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Matches(@$"kwsapp test net[\d.]+ succeeded \([\d.]+s\) → obj/Debug/validate/kws\.json \(kws on mps2-an500: outputs equal the reference evaluator \(bit-exact\); {instructions} instructions per inference; workspace [\d,]+ B; stack [\d,]+ B\)", validate.Output);
        }

        var profile = project.Build("-t:Profile");
        Assert.True(profile.Succeeded, profile.ToString());
        Assert.Matches(@"\s0\s+CONV_2D\s+\[1,49,10,1\] -> \[1,25,5,64\]\s+320,000", profile.Output);
        using var result = JsonDocument.Parse(File.ReadAllBytes(project.PathOf(Path.Combine("obj", "Debug", "profile", "kws.json"))));
        var operators = result.RootElement.GetProperty("operators");
        Assert.Equal(13, operators.GetArrayLength());
        Assert.Equal("SOFTMAX", operators[12].GetProperty("kind").GetString());
        double sum = operators.EnumerateArray().Sum(o => o.GetProperty("cost").GetDouble());
        Assert.InRange(sum, 0.95 * result.RootElement.GetProperty("inference").GetDouble(), result.RootElement.GetProperty("inference").GetDouble());
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MicroTvm.slnx"))) return d.FullName;
        throw new InvalidOperationException();
    }
}
