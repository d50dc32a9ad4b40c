using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MicroTvm.Sdk.Tests.Infrastructure;
using NuGet.Packaging;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// The packed MicroTvm.Sdk and MicroTvm.Templates, read with NuGet.Packaging as NuGet itself reads them: identity,
/// package type, dependencies, and every file the targets, tasks and templates need, listed from the source tree (so a
/// file added there but not packed fails here rather than in a user's build). The netstandard2.0 task assembly
/// (Visual Studio's .NET Framework MSBuild) may reference only what that MSBuild carries.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // packs the SDK (dotnet pack) once per run
public sealed class PackageContentTests(SdkPackageFixture sdk)
{
    [Fact]
    public void SdkPackageIsAnMsBuildSdkWithEveryFileItsTargetsUse()
    {
        using var package = new PackageArchiveReader(sdk.PackagePath);
        var identity = package.GetIdentity();
        Assert.Equal("MicroTvm.Sdk", identity.Id);
        Assert.Equal(sdk.Version, identity.Version.ToNormalizedString());
        Assert.Equal(["MSBuildSdk"], package.GetPackageTypes().Select(t => t.Name));
        Assert.True(package.NuspecReader.GetDevelopmentDependency());
        // An SDK brings nothing into the firmware project's restore graph.
        Assert.All(package.GetPackageDependencies(), group => Assert.Empty(group.Packages));

        var files = package.GetFiles().Select(f => f.Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        string root = sdk.RepositoryRoot;
        IEnumerable<string> SourceFiles(string folder) => Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories)
            .Where(f => !Regex.IsMatch(Path.GetRelativePath(Path.Combine(root, folder), f).Replace('\\', '/'), @"(^|/)(bin|obj)/"))
            .Select(f => Path.GetRelativePath(Path.Combine(root, folder), f).Replace('\\', '/'));
        Assert.All(SourceFiles("sdk/MicroTvm.Sdk/Sdk"), f => Assert.Contains("Sdk/" + f, files));
        Assert.All(SourceFiles("sdk/MicroTvm.Sdk/targets"), f => Assert.Contains("targets/" + f, files));
        Assert.All(SourceFiles("crt"), f => Assert.Contains("crt/" + f, files));
        Assert.All(SourceFiles("templates/firmware/boards"), f => Assert.Contains("boards/" + f, files));
        Assert.All(Directory.GetDirectories(Path.Combine(root, "templates/firmware/boards")).Select(Path.GetFileName).Where(b => b != "common"),
            board => Assert.Contains($"boards/{board}/board.props", files));
        foreach (string framework in new[] { "netstandard2.0", "net8.0" })
        {
            Assert.Contains($"tasks/{framework}/MicroTvm.Build.Tasks.dll", files);
        }
        Assert.Contains("tasks/net8.0/MicroTvm.Compiler.dll", files);

        // The packed microtvm tool: every assembly its deps.json lists as its own or a package's runtime file.
        Assert.Contains("tools/microtvm/microtvm.dll", files);
        Assert.Contains("tools/microtvm/microtvm.runtimeconfig.json", files);
        using (var deps = JsonDocument.Parse(Read(package, "tools/microtvm/microtvm.deps.json")))
        {
            var runtimeFiles = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value.EnumerateObject()
                .SelectMany(library => library.Value.TryGetProperty("runtime", out var runtime) ? runtime.EnumerateObject().Select(r => Path.GetFileName(r.Name)) : [])
                .ToList();
            Assert.Contains("System.CommandLine.dll", runtimeFiles);
            Assert.All(runtimeFiles, f => Assert.Contains("tools/microtvm/" + f, files));
        }

        // Every import of a targets/props file names a packed file; every UsingTask names a public task class in both task assemblies.
        var imports = new List<string>();
        var tasks = new List<string>();
        foreach (string file in files.Where(f => f.EndsWith(".targets", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal)))
        {
            var xml = XDocument.Parse(Read(package, file));
            foreach (var import in xml.Descendants().Where(e => e.Name.LocalName == "Import").Select(e => (string)e.Attribute("Project")!))
            {
                string relative = import.Replace("$(MicroTvmSdkRoot)", "").Replace("$(MSBuildThisFileDirectory)", Path.GetDirectoryName(file)!.Replace('\\', '/') + "/");
                if (!relative.Contains("$(", StringComparison.Ordinal) && !relative.StartsWith("Sdk.", StringComparison.Ordinal))
                {
                    string full = relative.Contains('/') ? relative : Path.GetDirectoryName(file)!.Replace('\\', '/') + "/" + relative;
                    imports.Add(full);
                    Assert.True(files.Contains(full), $"{file} imports {import}, which is not in the package");
                }
            }
            tasks.AddRange(xml.Descendants().Where(e => e.Name.LocalName == "UsingTask").Select(e => (string)e.Attribute("TaskName")!));
        }
        Assert.Contains("targets/MicroTvm.Reports.targets", imports);
        Assert.NotEmpty(tasks);
        foreach (string framework in new[] { "netstandard2.0", "net8.0" })
        {
            var types = PublicTypes(ReadBytes(package, $"tasks/{framework}/MicroTvm.Build.Tasks.dll"));
            Assert.All(tasks, task => Assert.Contains(task, types));
        }
    }

