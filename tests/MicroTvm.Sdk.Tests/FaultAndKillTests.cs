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
