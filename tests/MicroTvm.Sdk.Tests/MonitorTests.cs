using System.Diagnostics;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// -t:Monitor reads a real board's console through System.IO.Ports; a pseudo-terminal pair (socat) stands in for the
/// ST-LINK's virtual COM port. The monitor ends by itself: when the port closes, or at MonitorTimeout.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class MonitorTests(SdkPackageFixture sdk)
{
    private const string Nucleo = "<PropertyGroup><Board>nucleo-f746zg</Board></PropertyGroup>";

    [Fact]
    public async Task MonitorShowsTheConsoleUntilThePortCloses()
    {
        var project = sdk.CreateProject("mon", Nucleo, Projects.ThreeSources());
        using var pair = PseudoTerminalPair.Open(Path.Combine(sdk.Root, "pty-" + Guid.NewGuid().ToString("N")[..6]));

        // The board prints a line every 100 ms for up to a minute (the monitor discards what came before it opened the
        // port); two seconds after the monitor started, the cable is pulled: socat ends and both ends of the pair go.
        using var writer = BoardPrintingTicks(pair);

        var stopwatch = Stopwatch.StartNew();
        var build = Task.Run(() => project.Build("-t:Monitor", $"-p:MonitorPort={pair.HostEnd}", "-p:MonitorTimeout=120"));
        while (!build.IsCompleted && !MonitorIsReading(pair.HostEnd) && stopwatch.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(100);
        }
        await Task.Delay(2000);
        pair.Dispose();
        var monitor = await build;
        if (!writer.HasExited)
        {
            writer.Kill();
        }

        Assert.True(monitor.Succeeded, monitor.ToString());
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(100), $"the monitor ran {stopwatch.Elapsed}: it did not see the port close");
        Assert.Contains("--baud 115200", monitor.Output); // the board's baud rate
        var ticks = System.Text.RegularExpressions.Regex.Matches(monitor.Output, @"\| tick (\d+)\r?\n").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.True(ticks.Count >= 5, monitor.Output);
        Assert.Equal(Enumerable.Range(ticks[0], ticks.Count), ticks); // every line, in order, none cut
        Assert.Contains("ended by the port closing", monitor.Output);
    }

    [Fact]
    public void TheTerminalLoggerShowsTheMonitoredLinesAsTheyCome()
    {
        var project = sdk.CreateProject("montl", Nucleo, Projects.ThreeSources());
        using var pair = PseudoTerminalPair.Open(Path.Combine(sdk.Root, "pty-" + Guid.NewGuid().ToString("N")[..6]));
        using var writer = BoardPrintingTicks(pair);

        // dotnet build in a terminal at normal verbosity, as a person types it; the time limit ends it.
        var monitor = project.RunInTerminal("build", "-tl:on", "-t:Monitor", $"-p:MonitorPort={pair.HostEnd}", "-p:MonitorTimeout=4");
        if (!writer.HasExited)
        {
            writer.Kill();
        }

        Assert.Equal(0, monitor.ExitCode);
        var ticks = System.Text.RegularExpressions.Regex.Matches(monitor.Output, @"(?m)^\| tick (\d+)$").Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.True(ticks.Count >= 5, monitor.Output);
        Assert.Equal(Enumerable.Range(ticks[0], ticks.Count), ticks);
    }

    [Fact]
    public void MonitorStopsAtItsTimeLimitAndRefusesAMissingPortAndAnEmulatedBoard()
    {
        var project = sdk.CreateProject("monitor", Nucleo, Projects.ThreeSources());
        using var pair = PseudoTerminalPair.Open(Path.Combine(sdk.Root, "pty-" + Guid.NewGuid().ToString("N")[..6]));

        var quiet = project.Build("-t:Monitor", $"-p:MonitorPort={pair.HostEnd}", "-p:MonitorTimeout=2", "-p:MonitorBaudRate=9600");
        Assert.True(quiet.Succeeded, quiet.ToString());
        Assert.Contains("--baud 9600", quiet.Output);
        Assert.Contains("0 lines, ended by the time limit (2 s)", quiet.Output);

        var missing = project.Build("-t:Monitor", $"-p:MonitorPort={pair.HostEnd}-missing", "-p:MonitorTimeout=2");
        Assert.False(missing.Succeeded);
        Assert.Equal("MTVM4054", Assert.Single(missing.Errors).Code);

        var emulated = sdk.CreateProject("emulated", "", Projects.ThreeSources()).Build("-t:Monitor");
        Assert.False(emulated.Succeeded);
        var error = Assert.Single(emulated.Errors);
        Assert.Equal("MTVM4053", error.Code);
        Assert.Contains("dotnet run", error.Text);
    }

    /// <summary>The board: "tick n" on its end of the pair every 100 ms, for up to a minute or until the pair goes.</summary>
    private static Process BoardPrintingTicks(PseudoTerminalPair pair)
    {
        var board = new ProcessStartInfo("sh") { RedirectStandardError = true };
        board.ArgumentList.Add("-c");
        board.ArgumentList.Add("i=0; while [ $i -lt 600 ]; do printf 'tick %d\\r\\n' $i || exit 0; i=$((i+1)); sleep 0.1; done > \"$0\"");
        board.ArgumentList.Add(pair.BoardEnd);
        return Process.Start(board)!;
    }

    /// <summary>True once a process (the monitor) has <paramref name="port"/> open.</summary>
    private static bool MonitorIsReading(string port)
    {
        string device = new FileInfo(port).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? port;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(folder, "cmdline"));
                if (!cmdline.Contains("monitor\0--port\0" + port))
                {
                    continue;
                }
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(folder, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget == device)
                    {
                        return true;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return false;
    }

    /// <summary>socat's two linked pseudo-terminals: what is written to one end is read from the other.</summary>
    private sealed class PseudoTerminalPair : IDisposable
    {
        private readonly Process socat;

        private PseudoTerminalPair(Process socat, string boardEnd, string hostEnd)
        {
            this.socat = socat;
            BoardEnd = boardEnd;
            HostEnd = hostEnd;
        }

        public string BoardEnd { get; }

        public string HostEnd { get; }

        public static PseudoTerminalPair Open(string prefix)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(prefix)!);
            var start = new ProcessStartInfo("socat") { RedirectStandardError = true, RedirectStandardOutput = true };
            start.ArgumentList.Add($"pty,raw,echo=0,link={prefix}-board");
            start.ArgumentList.Add($"pty,raw,echo=0,link={prefix}-host");
            var process = Process.Start(start)!;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!(File.Exists(prefix + "-board") && File.Exists(prefix + "-host")))
            {
                Assert.True(DateTime.UtcNow < deadline && !process.HasExited, "socat did not create the pseudo-terminals");
                Thread.Sleep(50);
            }
            return new PseudoTerminalPair(process, prefix + "-board", prefix + "-host");
        }

        public void Dispose()
        {
            if (!socat.HasExited)
            {
                socat.Kill();
                socat.WaitForExit();
            }
        }
    }
}
