using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// -t:Flash on a real board, with a fake runner in place of openocd/pyocd/st-flash/JLinkExe that records the
/// arguments it receives (one NUL-terminated argument each): the runner gets the board's arguments as a list, the
/// firmware paths substituted inside single arguments, and no shell ever sees the project path.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class FlashRunnerTests(SdkPackageFixture sdk)
{
    private const string Nucleo = "<PropertyGroup><Board>nucleo-f746zg</Board></PropertyGroup>";

    [Fact]
    public void AProjectPathWithShellSyntaxFlashesTheRightFileAndRunsNothing()
    {
        // Backticks and $(...) ran as commands when the runner was started through /bin/sh; a '"' broke the command.
        var project = sdk.CreateProject("nucleo", Nucleo, Projects.ThreeSources(),
            folderName: "flash `touch PWNED-backtick` $(touch PWNED-dollar) \"quoted\" & ü");
        var runner = FakeRunner.Create(sdk);

        // From the project folder, by its file name: MSBuild's command line cannot take a path with '"' in it.
        var flash = DotNet.Run(project.Directory, ["build", "nucleo.csproj", "-t:Flash", $"-p:FlashRunnerPath={runner.Path}", "-nodeReuse:false", "-tl:off"],
            new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory }, TimeSpan.FromMinutes(5));

        Assert.True(flash.ExitCode == 0, flash.Output);
        string elf = project.PathOf("bin/Debug/nucleo.elf");
        Assert.Equal(["-f", "board/st_nucleo_f7.cfg", "-c", $"program {{{elf}}} verify reset exit"], runner.Arguments());
        Assert.True(File.Exists(elf));
        Assert.Empty(Directory.EnumerateFiles(sdk.Root, "PWNED*", SearchOption.AllDirectories));
    }

    public static TheoryData<string, string[], string[]> Runners => new()
    {
        { "openocd", ["-f", "board/st_nucleo_f7.cfg", "-c", "program {<elf>} verify reset exit"], [] },
        { "pyocd", ["flash", "--target", "stm32f746zgtx", "<elf>"], [] },
        { "st-flash", ["--reset", "write", "<bin>", "0x08000000"], [] },
        { "jlink", ["-device", "STM32F746ZG", "-if", "SWD", "-speed", "4000", "-autoconnect", "1", "-NoGui", "1", "-ExitOnError", "1", "-CommandFile", "<commands>"],
            ["r", "loadfile \"<hex>\"", "r", "g", "exit"] },
    };

    [Theory]
    [MemberData(nameof(Runners))]
    public void EachRunnerGetsTheBoardsArgumentsAsAList(string runnerName, string[] expected, string[] expectedCommands)
    {
        var project = sdk.CreateProject("nucleo", Nucleo, Projects.ThreeSources(), folderName: $"{runnerName} folder ü");
        var runner = FakeRunner.Create(sdk);

        var flash = project.Build("-t:Flash", $"-p:FlashRunner={runnerName}", $"-p:FlashRunnerPath={runner.Path}");

        Assert.True(flash.Succeeded, flash.ToString());
        string commandFile = project.PathOf($"obj/Debug/nucleo.{runnerName}.commands");
        var files = new Dictionary<string, string>
        {
            ["<elf>"] = project.PathOf("bin/Debug/nucleo.elf"),
            ["<hex>"] = project.PathOf("bin/Debug/nucleo.hex"),
            ["<bin>"] = project.PathOf("bin/Debug/nucleo.bin"),
            ["<commands>"] = commandFile,
        };
        string Substitute(string text) => files.Aggregate(text, (t, f) => t.Replace(f.Key, f.Value));
        Assert.Equal(expected.Select(Substitute), runner.Arguments());
        if (expectedCommands.Length > 0)
        {
            Assert.Equal(expectedCommands.Select(Substitute), File.ReadAllLines(commandFile));
        }
        foreach (var file in files.Values)
        {
            Assert.True(File.Exists(file) || file == commandFile, file);
        }
    }

    [Fact]
    public void AMissingRunnerNamesThePropertyTheVariableAndATrueInstallHint()
    {
        var project = sdk.CreateProject("nucleo", Nucleo, Projects.ThreeSources());
        Assert.True(project.Build().Succeeded);
        string gccFolder = Path.GetDirectoryName(Which("arm-none-eabi-gcc"))!;
        var noRunners = new Dictionary<string, string?>
        {
            // Nothing on PATH but the dotnet host's folder; the toolchain through its property.
            ["PATH"] = Path.GetDirectoryName(DotNet.Executable) ?? "/nonexistent",
            ["FLASH_RUNNER_PATH"] = null,
        };

        foreach (var (runner, hint) in new[]
        {
            ("openocd", "sudo apt-get install openocd"),
            ("pyocd", "sudo apt-get install python3-pyocd"),
            ("st-flash", "sudo apt-get install stlink-tools"),
            ("jlink", "https://www.segger.com/downloads/jlink/"),
        })
        {
            var flash = project.Run("build", ["-t:Flash", $"-p:FlashRunner={runner}", $"-p:ArmGccPath={gccFolder}"], noRunners);

            Assert.False(flash.Succeeded);
            var error = Assert.Single(flash.Errors);
            Assert.Equal("MTVM3001", error.Code);
            Assert.Equal(project.ProjectFile, error.File);
            Assert.Contains("FlashRunnerPath property", error.Text);
            Assert.Contains("FLASH_RUNNER_PATH environment variable", error.Text);
            Assert.Contains(hint, error.Text);
        }
    }

    private static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, tool)).First(File.Exists);

    /// <summary>A shell script standing in for a flash runner, in a folder of its own: it writes its arguments,
    /// each followed by a NUL, to argv next to itself and exits 0.</summary>
    private sealed class FakeRunner(string path)
    {
        public string Path { get; } = path;

        public static FakeRunner Create(SdkPackageFixture sdk)
        {
            string folder = System.IO.Path.Combine(sdk.Root, "runners", Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(folder);
            string script = System.IO.Path.Combine(folder, "fake-runner");
            File.WriteAllText(script, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$(dirname \"$0\")/argv\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return new FakeRunner(script);
        }

        public string[] Arguments()
        {
            string recorded = File.ReadAllText(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "argv"));
            return recorded.Length == 0 ? [] : recorded.TrimEnd('\0').Split('\0');
        }
    }
}
