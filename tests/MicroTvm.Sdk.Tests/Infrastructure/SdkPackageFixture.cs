using System.Diagnostics;

namespace MicroTvm.Sdk.Tests.Infrastructure;

/// <summary>
/// Packs MicroTvm.Sdk once per test run, with a unique prerelease version, into a temporary local feed, and
/// gives every project built through it one isolated NuGet package cache: the package under test is the one
/// just packed, never a cached copy. Reuse it from any end-to-end test:
/// <c>[Collection(SdkCollection.Name)]</c> + constructor parameter <c>SdkPackageFixture sdk</c>, then
/// <c>sdk.CreateProject(...)</c> and <c>project.Build(...)</c>.
/// </summary>
public sealed class SdkPackageFixture : IDisposable
{
    public SdkPackageFixture()
    {
        RepositoryRoot = FindRepositoryRoot();
        Root = Path.Combine(Path.GetTempPath(), "microtvm-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        FeedDirectory = Path.Combine(Root, "feed");
        PackagesDirectory = Path.Combine(Root, "nuget-packages");
        Directory.CreateDirectory(FeedDirectory);
        Directory.CreateDirectory(PackagesDirectory);
        Version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

        var pack = DotNet.Run(RepositoryRoot,
            ["pack", Path.Combine(RepositoryRoot, "sdk", "MicroTvm.Sdk", "MicroTvm.Sdk.csproj"), "-c", "Release",
             "-o", FeedDirectory, $"-p:MicroTvmVersion={Version}", "-nodeReuse:false", "-v:minimal"],
            environment: null, timeout: TimeSpan.FromMinutes(5));
        if (pack.ExitCode != 0 || !File.Exists(PackagePath))
        {
            throw new InvalidOperationException($"dotnet pack of MicroTvm.Sdk failed ({pack.ExitCode}):\n{pack.Output}");
        }
    }

    public string RepositoryRoot { get; }

    /// <summary>Temporary folder of this run: feed, package cache and test projects.</summary>
    public string Root { get; }

    public string FeedDirectory { get; }

    public string PackagesDirectory { get; }

    /// <summary>Version of the SDK package under test.</summary>
    public string Version { get; }

    public string PackagePath => Path.Combine(FeedDirectory, $"MicroTvm.Sdk.{Version}.nupkg");

    private string? templatePackagePath;

    /// <summary>MicroTvm.Templates, packed (on first use) with the same version as the SDK under test.</summary>
    public string TemplatePackagePath
    {
        get
        {
            lock (this)
            {
                if (templatePackagePath == null)
                {
                    var pack = DotNet.Run(RepositoryRoot,
                        ["pack", Path.Combine(RepositoryRoot, "templates", "MicroTvm.Templates", "MicroTvm.Templates.csproj"), "-c", "Release",
                         "-o", FeedDirectory, $"-p:MicroTvmVersion={Version}", "-nodeReuse:false", "-v:minimal"],
                        environment: null, timeout: TimeSpan.FromMinutes(5));
                    string path = Path.Combine(FeedDirectory, $"MicroTvm.Templates.{Version}.nupkg");
                    if (pack.ExitCode != 0 || !File.Exists(path))
                    {
                        throw new InvalidOperationException($"dotnet pack of MicroTvm.Templates failed ({pack.ExitCode}):\n{pack.Output}");
                    }
                    templatePackagePath = path;
                }
                return templatePackagePath;
            }
        }
    }

    /// <summary>
    /// Installs MicroTvm.Templates into a private template hive and runs <c>dotnet new microtvm-firmware</c>
    /// with <c>--Feed</c> naming this run's feed, as a user outside the repository would, into a fresh folder
    /// (of <paramref name="parent"/>, else of a new one) with no NuGet.config or global.json above it.
    /// </summary>
    public TestProject CreateProjectFromTemplate(string name, params string[] templateArguments) =>
        CreateProjectFromTemplateIn(Path.Combine(Root, "projects", "template-" + Guid.NewGuid().ToString("N")[..6]), name, templateArguments);

    private string? templateHive;

    /// <summary>A private template hive with MicroTvm.Templates installed (once: a second install registers it twice).</summary>
    private string TemplateHive
    {
        get
        {
            lock (this)
            {
                if (templateHive == null)
                {
                    string hive = Path.Combine(Root, "template-hive");
                    var install = DotNet.Run(Root, ["new", "install", TemplatePackagePath, "--debug:custom-hive", hive], null, TimeSpan.FromMinutes(2));
                    if (install.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"dotnet new install failed:\n{install.Output}");
                    }
                    templateHive = hive;
                }
                return templateHive;
            }
        }
    }

    public TestProject CreateProjectFromTemplateIn(string parent, string name, params string[] templateArguments)
    {
        string hive = TemplateHive;
        Directory.CreateDirectory(parent);
        string directory = Path.Combine(parent, name);
        var create = DotNet.Run(parent,
            ["new", "microtvm-firmware", "-n", name, "-o", directory, "--Feed", FeedDirectory, "--debug:custom-hive", hive, .. templateArguments], null, TimeSpan.FromMinutes(2));
        if (create.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet new microtvm-firmware failed:\n{create.Output}");
        }
        return new TestProject(this, directory, name);
    }

    /// <summary>
    /// Creates a project folder with its own global.json (pinning this SDK version) and NuGet.config (this
    /// run's feed only), a csproj whose body is <paramref name="projectBody"/>, and the given files.
    /// </summary>
    public TestProject CreateProject(string name, string projectBody, IReadOnlyDictionary<string, string> files, string? folderName = null)
    {
        string directory = Path.Combine(Root, "projects", (folderName ?? name) + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "global.json"),
            $$"""
            {
              "sdk": { "version": "10.0.100", "rollForward": "latestFeature" },
              "msbuild-sdks": { "MicroTvm.Sdk": "{{Version}}" }
            }
            """);
        WriteNuGetConfig(directory);
        File.WriteAllText(Path.Combine(directory, name + ".csproj"),
            $"""
            <Project Sdk="MicroTvm.Sdk">
            {projectBody}
            </Project>
            """);
        foreach (var (relativePath, content) in files)
        {
            string path = Path.Combine(directory, relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }
        return new TestProject(this, directory, name);
    }

    /// <summary>A NuGet.config in <paramref name="directory"/> naming this run's feed as the only package source.</summary>
    private void WriteNuGetConfig(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "NuGet.config"),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="under-test" value="{FeedDirectory}" />
              </packageSources>
            </configuration>
            """);
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("MICROTVM_KEEP_TEST_FILES") == "1")
        {
            return;
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A straggling process may still hold a file; the OS cleans the temp folder eventually.
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MicroTvm.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("MicroTvm.slnx not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class SdkCollection : ICollectionFixture<SdkPackageFixture>
{
    /// <summary>Tests in this collection share one packed SDK and run one after another (2-core CI).</summary>
    public const string Name = "MicroTvm.Sdk end-to-end";
}
