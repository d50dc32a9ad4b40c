using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// -t:Run runs whatever firmware a cloned project builds, so the firmware gets no host access through the emulator:
/// semihosting calls that would open or write host files or run host commands are refused and fail the run
/// (MTVM4012), and QEMU's seccomp sandbox would stop it starting a process anyway. Real firmware, real QEMU.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet pack and build, gcc, QEMU: not in eng/test.sh --fast
public sealed class EmulatorSandboxTests(SdkPackageFixture sdk)
{
    /// <summary>ARM semihosting: operation in r0, pointer to the argument block in r1, BKPT 0xAB.</summary>
    private const string Semihosting = """
        #include <stdint.h>
        #include <string.h>

        static int32_t semihost(uint32_t operation, const void *arguments)
        {
            register uint32_t r0 __asm("r0") = operation;
            register const void *r1 __asm("r1") = arguments;
            __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
            return (int32_t)r0;
        }

        """;

    [Fact]
    public void SemihostingSystemRunsNoHostCommandAndFailsTheRun()
    {
        string marker = Path.Combine(sdk.Root, "semihosting-system-" + Guid.NewGuid().ToString("N")[..8]);
        var project = sdk.CreateProject("system", "", Projects.SingleMain(Semihosting + $$"""
            int main(void)
            {
                static const char command[] = "id > {{marker}}";
                uint32_t arguments[2] = { (uint32_t)command, sizeof command - 1 };
                int32_t status = semihost(0x12u /* SYS_SYSTEM */, arguments);
                printf("SYS_SYSTEM returned %ld\n", (long)status);
                return 0;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4012", error.Code);
        Assert.Contains("system (SYS_SYSTEM)", error.Text);
        Assert.Contains("| SYS_SYSTEM returned -1", run.Output);
        Assert.False(File.Exists(marker), "the host ran the firmware's command");
    }

    [Fact]
    public void SemihostingCannotOpenOrWriteAHostFile()
    {
        string target = Path.Combine(sdk.Root, "semihosting-file-" + Guid.NewGuid().ToString("N")[..8]);
        var project = sdk.CreateProject("hostfile", "", Projects.SingleMain(Semihosting + $$"""
            int main(void)
            {
                static const char name[] = "{{target}}";
                uint32_t open_arguments[3] = { (uint32_t)name, 4u /* "w" */, sizeof name - 1 };
                int32_t handle = semihost(0x01u /* SYS_OPEN */, open_arguments);
                static const char text[] = "written by the firmware\n";
                uint32_t write_arguments[3] = { (uint32_t)handle, (uint32_t)text, sizeof text - 1 };
                int32_t unwritten = semihost(0x05u /* SYS_WRITE */, write_arguments);
                printf("SYS_OPEN returned %ld, SYS_WRITE left %ld bytes\n", (long)handle, (long)unwritten);
                return 0;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4012", error.Code);
        Assert.Contains("open (SYS_OPEN)", error.Text);
        Assert.Contains("| SYS_OPEN returned -1, SYS_WRITE left 24 bytes", run.Output);
        Assert.False(File.Exists(target), "the firmware created a host file");
    }

    [Fact]
    public void TheEmulatorRunsSandboxedAndTheExitCodeStillArrives()
    {
        var project = sdk.CreateProject("sandboxed", "", Projects.SingleMain("""
            int main(void)
            {
                printf("exiting with 3\n");
                return 3;
            }
            """));

        var run = project.Build("-t:Run", "-v:d");

        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4001", error.Code);
        Assert.Contains("exited with code 3", error.Text);
        Assert.Contains("| exiting with 3", run.Output);
        Assert.Contains("-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", run.Output);
        Assert.Contains("-semihosting-config enable=on,target=gdb", run.Output);
    }

    [Fact]
    public void SemihostingWithHostAccessIsRefusedBeforeTheFirmwareRuns()
    {
        var project = sdk.CreateProject("native", "", Projects.ThreeSources());

        var run = project.Build("-t:Run", "-p:RunArguments=-semihosting-config enable=on%2Ctarget=native");

        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4013", error.Code);
        Assert.Equal(project.ProjectFile, error.File);
        Assert.DoesNotContain("| answer=42", run.Output);
    }
}
