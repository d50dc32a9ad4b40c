using System.Text.RegularExpressions;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// What a person at a terminal sees: dotnet build picks the terminal logger there, which at normal verbosity shows
/// errors, warnings and each project's "-> output" line, never ordinary high-importance messages (the size report),
/// but the live lines of the steps that stream (the firmware's console, the board table; tasks/LiveOutput.cs).
/// Each build runs in a pseudo-terminal (util-linux script).
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed class TerminalOutputTests(SdkPackageFixture sdk)
{
    private static string Firmware(int exitCode) => $$"""
        int main(void)
        {
            for (int i = 1; i <= 16; i++)
                printf("line %d\n", i);
            return {{exitCode}};
        }
        """;

    [Fact]
    public void TheTerminalLoggerShowsTheSizeTheRunAndAFailingRunsLastConsoleLines()
    {
        var project = sdk.CreateProject("tl", "", Projects.SingleMain(Firmware(0)));

        var build = project.RunInTerminal("build", "-tl:on");
        var plainLog = project.Build(); // the console logger's size report, for the same figures

        Assert.Equal(0, build.ExitCode);
        Assert.True(plainLog.Succeeded, plainLog.ToString());
        var flash = Regex.Match(plainLog.Output, @"Flash: [\d.]+% \(([\d,]+) of");
        var ram = Regex.Match(plainLog.Output, @"RAM: [\d.]+% \(([\d,]+) of");
        Assert.True(flash.Success && ram.Success, plainLog.Output);
        Assert.Matches(@$"tl net[\d.]+ succeeded \([\d.]+s\) → bin/Debug/tl\.elf \(mps2-an500: Flash {flash.Groups[1].Value} B \([\d.]+%\), RAM {ram.Groups[1].Value} B \([\d.]+%\)\)", build.Output);

        var run = project.RunInTerminal("build", "-tl:on", "-t:Run");

        Assert.Equal(0, run.ExitCode);
        // The console as it came, then the run's one line (a project with live lines ends as "test" in this logger).
        Assert.Contains(string.Join("\n", Enumerable.Range(1, 16).Select(i => $"  | line {i}")), run.Output);
        Assert.Matches(@"tl test net[\d.]+ succeeded \([\d.]+s\) → bin/Debug/tl\.console\.txt \(mps2-an500: exited with code 0 after [\d.]+ s, 16 console lines; 'dotnet run' shows the console live\)", run.Output);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => $"line {i}"), File.ReadAllLines(project.PathOf("bin/Debug/tl.console.txt")));

        project.WriteFile("main.c", Projects.SingleMain(Firmware(3))["main.c"]);
        var failed = project.RunInTerminal("build", "-tl:on", "-t:Run");

        Assert.NotEqual(0, failed.ExitCode);
        string expectedError = "The firmware exited with code 3. Last 12 of 16 console lines:\n" +
            string.Join("\n", Enumerable.Range(5, 12).Select(i => $"        | line {i}"));
        Assert.Contains(expectedError, failed.Output);
        // Above the error, the whole console as it came.
        Assert.Contains(string.Join("\n", Enumerable.Range(1, 16).Select(i => $"  | line {i}")), failed.Output);
    }

    [Fact]
    public void TheTerminalLoggerShowsTheBoardTable()
    {
        var project = sdk.CreateProject("tlboards", "", Projects.SingleMain(Firmware(0)));

        var boards = project.RunInTerminal("build", "-tl:on", "-t:Boards");

        Assert.Equal(0, boards.ExitCode);
        Assert.Matches(@"(?m)^board\s+CPU\s+flash\s+RAM\s+runs on\s+description$", boards.Output);
        Assert.Matches(@"(?m)^mps2-an500\s+cortex-m7\s+4 MiB\s+4 MiB\s+emulated \(qemu-system-arm mps2-an500\)", boards.Output);
        Assert.Matches(@"(?m)^nucleo-f746zg\s+cortex-m7\s+1 MiB\s+320 KiB\s+hardware, flash with openocd", boards.Output);
    }

    [Fact]
    public void TheTerminalLoggerShowsTheTunersTrialsAsTheyCome()
    {
        var project = sdk.CreateProject("tltune", "<ItemGroup><MicroModel Include=\"kws.tflite\" /></ItemGroup>", Projects.SingleMain(Firmware(0)));
        File.Copy(Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn", "model.tflite"), project.PathOf("kws.tflite"));

        var tune = project.RunInTerminal("build", "-tl:on", "-t:Tune", "-p:MicroTvmTuneRepeats=1", "-p:MicroTvmTuneBudget=2");

        Assert.True(tune.ExitCode == 0, tune.Output);
        Assert.Matches(@"(?m)^tuning kws\.tflite on mps2-an500 \(cortex-m7\): \d+ operator signatures", tune.Output);
        var trials = Regex.Matches(tune.Output, @"(?m)^trial (\d+) of (\d+): signature .* best [\d,]+$");
        Assert.True(trials.Count >= 2, tune.Output);
        Assert.Equal(Enumerable.Range(1, trials.Count), trials.Select(m => int.Parse(m.Groups[1].Value)));
        Assert.Matches(@"(?m)^tuned operators: ", tune.Output);
    }

    [Fact]
    public void QuietRunStillShowsAFailingRunsConsoleInItsError()
    {
        var project = sdk.CreateProject("quiet", "", Projects.SingleMain(Firmware(3)));

        var run = project.Build("-t:Run", "-v:q");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4001", error.Code);
        Assert.EndsWith("| line 15\n  | line 16", error.Text);
        Assert.Contains("| line 16", run.Output);
    }

    [Fact]
    public void DotnetRunShowsTheConsoleLiveAndEndsWithTheFirmwaresExitCode()
    {
        var project = sdk.CreateProject("dnrun", "", Projects.SingleMain(Firmware(3)));

        var failing = project.RunInTerminal("run");

        Assert.Equal(3, failing.ExitCode);
        Assert.Contains(string.Join("\n", Enumerable.Range(1, 16).Select(i => $"line {i}")) + "\n" +
            project.PathOf("bin/Debug/dnrun.elf") + ": error MTVM4001: The firmware exited with code 3.", failing.Output);

        project.WriteFile("main.c", Projects.SingleMain(Firmware(0))["main.c"]);
        var passing = project.RunInTerminal("run");

        Assert.Equal(0, passing.ExitCode);
        Assert.EndsWith(string.Join("\n", Enumerable.Range(1, 16).Select(i => $"line {i}")), passing.Output);
    }
}
