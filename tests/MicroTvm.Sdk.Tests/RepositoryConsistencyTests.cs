using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>Facts kept in two places that must agree.</summary>
public sealed partial class RepositoryConsistencyTests
{
    private static readonly string Root = FindRoot();

    /// <summary>A class that packs the SDK (its constructor takes <see cref="SdkPackageFixture"/>) builds with dotnet,
    /// gcc and QEMU: it is in the slow layer, or eng/test.sh --fast waits minutes for the package.</summary>
    [Fact]
    public void EveryTestClassThatPacksTheSdkIsSlow()
    {
        var packing = typeof(RepositoryConsistencyTests).Assembly.GetTypes()
            .Where(t => t.GetConstructors().Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(SdkPackageFixture))))
            .Where(t => t.GetMethods().Any(m => m.IsDefined(typeof(FactAttribute), inherit: true)));
        var fast = packing.Where(t => !t.CustomAttributes.Any(a => a.AttributeType == typeof(TraitAttribute)
            && a.ConstructorArguments.Select(x => x.Value as string).SequenceEqual(["Speed", "Slow"]))).Select(t => t.Name);

        Assert.NotEmpty(packing);
        Assert.Empty(fast);
    }

    [Fact]
    public void GlobalJsonPinsTheVersionTheRepositoryPacks()
    {
        using var globalJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "global.json")));
        string pinned = globalJson.RootElement.GetProperty("msbuild-sdks").GetProperty("MicroTvm.Sdk").GetString()!;
        string packed = XDocument.Load(Path.Combine(Root, "Directory.Build.props"))
            .Descendants("MicroTvmVersion").Single().Value;

        Assert.Equal(packed, pinned);
    }

    [Fact]
    public void EveryErrorCodeTheSdkAndCompilerReportIsDocumented()
    {
        var sources = new[] { "tasks", "compiler" }.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "sdk"), "*.targets", SearchOption.AllDirectories))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));
        // Codes in comments are examples ("error MTVM0000"), not codes anything reports.
        var codes = sources.SelectMany(p => File.ReadLines(p).Where(line => !line.TrimStart().StartsWith("//", StringComparison.Ordinal)))
            .SelectMany(line => Code().Matches(line).Select(m => m.Value)).Distinct().ToList();
        var documented = DocumentedCode().Matches(File.ReadAllText(Path.Combine(Root, "docs", "errors.md")))
            .Select(m => m.Groups[1].Value).ToHashSet();

        Assert.NotEmpty(codes);
        Assert.All(codes, code => Assert.Contains(code, documented));
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MicroTvm.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("MicroTvm.slnx not found");
    }

    [GeneratedRegex(@"MTVM[0-4]\d{3}")]
    private static partial Regex Code();

    [GeneratedRegex(@"^\| (MTVM\d{4}) \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedCode();
}
