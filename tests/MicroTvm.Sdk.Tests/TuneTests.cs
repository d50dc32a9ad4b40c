using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tuning;
using MicroTvm.Sdk.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MicroTvm.Sdk.Tests;

/// <summary>
/// <c>dotnet build -t:Tune</c> end to end on the emulated Cortex-M7 (docs/tuning.md): kws_dscnn's operators are tuned
/// in one tuning firmware through the RPC server (every candidate's output checked against the reference evaluator on
/// the device), the log has an entry per signature with the default measured too, and a build with the log uses the
/// chosen schedules, gives TensorFlow Lite Micro's outputs on the stored inputs and takes no more instructions than
/// the default build.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")]
public sealed class TuneTests(SdkPackageFixture sdk, ITestOutputHelper log)
{
    [Theory]
    [InlineData("mps2-an500", "cortex-m7")]
    // On the M55 the one-operator timings choose helium-gemm pixels=1 for two CONV_2D signatures (18 % fewer instructions
    // alone) while the whole model takes 8 % more: the tuner's whole-model check must then keep the defaults.
    [InlineData("mps3-an547", "cortex-m55")]
    public void TuningKwsOnAnEmulatedBoardWritesALogThatTheBuildUses(string board, string cpu)
    {
        var firmware = new ModelCheckFirmware(Path.Combine(sdk.RepositoryRoot, "tests", "models"));
        firmware.AddMicroModel("kws_dscnn");
        var project = firmware.CreateProject(sdk, $"<PropertyGroup><Board>{board}</Board></PropertyGroup>");
        var defaults = firmware.RunAndAssertAllMatch(project, log);

        var tune = project.Build("-t:Tune", "-p:MicroTvmTuneRepeats=2");
        log.WriteLine(string.Join("\n", tune.Output.Split('\n').Where(l => l.Contains("trial ") || l.Contains("tuned operators") || l.Contains("tuning ") || l.Contains("whole model"))));
        Assert.True(tune.Succeeded, tune.ToString());
        Assert.Contains("trial 1 of ", tune.Output);
        string logFile = project.PathOf("kws_dscnn.tuning.json");
        var tuned = TuningLog.Load(logFile);
        var tasks = TuningTasks.Of(TfliteImporter.Load(project.PathOf("models/kws_dscnn.tflite")), cpu);
        Assert.Equal(tasks.Select(t => t.Signature).Order(), tuned.Entries.Select(e => e.Signature).Order());
        Assert.All(tuned.Entries, e =>
        {
            Assert.NotNull(e.Measured);
            Assert.Equal("instructions", e.Measured!.Unit);
            Assert.True(e.Measured.Cost > 0 && e.Measured.Cost <= e.Measured.DefaultCost, $"{e.Signature}: {e.Measured.Cost} > {e.Measured.DefaultCost}");
            Assert.True(e.Measured.Candidates >= 2, e.Signature);
        });
        // A log that changes any schedule was timed as a whole model against the defaults, and gained.
        if (tuned.Entries.Any(e => e.Measured!.Cost < e.Measured.DefaultCost))
            Assert.Matches(@"whole model: [\d,]+ instructions with the tuned schedules, [\d,]+ with the defaults \([\d.]+% fewer\)", tune.Output);
        using (var json = JsonDocument.Parse(File.ReadAllText(logFile)))
            Assert.Equal("microtvm-tuning-log", json.RootElement.GetProperty("format").GetString());

        // The build with the log: its schedules in the model's .json, TFLM's outputs, no more instructions.
        project.WriteFile("models.csproj", File.ReadAllText(project.ProjectFile).Replace("<ItemGroup>", "<PropertyGroup><MicroTvmTuningLog>kws_dscnn.tuning.json</MicroTvmTuningLog></PropertyGroup>\n  <ItemGroup>"));
        var after = firmware.RunAndAssertAllMatch(project, log);
        string metadata = File.ReadAllText(Directory.GetFiles(project.PathOf("obj"), "kws_dscnn.json", SearchOption.AllDirectories).Single());
        Assert.All(tuned.Entries.Where(e => e.Measured!.Cost < e.Measured.DefaultCost), e => Assert.Contains($"\"{e.Schedule}\"", metadata));
        log.WriteLine($"kws_dscnn on {board}: default {string.Join(", ", defaults)} instructions, tuned {string.Join(", ", after)}");
        Assert.All(after.Zip(defaults), p => Assert.True(p.First <= p.Second, $"tuned {p.First} > default {p.Second}"));
    }

