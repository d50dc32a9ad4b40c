using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// -t:Run's verdict on runs that do not end normally: a fault names the faulting code (function, file and line, through
/// arm-none-eabi-addr2line on the stacked pc and lr), and an emulator killed during the run is a failure with a code,
/// never "exited with code 0".
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class FaultAndKillTests(SdkPackageFixture sdk)
{
    [Fact]
    public void AFaultNamesTheFunctionFileAndLineOfTheFaultingInstruction()
    {
        var project = sdk.CreateProject("deref", "", new Dictionary<string, string>
        {
            // Line numbers matter: the load is on line 6 of sensor.c, the call on line 6 of main.c.
            ["sensor.c"] = "#include <stdint.h>\n\nint read_sensor(volatile const uint32_t *reg);\n\nint read_sensor(volatile const uint32_t *reg) {\n    return (int)*reg;\n}\n",
            ["main.c"] = "#include <stdint.h>\n\nint read_sensor(volatile const uint32_t *reg);\n\nint main(void) {\n    return read_sensor((volatile const uint32_t *)0xF0000000u) + 1;\n}\n",
        });

        var run = project.Build("-t:Run");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4002", error.Code);
        Assert.Contains("*** MicroTvm fault:", error.Text);
        Assert.Contains($"is in read_sensor at {project.PathOf("sensor.c")}:6", error.Text);
        Assert.Contains($"called from main at {project.PathOf("main.c")}:6 (lr)", error.Text);
    }

    [Fact]
    public async Task AnEmulatorKilledDuringTheRunFailsTheRunWithACode()
    {
        var project = sdk.CreateProject("killed", "", Projects.SingleMain("""
            int main(void)
            {
                printf("running\n");
                for (;;) {
                }
            }
            """));
        Assert.True(project.Build().Succeeded);
        string elf = project.PathOf("bin/Debug/killed.elf");

        var run = Task.Run(() => project.Build("-t:Run", "-p:RunTimeout=120"));
        int killedPid = -1;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (killedPid < 0 && !run.IsCompleted && DateTime.UtcNow < deadline)
        {
            killedPid = EmulatorOf(elf);
            if (killedPid < 0)
            {
                await Task.Delay(200);
            }
        }
        Assert.True(killedPid > 0, "QEMU never started");
        await Task.Delay(1000); // running, and printed its line
        using (var qemu = System.Diagnostics.Process.GetProcessById(killedPid))
        {
            qemu.Kill(); // SIGKILL, this QEMU only
        }
        var result = await run;

        Assert.False(result.Succeeded, result.ToString());
        var error = Assert.Single(result.Errors);
        Assert.Equal("MTVM4050", error.Code);
        Assert.Contains("killed by signal 9", error.Text);
        Assert.Contains("| running", error.Text);
    }

    [Fact]
    public async Task AGdbKillDuringADebugSessionFailsTheBuildInsteadOfExitingWithCodeZero()
    {
        var project = sdk.CreateProject("gdbkill", "", new Dictionary<string, string>
        {
            ["main.c"] = """
                #include <stdio.h>

                volatile unsigned waits;

                void wait_for_the_debugger(void);

                /* Out of line, so gdb's breakpoint on it is in the image (an inlined copy would be dropped). */
                __attribute__((noinline)) void wait_for_the_debugger(void)
                {
                    waits++;
                }

                int main(void)
                {
                    printf("running\n");
                    for (;;) {
                        wait_for_the_debugger();
                    }
                }
                """,
        });
        Assert.True(project.Build().Succeeded);
        string elf = project.PathOf("bin/Debug/gdbkill.elf");
        int port = FreePort();

        // -t:Debug with no script waits for the user's debugger: QEMU's gdb stub behind the guard on DebugPort.
        var session = Task.Run(() => project.Build("-t:Debug", $"-p:DebugPort={port}", "-p:DebugTimeout=120"));
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (EmulatorOf(elf) < 0 && !session.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.True(EmulatorOf(elf) > 0, "QEMU never started");

        // The user's gdb, as the README says to connect it: runs to wait_for_the_debugger() (after the printf), then kill.
        var gdb = DotNet.RunProgram("gdb-multiarch", project.Directory,
            ["-q", "-batch", "-nx", "-ex", "set confirm off", "-ex", $"target extended-remote 127.0.0.1:{port}",
             "-ex", "break wait_for_the_debugger", "-ex", "continue", "-ex", "kill", elf], TimeSpan.FromMinutes(4));
        var result = await session.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Contains("Breakpoint 1, wait_for_the_debugger ()", gdb.Output);
        Assert.False(result.Succeeded, result.ToString());
        var error = Assert.Single(result.Errors);
        Assert.Equal("MTVM4050", error.Code);
        Assert.Contains("a debugger told its gdb stub to kill it", error.Text);
        Assert.Contains("QEMU: Terminated via GDBstub", error.Text);
        Assert.Contains("| running", error.Text);
        Assert.DoesNotContain("exited with code 0", result.Output);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The process id of the qemu-system-arm running <paramref name="elf"/> (its command line names it), or -1.</summary>
    private static int EmulatorOf(string elf)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out int pid))
            {
                continue;
            }
            try
            {
                var arguments = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                if (arguments.Length > 0 && Path.GetFileName(arguments[0]) == "qemu-system-arm" && arguments.Contains(elf))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return -1;
    }
}