    [Fact]
    public void NetStandardTaskAssemblyReferencesOnlyWhatNetFrameworkMsBuildCarries()
    {
        using var package = new PackageArchiveReader(sdk.PackagePath);
        using var pe = new PEReader(new MemoryStream(ReadBytes(package, "tasks/netstandard2.0/MicroTvm.Build.Tasks.dll")));
        var metadata = pe.GetMetadataReader();
        var references = metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h))
            .ToDictionary(r => metadata.GetString(r.Name), r => r.Version);
        // netstandard.dll ships with .NET Framework 4.7.2+ (Visual Studio's MSBuild runs there); MSBuild's own
        // assemblies keep the assembly version 15.1.0.0 in every Visual Studio since 2017.
        Assert.Equal(["Microsoft.Build.Framework", "Microsoft.Build.Utilities.Core", "netstandard"], references.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new Version(2, 0, 0, 0), references["netstandard"]);
        Assert.Equal(new Version(15, 1, 0, 0), references["Microsoft.Build.Framework"]);
        Assert.Equal(new Version(15, 1, 0, 0), references["Microsoft.Build.Utilities.Core"]);
        var target = metadata.GetAssemblyDefinition().GetCustomAttributes().Select(h => metadata.GetCustomAttribute(h))
            .Select(a => a.Constructor.Kind == HandleKind.MemberReference ? metadata.GetMemberReference((MemberReferenceHandle)a.Constructor).Parent : default)
            .Where(p => p.Kind == HandleKind.TypeReference)
            .Select(p => metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)p).Name));
        Assert.Contains("TargetFrameworkAttribute", target);
    }

    [Fact]
    public void TemplatePackageIsATemplateWithTheProjectAndTheSdkVersion()
    {
        using var package = new PackageArchiveReader(sdk.TemplatePackagePath);
        Assert.Equal("MicroTvm.Templates", package.GetIdentity().Id);
        Assert.Equal(sdk.Version, package.GetIdentity().Version.ToNormalizedString());
        Assert.Equal(["Template"], package.GetPackageTypes().Select(t => t.Name));
        Assert.All(package.GetPackageDependencies(), group => Assert.Empty(group.Packages));
        var files = package.GetFiles().Select(f => f.Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        string source = Path.Combine(sdk.RepositoryRoot, "templates/firmware/project");
        Assert.All(Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(source, f).Replace('\\', '/')),
            f => Assert.Contains("content/firmware/" + f, files));
        using var template = JsonDocument.Parse(Read(package, "content/firmware/.template.config/template.json"));
        Assert.Equal("microtvm-firmware", template.RootElement.GetProperty("shortName").GetString());
        Assert.Equal(sdk.Version, template.RootElement.GetProperty("symbols").GetProperty("SdkVersion").GetProperty("defaultValue").GetString());
    }

    private static string Read(PackageArchiveReader package, string file)
    {
        using var reader = new StreamReader(package.GetStream(file));
        return reader.ReadToEnd();
    }

    private static byte[] ReadBytes(PackageArchiveReader package, string file)
    {
        using var stream = package.GetStream(file);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static HashSet<string> PublicTypes(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var metadata = pe.GetMetadataReader();
        return metadata.TypeDefinitions.Select(h => metadata.GetTypeDefinition(h))
            .Where(t => (t.Attributes & System.Reflection.TypeAttributes.VisibilityMask) == System.Reflection.TypeAttributes.Public)
            .Select(t => metadata.GetString(t.Namespace) + "." + metadata.GetString(t.Name)).ToHashSet(StringComparer.Ordinal);
    }
}