    /// <summary>mps2-an500 (Cortex-M7) described in the project's boards/<paramref name="name"/> with <paramref name="flash"/>
    /// of flash (the emulated variant of a 256 KB part: QEMU's AN500 has 4 MB, the linker script says less).</summary>
    private TestProject BoardWithFlash(TestProject project, string name, string flash, Func<string, string>? props = null)
    {
        string catalog = Path.Combine(sdk.RepositoryRoot, "templates", "firmware", "boards", "mps2-an500");
        Directory.CreateDirectory(project.PathOf($"boards/{name}"));
        string text = File.ReadAllText(Path.Combine(catalog, "board.props"))
            .Replace("$(MSBuildThisFileDirectory)../common", "$(MicroTvmBoardsDirectory)common", StringComparison.Ordinal)
            .Replace("mps2-an500.ld", "board.ld", StringComparison.Ordinal);
        project.WriteFile($"boards/{name}/board.props", props?.Invoke(text) ?? text);
        project.WriteFile($"boards/{name}/board.ld", Regex.Replace(File.ReadAllText(Path.Combine(catalog, "mps2-an500.ld")), @"(FLASH \(rx\)\s*:[^\n]*LENGTH = )\S+", "${1}" + flash));
        return project;
    }

    /// <summary>
    /// Issue 11's flash case on QEMU: ic_resnet8 tuned by -t:Tune on an AN500 described with 256 KiB of flash (the
    /// budget comes from the board: the tuner links the chosen set for it) and with 160 KiB (where the widened filters
    /// do not fit: the tuner must choose compact layouts until its firmware links). On 256 KiB the build with the log
    /// links for the board, equals TFLM on the stored inputs and takes no more instructions than the untuned build (auto).
    /// </summary>
    [Theory]
    [InlineData("256K")]
    [InlineData("160K")]
    public void TuningIcResnet8OnASmallFlashBoardGivesASetThatFitsAndEqualsTflm(string flash)
    {
        var firmware = new ModelCheckFirmware(Path.Combine(sdk.RepositoryRoot, "tests", "models"));
        firmware.AddMicroModel("ic_resnet8");
        var project = BoardWithFlash(firmware.CreateProject(sdk, "<PropertyGroup><MicroTvmBoardDirectory>boards/an500-flash</MicroTvmBoardDirectory></PropertyGroup>", "tune-" + flash),
            "an500-flash", flash);
        var untuned = firmware.RunAndAssertAllMatch(project, log);
        string untunedJson = File.ReadAllText(project.PathOf("obj/Debug/models/ic_resnet8.json"));
        string untunedLayout = Regex.Match(untunedJson, "\"weightLayout\": \"(\\w+)\"").Groups[1].Value;

        // Tuning ic_resnet8 where it hardly fits splits its 58 candidates into several firmware images: minutes on a loaded machine.
        var tune = project.Run("build", ["-t:Tune", "-p:MicroTvmTuneRepeats=1"], null, TimeSpan.FromMinutes(20));
        log.WriteLine(string.Join("\n", tune.Output.Split('\n').Where(l => l.Contains("whole model") || l.Contains("tuned operators") || l.Contains("budget") || l.Contains("overflows") || l.Contains("reserved"))));
        Assert.True(tune.Succeeded, tune.ToString());
        // The application (test vectors, printf) takes more flash than the tuner's RPC server: -t:Tune linked the project
        // and reserved its image less the model's weights (checked against arm-none-eabi-size and the compiler's figure).
        var size = DotNet.RunProgram("arm-none-eabi-size", project.Directory, [Directory.GetFiles(project.PathOf("bin"), "*.elf", SearchOption.AllDirectories).Single()], TimeSpan.FromMinutes(1));
        var berkeley = size.Output.Split('\n')[1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(2).Select(long.Parse).ToArray();
        long weights = long.Parse(Regex.Match(File.ReadAllText(project.PathOf("obj/Debug/models/ic_resnet8.json")), "\"weightsBytes\": (\\d+)").Groups[1].Value);
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, "the project's firmware takes {0:N0} B of flash, {1:N0} B of it this model's weights: {2:N0} B reserved for the rest of the application",
            berkeley[0] + berkeley[1], weights, berkeley[0] + berkeley[1] - weights), tune.Output);
        // The chosen set's whole model was linked for this board and ran bit-exact there.
        Assert.Matches(@"whole model with the chosen schedules: fits \S+'s flash \([\d,]+ B in the tuning firmware\), [\d,]+ instructions, outputs equal the evaluator's", tune.Output);
        var tuned = TuningLog.Load(project.PathOf("ic_resnet8.tuning.json"));
        Assert.NotEmpty(tuned.Entries);
        if (flash == "160K")
        {
            // The defaults do not fit beside the application; not every filter can stay widened, nor must every one be compact.
            Assert.Equal("int8", untunedLayout);
            Assert.Matches(@"[\d,]+ B of \S+'s 163,840 B of flash reserved for the application: at most [\d,]+ B of weights", tune.Output);
            Assert.Contains(tuned.Entries, e => e.Schedule.ToString().Contains("layout=int8", StringComparison.Ordinal));
            Assert.Contains(tuned.Entries, e => e.Schedule.ToString().Contains("layout=int16", StringComparison.Ordinal));
        }
        else Assert.Equal("int16", untunedLayout);

