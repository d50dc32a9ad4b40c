using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The microtvm command-line tool as a user gets it: MicroTvm.Cli packed as a .NET tool, installed with
/// <c>dotnet tool install</c> from a local feed into a tool folder, run on a model.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class CliToolPackageTests(SdkPackageFixture sdk)
{
    [Fact]
    public async Task TheToolPackageInstallsAndInspectsAModel()
    {
        string feed = Path.Combine(sdk.Root, "tool-feed");
        var pack = DotNet.Run(sdk.RepositoryRoot,
            ["pack", Path.Combine(sdk.RepositoryRoot, "compiler", "MicroTvm.Cli", "MicroTvm.Cli.csproj"), "-c", "Release", "-o", feed,
             $"-p:MicroTvmVersion={sdk.Version}", "-nodeReuse:false", "-v:minimal"], null, TimeSpan.FromMinutes(5));
        Assert.True(pack.ExitCode == 0, pack.Output);

        string tools = Path.Combine(sdk.Root, "tools-" + Guid.NewGuid().ToString("N")[..6]);
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory };
        var install = DotNet.Run(sdk.Root,
            ["tool", "install", "MicroTvm.Cli", "--tool-path", tools, "--add-source", feed, "--version", sdk.Version], env, TimeSpan.FromMinutes(5));
        Assert.True(install.ExitCode == 0, install.Output);

        string model = Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite");
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(tools, "microtvm"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("inspect");
        start.ArgumentList.Add(model);
        using var tool = System.Diagnostics.Process.Start(start)!;
        var error = tool.StandardError.ReadToEndAsync();
        string output = await tool.StandardOutput.ReadToEndAsync();
        Assert.True(tool.WaitForExit(TimeSpan.FromMinutes(2)), "microtvm inspect did not finish");
        Assert.True(tool.ExitCode == 0, output + await error);
        Assert.Matches(@"MACs:\s+2,656,768", output);
    }
}
