using System.Text.RegularExpressions;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests;

/// <summary>Builds and runs firmware in QEMU; checks console, exit codes, diagnostics and errors.</summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public sealed partial class BuildAndRunTests(SdkPackageFixture sdk)
{
    [Fact]
    public void RunPrintsTheFirmwareConsoleAndReportsSize()
    {
        var project = sdk.CreateProject("hello", "", Projects.ThreeSources());

        var run = project.Build("-t:Run");

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| answer=42", run.Output);
        Assert.Matches(SizeLine("Flash", "4,194,304"), run.Output);
        Assert.Matches(SizeLine("RAM", "4,194,304"), run.Output);
        Assert.Matches(@"text [\d,]+, data [\d,]+, bss [\d,]+ bytes", run.Output);
        Assert.Contains("MicroTvmRunFirmware", run.TasksRun);
    }

    [Fact]
    public void CppSourcesAreCompiledWithGxxAndLinked()
    {
        var files = Projects.SingleMain("""
            int scaled_sum(int n);
            int main(void)
            {
                printf("scaled_sum=%d\n", scaled_sum(4));
                return 0;
            }
            """);
        // C++ only: a class template, a constructor, a range-for over std::array-free array, constexpr, extern "C".
        files["filter.cpp"] = """
            template <typename T, int Scale>
            class Accumulator {
            public:
                Accumulator() : total_(0) {}
                void add(T value) { total_ += value * Scale; }
                T total() const { return total_; }
            private:
                T total_;
            };

            extern "C" int scaled_sum(int n)
            {
                constexpr int values[] = {1, 2, 3, 4, 5};
                Accumulator<int, 10> sum;
                for (int v : values)
                    if (v <= n) sum.add(v);
                return sum.total();
            }
            """;
        var project = sdk.CreateProject("cpp", "", files);

        var run = project.Build("-t:Run", "-v:d");

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("filter.cpp", run.CompiledSources);
        Assert.Contains("| scaled_sum=100", run.Output);
        Assert.Matches(@"arm-none-eabi-g\+\+ .*-std=gnu\+\+17", run.Output);
        Assert.Empty(run.Warnings);
    }

    [Fact]
    public void QuotedValuesInCFlagsReachGccAsInAShell()
    {
        var project = sdk.CreateProject("quoted", """
              <PropertyGroup>
                <CFlags>-DVER=\"1.0\" "-DGREETING=\"hello world\""</CFlags>
              </PropertyGroup>
            """, Projects.SingleMain("""
            int main(void)
            {
                printf("version %s, %s\n", VER, GREETING);
                return 0;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| version 1.0, hello world", run.Output);
    }

    [Fact]
    public void ReleaseBuildsOptimisedWithoutAssertsIntoItsOwnFolder()
    {
        var project = sdk.CreateProject("release", "", Projects.SingleMain("""
            #include <assert.h>
            int main(void)
            {
            #ifdef NDEBUG
                printf("release build\n");
            #endif
                assert(0 && "asserts are off in Release");
                return 0;
            }
            """));

        var run = project.Build("-t:Run", "-c", "Release", "-v:d", "-p:StackSize=4096");

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| release build", run.Output);
        Assert.True(File.Exists(project.PathOf("bin/Release/release.elf")));
        Assert.Contains(" -O2 ", run.Output);
        Assert.DoesNotContain(" -Og ", run.Output);
        Assert.Matches(@"0x0+1000\s+__stack_size = 0x1000", File.ReadAllText(project.PathOf("bin/Release/release.map")));
    }

    [Fact]
    public void FlashOnAnEmulatedBoardRunsTheFirmware()
    {
        var project = sdk.CreateProject("flash", "", Projects.ThreeSources());

        var flash = project.Build("-t:Flash");

        Assert.True(flash.Succeeded, flash.ToString());
        Assert.Contains("flashing it means running", flash.Output);
        Assert.Contains("| answer=42", flash.Output);
    }

    [Fact]
    public void TheNetStandardTaskAssemblyForVisualStudioWorksToo()
    {
        // Visual Studio's MSBuild loads tasks/netstandard2.0; here it runs on .NET, which proves the build and
        // packaging of that assembly (not .NET Framework itself, which this Linux machine lacks).
        string assembly = Path.Combine(sdk.PackagesDirectory, "microtvm.sdk", sdk.Version.ToLowerInvariant(), "tasks", "netstandard2.0", "MicroTvm.Build.Tasks.dll");
        var project = sdk.CreateProject("netstandard", "", Projects.ThreeSources());

        var run = project.Build("-t:Run", "-p:MicroTvmTasksAssembly=" + assembly);

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| answer=42", run.Output);
        var compileTask = run.Log!.FindChildrenRecursive<Microsoft.Build.Logging.StructuredLogger.Task>(t => t.Name == "MicroTvmCompileC").First();
        Assert.Contains(Path.Combine("tasks", "netstandard2.0"), compileTask.FromAssembly);
    }

    [Fact]
    public void TheProjectTemplateCreatesFirmwareThatBuildsAndRuns()
    {
        var project = sdk.CreateProjectFromTemplate("My Firmware", "--Board", "mps3-an547");

        var run = project.Build("-t:Run");

        Assert.Contains($"Sdk=\"MicroTvm.Sdk/{sdk.Version}\"", File.ReadAllText(project.ProjectFile));
        Assert.False(File.Exists(project.PathOf("global.json")));
        Assert.Contains(sdk.FeedDirectory, File.ReadAllText(project.PathOf("NuGet.config")));
        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| Hello from My_Firmware on mps3-an547!", run.Output);
        Assert.True(File.Exists(project.PathOf("bin/Debug/My Firmware.elf")));
    }

    /// <summary>
    /// Several template projects for different boards in one solution (the solution folder has no global.json or
    /// NuGet.config): `dotnet build -m` builds each for its own board.
    /// </summary>
    [Fact]
    public void TemplateProjectsForDifferentBoardsBuildTogetherInOneSolution()
    {
        string workspace = Path.Combine(sdk.Root, "projects", "solution-" + Guid.NewGuid().ToString("N")[..6]);
        var m7 = sdk.CreateProjectFromTemplateIn(workspace, "sensor", "--Board", "mps2-an500");
        var m4 = sdk.CreateProjectFromTemplateIn(workspace, "gateway", "--Board", "mps2-an386");
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = sdk.PackagesDirectory };
        Assert.Equal(0, DotNet.Run(workspace, ["new", "sln", "-n", "devices"], env, TimeSpan.FromMinutes(1)).ExitCode);
        Assert.Equal(0, DotNet.Run(workspace, ["sln", "add", m7.ProjectFile, m4.ProjectFile], env, TimeSpan.FromMinutes(1)).ExitCode);
        string solution = Directory.GetFiles(workspace, "devices.sln*").Single();

        var build = DotNet.Run(workspace, ["build", "-m", solution, "-nodeReuse:false", "-tl:off"], env, TimeSpan.FromMinutes(5));

        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("sensor.elf (mps2-an500: Flash ", build.Output);
        Assert.Contains("gateway.elf (mps2-an386: Flash ", build.Output);
        Assert.True(File.Exists(m7.PathOf("bin/Debug/sensor.elf")));
        Assert.True(File.Exists(m4.PathOf("bin/Debug/gateway.elf")));
    }

    [Fact]
    public void FirmwareExitingWithOneFailsTheRun()
    {
        var project = sdk.CreateProject("exits1", "", Projects.SingleMain("""
            int main(void)
            {
                printf("about to fail\n");
                return 1;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.False(run.Succeeded);
        Assert.Contains("| about to fail", run.Output);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4001", error.Code);
        Assert.Contains("exited with code 1", error.Text);
    }

    [Fact]
    public void FaultingFirmwareIsReportedAsACrash()
    {
        var project = sdk.CreateProject("faults", "", Projects.SingleMain("""
            int main(void)
            {
                /* Executing from an address with no memory behind it faults. */
                void (*nowhere)(void) = (void (*)(void))0xF0000001u;
                nowhere();
                return 0;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4002", error.Code);
        Assert.Contains("MicroTvm fault", error.Text);
    }

    [Fact]
    public void FirmwareThatNeverEndsHitsTheTimeLimit()
    {
        var project = sdk.CreateProject("forever", "", Projects.SingleMain("""
            int main(void)
            {
                for (;;) {
                }
            }
            """));

        var run = project.Build("-t:Run", "-p:RunTimeout=2");

        Assert.False(run.Succeeded);
        var error = Assert.Single(run.Errors);
        Assert.Equal("MTVM4003", error.Code);
    }

    [Fact]
    public void CancellingTheBuildStopsTheEmulator()
    {
        var project = sdk.CreateProject("cancelled", "", Projects.SingleMain("""
            int main(void)
            {
                printf("running until cancelled\n");
                for (;;) {
                }
            }
            """));
        Assert.True(project.Build().Succeeded);
        string firmware = project.PathOf("bin/Debug/cancelled.elf");

        // Started as from an interactive terminal: a process launched in the background by a non-interactive shell
        // (nohup, `cmd &` in a CI script) inherits SIGINT ignored, and .NET then leaves it ignored, so Ctrl+C could
        // never reach MSBuild. perl (Debian's essential perl-base) restores the default and execs the build (same pid).
        var startInfo = new System.Diagnostics.ProcessStartInfo("perl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = project.Directory,
        };
        foreach (var argument in new[] { "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", DotNet.Executable, "build", project.ProjectFile, "-t:Run", "-p:RunTimeout=0", "-nodeReuse:false", "-tl:off", "-v:m" })
        {
            startInfo.ArgumentList.Add(argument);
        }
        startInfo.Environment["NUGET_PACKAGES"] = sdk.PackagesDirectory;
        using var build = System.Diagnostics.Process.Start(startInfo)!;
        var started = new ManualResetEventSlim();
        var output = new System.Text.StringBuilder();
        build.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data?.Contains("running until cancelled") == true) started.Set();
        };
        build.BeginOutputReadLine();
        build.BeginErrorReadLine();
        Assert.True(started.Wait(TimeSpan.FromMinutes(2)), output.ToString());
        Assert.True(EmulatorsRunning(firmware) > 0);

        // What Ctrl+C in a terminal sends.
        using (var interrupt = System.Diagnostics.Process.Start("kill", ["-INT", build.Id.ToString()]))
        {
            interrupt.WaitForExit();
        }

        Assert.True(build.WaitForExit(60_000), "the build did not stop within a minute after Ctrl+C; its output:\n" + Snapshot(output));
        Assert.NotEqual(0, build.ExitCode);
        Assert.Equal(0, EmulatorsRunning(firmware));
    }

    private static string Snapshot(System.Text.StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    private static int EmulatorsRunning(string firmware)
    {
        using var pgrep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("pgrep", ["-f", firmware]) { RedirectStandardOutput = true })!;
        string pids = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return pids.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    [Fact]
    public void GccErrorsBecomeMSBuildErrorsWithFileLineAndColumn()
    {
        var project = sdk.CreateProject("broken", "", new Dictionary<string, string>
        {
            ["src/broken.c"] = "int f(void)\n{\n    return undeclared_name;\n}\n",
            ["src/warns.c"] = "int g(void)\n{\n    int unused;\n    return 0;\n}\n",
        });

        var build = project.Build();

        Assert.False(build.Succeeded);
        var error = Assert.Single(build.Errors);
        Assert.Equal("MTVM3101", error.Code);
        Assert.Equal(project.PathOf("src/broken.c"), error.File);
        Assert.Equal(3, error.Line);
        Assert.Equal(12, error.Column);
        Assert.Contains("undeclared_name", error.Text);
        // The canonical form IDEs parse: file(line,col): error CODE: text
        Assert.Contains("src/broken.c(3,12): error MTVM3101:", build.Output.Replace('\\', '/'));
        var warning = Assert.Single(build.Warnings, w => w.Code == "Wunused-variable");
        Assert.Equal(3, warning.Line);
        Assert.False(File.Exists(project.PathOf("bin/Debug/broken.elf")));
    }

    [Fact]
    public void MissingToolchainIsACodedErrorThatSaysHowToInstallIt()
    {
        var project = sdk.CreateProject("notoolchain", "", Projects.ThreeSources());

        // Nothing on PATH but the dotnet host's folder: no arm-none-eabi-gcc anywhere.
        var fromPath = project.Run("build", [], new Dictionary<string, string?>
        {
            ["PATH"] = Path.GetDirectoryName(DotNet.Executable) ?? "/nonexistent",
            ["ARM_GCC_PATH"] = null,
        });
        var fromProperty = project.Build("-p:ArmGccPath=/opt/no-such-toolchain");

        foreach (var result in new[] { fromPath, fromProperty })
        {
            Assert.False(result.Succeeded);
            var error = Assert.Single(result.Errors);
            Assert.Equal("MTVM3001", error.Code);
            Assert.Contains("apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi", error.Text);
        }
        Assert.Contains("/opt/no-such-toolchain", fromProperty.Errors[0].Text);
        Assert.Contains("PATH", fromPath.Errors[0].Text);
    }

    [Fact]
    public void ProjectPathAndSourceNamesWithSpacesWork()
    {
        var project = sdk.CreateProject("spaced", "", new Dictionary<string, string>
        {
            ["my sources/main file.c"] = "#include <stdio.h>\n#include \"my header.h\"\nint main(void) { printf(\"%s\\n\", GREETING); return 0; }\n",
            ["my sources/my header.h"] = "#define GREETING \"spaces are fine\"\n",
        }, folderName: "folder with spaces");

        var run = project.Build("-t:Run");
        project.Touch("my sources/my header.h");
        var afterHeader = project.Build();

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| spaces are fine", run.Output);
        Assert.Equal(["my sources/main file.c"], afterHeader.CompiledSources);
    }

    [Fact]
    public void UndefinedReferenceIsALinkErrorAtTheCallingLine()
    {
        var project = sdk.CreateProject("unresolved", "", new Dictionary<string, string>
        {
            ["main.c"] = "int missing_function(void);\nint main(void)\n{\n    return missing_function();\n}\n",
        });

        var build = project.Build();

        Assert.False(build.Succeeded);
        var error = Assert.Single(build.Errors);
        Assert.Equal("MTVM3202", error.Code);
        Assert.Equal(project.PathOf("main.c"), error.File);
        Assert.Equal(4, error.Line);
        Assert.Contains("undefined reference to `missing_function'", error.Text);
        Assert.False(File.Exists(project.PathOf("bin/Debug/unresolved.elf")));
    }

    [Fact]
    public void FirmwareTooBigForTheBoardIsARegionOverflowError()
    {
        var project = sdk.CreateProject("toobig", "", Projects.SingleMain("""
            static volatile char big[5 * 1024 * 1024];
            int main(void)
            {
                big[0] = 1;
                return big[0] - 1;
            }
            """));

        var build = project.Build();

        Assert.False(build.Succeeded);
        var error = Assert.Single(build.Errors);
        Assert.Equal("MTVM3201", error.Code);
        Assert.Contains("region RAM overflowed", error.Text);
        Assert.False(File.Exists(project.PathOf("bin/Debug/toobig.elf")));
    }

    [Fact]
    public void ABoardDescribedInTheProjectFolderNeedsNoChangeToTheSdk()
    {
        // A board is data: this one reuses the MPS2 support code with its own memory map and a define.
        var project = sdk.CreateProject("customboard", """
              <PropertyGroup>
                <MicroTvmBoardDirectory>$(MSBuildProjectDirectory)/boards/tiny-an500</MicroTvmBoardDirectory>
                <EnableDefaultCSourceItems>false</EnableDefaultCSourceItems>
              </PropertyGroup>
              <ItemGroup>
                <Compile Include="main.c" />
              </ItemGroup>
            """, new Dictionary<string, string>
        {
            ["main.c"] = "#include <stdio.h>\nint main(void) { printf(\"board says %d\\n\", TINY_BOARD); return 0; }\n",
            ["boards/tiny-an500/board.props"] = """
                <Project>
                  <PropertyGroup>
                    <MicroTvmCpuFlags>-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard</MicroTvmCpuFlags>
                    <MicroTvmLinkerScript>$(MSBuildThisFileDirectory)tiny.ld</MicroTvmLinkerScript>
                    <MicroTvmEmulator>qemu-system-arm</MicroTvmEmulator>
                    <MicroTvmEmulatorArguments>-machine mps2-an500 -nographic -monitor none -serial stdio -semihosting-config enable=on,target=gdb -icount shift=0</MicroTvmEmulatorArguments>
                    <MicroTvmBoardFlashRunner>emulator</MicroTvmBoardFlashRunner>
                  </PropertyGroup>
                  <ItemGroup>
                    <MicroTvmBoardSource Include="$(MicroTvmBoardsDirectory)common/cortexm_startup.c;$(MicroTvmBoardsDirectory)common/board_init.c" />
                    <MicroTvmBoardSource Include="$(MicroTvmBoardsDirectory)common/cmsdk_uart.c;$(MicroTvmBoardsDirectory)common/systick_timer.c;$(MicroTvmBoardsDirectory)common/semihosting_exit.c" />
                    <MicroTvmBoardDefine Include="MICROTVM_UART_BASE=0x40004000u;MICROTVM_UART_CLOCK_HZ=25000000u;MICROTVM_CPU_CLOCK_HZ=25000000u;TINY_BOARD=7" />
                    <MicroTvmBoardLibraryDirectory Include="$(MicroTvmBoardsDirectory)common" />
                  </ItemGroup>
                </Project>
                """,
            ["boards/tiny-an500/tiny.ld"] = """
                MEMORY
                {
                    FLASH (rx)  : ORIGIN = 0x00000000, LENGTH = 256K
                    RAM   (rwx) : ORIGIN = 0x20000000, LENGTH = 64K
                }
                __stack_size = 0x2000;
                INCLUDE cortexm_sections.ld
                """,
        });

        var run = project.Build("-t:Run");
        project.Touch("boards/tiny-an500/tiny.ld");
        var afterLinkerScript = project.Build();

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| board says 7", run.Output);
        // A changed linker script relinks without recompiling.
        Assert.Empty(afterLinkerScript.CompiledSources);
        Assert.True(afterLinkerScript.Linked);
        Assert.Matches(SizeLine("Flash", "262,144"), run.Output);
        Assert.Matches(SizeLine("RAM", "65,536"), run.Output);
    }

    [Fact]
    public void SourcesGeneratedDuringTheBuildAreCompiledLikeAnyOther()
    {
        // The hook model compilation uses: a target before MicroTvmPrepareCompile adds MicroTvmCSource items.
        var project = sdk.CreateProject("generated", """
              <Target Name="GenerateTable" BeforeTargets="MicroTvmPrepareCompile">
                <WriteLinesToFile File="$(IntermediateOutputPath)gen/table.c" Lines="int generated_value(void) { return 1234%3B }" Overwrite="true" WriteOnlyWhenDifferent="true" />
                <ItemGroup>
                  <MicroTvmCSource Include="$(IntermediateOutputPath)gen/table.c" />
                  <FileWrites Include="$(IntermediateOutputPath)gen/table.c" />
                </ItemGroup>
              </Target>
            """, Projects.SingleMain("""
            int generated_value(void);
            int main(void)
            {
                printf("generated=%d\n", generated_value());
                return 0;
            }
            """));

        var run = project.Build("-t:Run");
        var again = project.Build();

        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("| generated=1234", run.Output);
        Assert.True(File.Exists(project.PathOf("obj/Debug/c/generated/gen/table.o")));
        Assert.Empty(again.CompiledSources);
    }

    [Fact]
    public void ARealBoardBuildsForItsMemoryMapAndFlashesWithItsRunner()
    {
        var project = sdk.CreateProject("nucleo", "<PropertyGroup><Board>nucleo-f746zg</Board></PropertyGroup>", Projects.ThreeSources());

        var build = project.Build();
        var run = project.Build("-t:Run");
        // The runner is the board's (openocd); pointing at a folder without it shows it is looked up.
        var flash = project.Build("-t:Flash", "-p:FlashRunnerPath=/opt/no-openocd-here");

        Assert.True(build.Succeeded, build.ToString());
        Assert.Matches(SizeLine("Flash", "1,048,576"), build.Output);
        Assert.Matches(SizeLine("RAM", "327,680"), build.Output);
        Assert.Contains("-mfpu=fpv5-sp-d16", File.ReadAllText(project.PathOf("obj/Debug/nucleo.link.rsp")));
        Assert.Equal("MTVM4005", Assert.Single(run.Errors).Code);
        var flashError = Assert.Single(flash.Errors);
        Assert.Equal("MTVM3001", flashError.Code);
        Assert.Contains("openocd", flashError.Text);
    }

    /// <summary>OpenOCD's -c takes a Tcl command: the board's arguments brace the firmware path so a project folder
    /// with spaces reaches openocd as one Tcl word. The runner here records the arguments it receives (no board).</summary>
    [Fact]
    public void FlashArgumentsQuoteTheFirmwarePathForTheRunner()
    {
        var project = sdk.CreateProject("nucleo", "<PropertyGroup><Board>nucleo-f746zg</Board></PropertyGroup>", Projects.ThreeSources(),
            folderName: "board folder with spaces");
        string runner = project.PathOf("recording-openocd.sh");
        File.WriteAllText(runner, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$(dirname \"$0\")/flash-arguments.txt\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(runner, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var flash = project.Build("-t:Flash", $"-p:FlashRunnerPath={runner}");

        Assert.True(flash.Succeeded, flash.ToString());
        string elf = Path.GetFullPath(project.PathOf("bin/Debug/nucleo.elf"));
        Assert.Equal(new[] { "-f", "board/st_nucleo_f7.cfg", "-c", $"program {{{elf}}} verify reset exit" },
            File.ReadAllLines(project.PathOf("flash-arguments.txt")));
    }

    [Fact]
    public void UnknownBoardListsTheKnownOnes()
    {
        var project = sdk.CreateProject("noboard", "<PropertyGroup><Board>no-such-board</Board></PropertyGroup>", Projects.ThreeSources());

        var build = project.Build();

        Assert.False(build.Succeeded);
        var error = Assert.Single(build.Errors);
        Assert.Equal("MTVM0001", error.Code);
        Assert.Contains("mps2-an500", error.Text);
        Assert.Contains("mps3-an547", error.Text);
    }

    /// <summary>
    /// On each emulated board, the timer measures a loop of known length: N iterations of a two-instruction
    /// loop are 2N instructions, and under QEMU -icount shift=0 an instruction is one nanosecond.
    /// </summary>
    [Theory]
    [InlineData("mps2-an500")]
    [InlineData("mps2-an386")]
    [InlineData("mps3-an547")]
    public void EveryEmulatedBoardRunsAndItsTimerCountsInstructions(string board)
    {
        var project = sdk.CreateProject("timer", $"<PropertyGroup><Board>{board}</Board></PropertyGroup>", Projects.SingleMain("""
            static void spin(unsigned iterations)
            {
                __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(iterations) :: "cc");
            }

            int main(void)
            {
                microtvm_timer_start();
                spin(1000000u);
                uint64_t ticks = microtvm_timer_stop();
                printf("ns=%lu\n", (unsigned long)microtvm_timer_ticks_to_ns(ticks));
                return 0;
            }
            """));

        var run = project.Build("-t:Run");

        Assert.True(run.Succeeded, run.ToString());
        var match = NanosecondsLine().Match(run.Output);
        Assert.True(match.Success, run.Output);
        long nanoseconds = long.Parse(match.Groups[1].Value);
        // 2,000,000 loop instructions plus the few around them, within one timer tick (40 ns at 25 MHz).
        Assert.InRange(nanoseconds, 2_000_000 - 100, 2_000_000 + 200);
    }

    private static Regex SizeLine(string region, string total) =>
        new($@"{region}: \d+\.\d% \([\d,]+ of {Regex.Escape(total)} bytes\)");

    [GeneratedRegex(@"\| ns=(\d+)")]
    private static partial Regex NanosecondsLine();
}