        project.WriteFile("models.csproj", File.ReadAllText(project.ProjectFile).Replace("<ItemGroup>", "<PropertyGroup><MicroTvmTuningLog>ic_resnet8.tuning.json</MicroTvmTuningLog></PropertyGroup>\n  <ItemGroup>"));
        var after = firmware.RunAndAssertAllMatch(project, log);
        log.WriteLine($"ic_resnet8 on an AN500 with {flash} of flash: untuned (auto: {untunedLayout}) {string.Join(", ", untuned)} instructions, tuned {string.Join(", ", after)}; " +
                      string.Join("; ", tuned.Entries.Select(e => $"{e.Schedule} {e.Measured!.WeightBytes} B")));
        Assert.All(after.Zip(untuned), p => Assert.True(p.First <= p.Second, $"tuned {p.First} > untuned {p.Second}"));
    }

    /// <summary>
    /// A board reached only through a serial port, as a real one: mps2-an500's description without its emulator, whose
    /// flash runner (a script of the test) programs the "board" by starting QEMU with the firmware and its RPC UART on a
    /// pseudo-terminal, linked at boards/serial/port. <paramref name="flashScript"/> is the runner's body after that setup.
    /// </summary>
    private TestProject SerialBoard(TestProject project, string flashScript)
    {
        string catalogProps = File.ReadAllText(Path.Combine(sdk.RepositoryRoot, "templates", "firmware", "boards", "mps2-an500", "board.props"));
        string qemuArguments = Regex.Match(catalogProps, @"<MicroTvmEmulatorArguments[^>]*>([^<]+)<").Groups[1].Value.Replace("-serial stdio", "-serial null", StringComparison.Ordinal);
        string dir = project.PathOf("boards/serial");
        BoardWithFlash(project, "serial", "4M", props => string.Join("\n", props.Split('\n').Where(l => !l.Contains("<MicroTvmEmulator", StringComparison.Ordinal)))
            .Replace(">emulator</MicroTvmBoardFlashRunner>", ">qemu-pty</MicroTvmBoardFlashRunner>", StringComparison.Ordinal)
            .Replace("</PropertyGroup>", $"  <FlashRunnerPath>{dir}/flash.sh</FlashRunnerPath>\n  </PropertyGroup>", StringComparison.Ordinal)
            .Replace("</ItemGroup>", "  <MicroTvmBoardRunner Include=\"qemu-pty\" Arguments=\"{elf}\" />\n  </ItemGroup>", StringComparison.Ordinal));
        project.WriteFile("boards/serial/flash.sh", $$"""
            #!/bin/sh
            # Programs the board: the previous firmware's QEMU stops, a new one starts with the firmware.
            dir='{{dir}}'
            [ -f "$dir/qemu.pid" ] && kill "$(cat "$dir/qemu.pid")" 2>/dev/null
            rm -f "$dir/port" "$dir/qemu.log" "$dir/qemu.pid"
            {{flashScript.Replace("{qemu}", $"qemu-system-arm {qemuArguments} -serial pty -kernel \"$1\"", StringComparison.Ordinal)}}

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(project.PathOf("boards/serial/flash.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return project;
    }

    /// <summary>QEMU with the RPC UART on a pseudo-terminal: its name, from QEMU's "char device redirected to /dev/pts/N", linked at $dir/port.</summary>
    private const string QemuOnPty = """
        {qemu} > "$dir/qemu.log" 2>&1 < /dev/null &
        echo $! > "$dir/qemu.pid"
        for i in $(seq 1 300); do
          pts=$(grep -o '/dev/pts/[0-9]*' "$dir/qemu.log" | head -n 1)
          if [ -n "$pts" ]; then ln -s "$pts" "$dir/port"; exit 0; fi
          sleep 0.1
        done
        exit 1
        """;

    private void StopBoard(TestProject project)
    {
        string pid = project.PathOf("boards/serial/qemu.pid");
        if (!File.Exists(pid)) return;
        try
        {
            using var process = Process.GetProcessById(int.Parse(File.ReadAllText(pid).Trim(), System.Globalization.CultureInfo.InvariantCulture));
            process.Kill();
            process.WaitForExit(5000);
        }
        catch (ArgumentException)
        {
            // already gone
        }
    }

    /// <summary>
    /// -t:Tune with MicroTvmTunePort (microtvm tune --port) on a board reached through a serial port: each tuning
    /// firmware is programmed by the board's flash runner and timed over the pseudo-terminal (every candidate's output
    /// checked against the reference evaluator on the device). Then a "board" whose port never answers (a socat pseudo-terminal pair with nothing on
    /// the other end): the tuner fails with MTVM4101 within its timeout instead of hanging.
    /// </summary>
    [Fact]
    public void TuningThroughASerialPortDrivesTheBoardAndADeadPortIsACodedError()
    {
        var firmware = new ModelCheckFirmware(Path.Combine(sdk.RepositoryRoot, "tests", "models"));
        firmware.AddMicroModel("hello_world_int8");
        var project = SerialBoard(firmware.CreateProject(sdk, "<PropertyGroup><MicroTvmBoardDirectory>boards/serial</MicroTvmBoardDirectory></PropertyGroup>", "tune-port"), QemuOnPty);
        string port = project.PathOf("boards/serial/port");
        try
        {
            var tune = project.Build("-t:Tune", "-p:MicroTvmTuneRepeats=1", $"-p:MicroTvmTunePort={port}", "-p:MicroTvmTuneTimeout=10");
            log.WriteLine(string.Join("\n", tune.Output.Split('\n').Where(l => l.Contains("trial ") || l.Contains("tuned operators") || l.Contains("flashed") || l.Contains("whole model"))));
            Assert.True(tune.Succeeded, tune.ToString());
            Assert.Contains($"with its flash runner; timing through {port}", tune.Output);
            Assert.Matches(@"trial \d+ of \d+: signature 0 FULLY_CONNECTED", tune.Output);
            var tuned = TuningLog.Load(project.PathOf("hello_world_int8.tuning.json"));
            Assert.NotEmpty(tuned.Entries);
        }
        finally
        {
            StopBoard(project);
        }

        // The flash runner now leaves a port that nobody answers.
        SerialBoard(project, """
            socat pty,raw,echo=0,link="$dir/port" pty,raw,echo=0,link="$dir/dead" > "$dir/qemu.log" 2>&1 < /dev/null &
            echo $! > "$dir/qemu.pid"
            for i in $(seq 1 100); do [ -e "$dir/port" ] && exit 0; sleep 0.1; done
            exit 1
            """);
        try
        {
            var watch = Stopwatch.StartNew();
            var dead = project.Build("-t:Tune", "-p:MicroTvmTuneRepeats=1", $"-p:MicroTvmTunePort={port}", "-p:MicroTvmTuneTimeout=2");
            log.WriteLine($"dead port: {watch.Elapsed.TotalSeconds:0} s\n{dead}");
            Assert.False(dead.Succeeded);
            Assert.Contains(dead.Errors, e => e.Code == "MTVM4101");
        }
        finally
        {
            StopBoard(project);
        }
    }
}
