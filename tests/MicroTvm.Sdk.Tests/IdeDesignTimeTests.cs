using System.Text.Json;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// A firmware project opened as Visual Studio and Rider open it: through the MSBuild API (Microsoft.Build.Locator and
/// Microsoft.Build, in the MicroTvm.Sdk.IdeProbe process), restore and then the design-time targets with the IDE's
/// global properties. They must succeed, return the C sources (the project's and each model's generated one), the
/// include folders and the models, and run no tool: nothing is generated or compiled.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // restores and evaluates against the packed SDK
public sealed class IdeDesignTimeTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    private static readonly string[] DesignTimeTargets =
    [
        "CollectPackageReferences", "CollectFrameworkReferences", "ResolveAssemblyReferencesDesignTime", "ResolveProjectReferencesDesignTime",
        "ResolvePackageDependenciesDesignTime", "CompileDesignTime",
    ];

    [Fact]
    public void DesignTimeBuildReturnsSourcesIncludeFoldersAndModelsAndRunsNoTool()
    {
        var project = sdk.CreateProject("ide", """
              <ItemGroup>
                <MicroModel Include="models/kws.tflite" />
                <IncludeDirectory Include="include" />
              </ItemGroup>
            """, new Dictionary<string, string>
            {
                ["src/main.c"] = "#include \"kws.h\"\n#include \"config.h\"\nint main(void) { return 0; }\n",
                ["src/util.c"] = "int util(void) { return 1; }\n",
                ["include/config.h"] = "#define CONFIG 1\n",
            });
        Directory.CreateDirectory(project.PathOf("models"));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite"), project.PathOf("models/kws.tflite"));

        string configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/', '\\'))!)!;
        string probe = Path.Combine(sdk.RepositoryRoot, "tests", "MicroTvm.Sdk.IdeProbe", "bin", configuration, "net10.0", "MicroTvm.Sdk.IdeProbe.dll");
        Assert.True(File.Exists(probe), probe + " was not built");
        var run = DotNet.Run(project.Directory,
            ["exec", probe, project.ProjectFile, string.Join(';', DesignTimeTargets), "MicroTvmCSource;MicroTvmIncludeDirectory;IncludeDirectory;MicroModel;Compile;PackageReference"],
            new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory }, TimeSpan.FromMinutes(5));
        log.WriteLine(run.Output);
        Assert.Equal(0, run.ExitCode);
        var result = JsonDocument.Parse(run.Output[run.Output.IndexOf('{')..]).RootElement;

        Assert.Equal("Success", result.GetProperty("restore").GetString());
        Assert.Empty(result.GetProperty("errors").EnumerateArray());
        foreach (string target in DesignTimeTargets)
        {
            Assert.Equal("Success", result.GetProperty("results").GetProperty(target).GetString());
        }
        string[] Items(string type) => result.GetProperty("items").GetProperty(type).EnumerateArray().Select(i => i.GetString()!).ToArray();
        string models = project.PathOf("obj/Debug/models/");
        Assert.Contains(project.PathOf("src/main.c"), Items("MicroTvmCSource"));
        Assert.Contains(project.PathOf("src/util.c"), Items("MicroTvmCSource"));
        Assert.Contains(models + "kws.c", Items("MicroTvmCSource"));
        Assert.DoesNotContain(Items("Compile"), f => f.EndsWith(".c", StringComparison.Ordinal)); // never handed to the C# compiler
        Assert.Equal([project.PathOf("models/kws.tflite")], Items("MicroModel"));

        // Include folders: the project's own (IncludeDirectory), the generated models' and the SDK's runtime headers (in the
        // restored package) that the SDK adds (MicroTvmIncludeDirectory).
        string sdkRoot = result.GetProperty("properties").GetProperty("MicroTvmSdkRoot").GetString()!;
        Assert.StartsWith(Path.Combine(sdk.PackagesDirectory, "microtvm.sdk", sdk.Version), sdkRoot);
        var includes = Items("MicroTvmIncludeDirectory").Select(d => d.TrimEnd('/') + "/").ToArray();
        Assert.Equal([project.PathOf("include")], Items("IncludeDirectory").Select(d => d.TrimEnd('/')));
        Assert.Contains(models, includes);
        Assert.Contains(includes, d => d.StartsWith(sdkRoot, StringComparison.Ordinal) && File.Exists(Path.Combine(d, "microtvm", "platform.h")));
        Assert.Equal("mps2-an500", result.GetProperty("properties").GetProperty("Board").GetString());
        Assert.Equal("Core", result.GetProperty("properties").GetProperty("MSBuildRuntimeType").GetString());

        // No compiler, no gcc: nothing generated or compiled.
        Assert.False(File.Exists(models + "kws.c"));
        Assert.False(Directory.Exists(project.PathOf("obj/Debug/c")));
        Assert.Empty(Directory.Exists(project.PathOf("bin")) ? Directory.GetFiles(project.PathOf("bin"), "*", SearchOption.AllDirectories) : []);
    }
}
