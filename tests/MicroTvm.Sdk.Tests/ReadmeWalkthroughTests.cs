using System.Text.RegularExpressions;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// README's "Use it in your own project", followed as written from empty folders outside the repository: its commands
/// and project files are read from the README itself (only the repository's package folder and version are this run's),
/// so a step that stops working, or a README that drifts from what works, fails here.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet new, dotnet run, gcc, QEMU
public sealed class ReadmeWalkthroughTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private string Section()
    {
        string readme = File.ReadAllText(Path.Combine(sdk.RepositoryRoot, "README.md"));
        int start = readme.IndexOf("\n## Use it in your own project", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no 'Use it in your own project' section");
        int end = readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        return readme[start..end];
    }

    private static List<string> Blocks(string text, string language) =>
        Regex.Matches(text, $"```{language}\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();

    /// <summary>This run's packages stand for the repository's artifacts/packages and version 0.1.0.</summary>
    private string ThisRun(string text) => text
        .Replace("$REPO/artifacts/packages/MicroTvm.Templates.0.1.0.nupkg", sdk.TemplatePackagePath)
        .Replace("$REPO/artifacts/packages", sdk.FeedDirectory)
        .Replace("MicroTvm.Sdk/0.1.0", "MicroTvm.Sdk/" + sdk.Version);

    private string EmptyFolder(string name)
    {
        string folder = Path.Combine(sdk.Root, "readme", name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private Dictionary<string, string?> Environment(string hive) => new() { ["NUGET_PACKAGES"] = sdk.PackagesDirectory };

    [Fact]
    public void TemplateCommandsBuildAndRunFromAnEmptyFolder()
    {
        var commands = Blocks(Section(), "sh").First().Split('\n')
            .Select(l => Regex.Replace(l, @"\s+#.*$", "").Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal(3, commands.Count);
        string folder = EmptyFolder("template");
        string hive = Path.Combine(folder, "..", "hive-" + Path.GetFileName(folder));
        string current = folder;
        var env = Environment(hive);
        string? lastOutput = null;
        foreach (string line in commands.SelectMany(c => c.Split("&&", StringSplitOptions.TrimEntries)))
        {
            var words = ThisRun(line).Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            if (words[0] == "cd")
            {
                current = Path.Combine(current, words[1]);
                continue;
            }
            Assert.Equal("dotnet", words[0]);
            // A private template hive (the README installs into the user's): the same install, kept out of this machine's.
            if (words[1] == "new") words.AddRange(["--debug:custom-hive", hive]);
            var result = DotNet.Run(current, words.Skip(1), env, TimeSpan.FromMinutes(5));
            log.WriteLine($"$ {line}\n{result.Output}");
            Assert.True(result.ExitCode == 0, $"{line} failed ({result.ExitCode}):\n{result.Output}");
            lastOutput = result.Output;
        }
        Assert.Contains("Hello from blinky on mps2-an500!", lastOutput);
        Assert.True(File.Exists(Path.Combine(folder, "blinky", "bin", "Debug", "blinky.elf")));
    }

    [Fact]
    public void ByHandProjectAndItsModelsBuildAsWritten()
    {
        string section = Section();
        var xml = Blocks(section, "xml");
        string byHand = xml.Single(b => b.Contains("MicroTvm.Sdk/0.1.0", StringComparison.Ordinal));
        string withModels = xml.Single(b => b.Contains("<MicroModel Include=\"models/kws.tflite\"", StringComparison.Ordinal));
        string classify = Blocks(section, "c").Single(b => b.Contains("kws_run", StringComparison.Ordinal));
        string feedConfig = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="microtvm" value="{sdk.FeedDirectory}" />
              </packageSources>
            </configuration>
            """;

        // "By hand": the project file as written, a NuGet.config naming the feed, a source; dotnet build -t:Run.
        string plain = EmptyFolder("byhand");
        File.WriteAllText(Path.Combine(plain, "byhand.csproj"), ThisRun(byHand));
        File.WriteAllText(Path.Combine(plain, "NuGet.config"), feedConfig);
        Directory.CreateDirectory(Path.Combine(plain, "src"));
        File.WriteAllText(Path.Combine(plain, "src", "main.c"), "#include <stdio.h>\n#include \"microtvm/platform.h\"\nint main(void) { printf(\"by hand\\n\"); return 0; }\n");
        var run = DotNet.Run(plain, ["build", "-t:Run", "-nodeReuse:false", "-tl:off"], Environment(""), TimeSpan.FromMinutes(5));
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("| by hand", run.Output);

        // "Models": that project (Sdk version in global.json, as the README says for the unversioned form) with the two
        // models and the classify function as written, called from main; its KWS scores are TFLite Micro's.
        string models = EmptyFolder("models");
        File.WriteAllText(Path.Combine(models, "models.csproj"), withModels);
        File.WriteAllText(Path.Combine(models, "NuGet.config"), feedConfig);
        File.WriteAllText(Path.Combine(models, "global.json"), $$"""{ "msbuild-sdks": { "MicroTvm.Sdk": "{{sdk.Version}}" } }""");
        Directory.CreateDirectory(Path.Combine(models, "models"));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite"), Path.Combine(models, "models", "kws.tflite"));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "ad_toycar", "model.tflite"), Path.Combine(models, "models", "anomaly.tflite"));
        var input = File.ReadAllBytes(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "input0.bin"));
        File.WriteAllText(Path.Combine(models, "classify.c"), classify);
        File.WriteAllText(Path.Combine(models, "main.c"), $$"""
            #include <stdio.h>
            #include "kws.h"
            #include "detector.h"
            int classify(const int8_t features[KWS_INPUT0_ELEMENTS], int8_t scores[KWS_OUTPUT0_ELEMENTS]);
            static const int8_t features[KWS_INPUT0_ELEMENTS] = { {{string.Join(",", input.Select(b => (sbyte)b))}} };
            int main(void)
            {
                int8_t scores[KWS_OUTPUT0_ELEMENTS];
                if (classify(features, scores) != 0) return 2;
                printf("scores:");
                for (int c = 0; c < KWS_OUTPUT0_ELEMENTS; c++) printf(" %d", scores[c]);
                printf("\n");
                return (int)(sizeof(detector_inputs) == 0);
            }
            """);
        var modelRun = DotNet.Run(models, ["build", "-t:Run", "-nodeReuse:false", "-tl:off"], Environment(""), TimeSpan.FromMinutes(5));
        log.WriteLine(modelRun.Output);
        Assert.True(modelRun.ExitCode == 0, modelRun.Output);
        var expected = File.ReadAllBytes(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "output0.bin")).Select(b => ((sbyte)b).ToString());
        Assert.Contains("| scores: " + string.Join(" ", expected), modelRun.Output);
        Assert.True(File.Exists(Path.Combine(models, "obj", "Debug", "models", "detector.h")));
    }
}
