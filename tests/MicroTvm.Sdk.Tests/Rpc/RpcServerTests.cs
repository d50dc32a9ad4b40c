using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Device;
using MicroTvm.Sdk.Tests.Infrastructure;

namespace MicroTvm.Sdk.Tests.Rpc;

/// <summary>
/// The RPC server in real firmware (MicroTvmRpcServer=true, built through the packed SDK) on QEMU, driven over real
/// frames by the host client: every call on the M7, M4 and M55 boards, garbage in the middle of a frame, a killed
/// emulator, a board without transport, the serial-port transport through a pseudo-terminal.
/// </summary>
[Collection(SdkCollection.Name)]
[Trait("Speed", "Slow")] // dotnet pack and build, gcc, QEMU: not in eng/test.sh --fast
public sealed class RpcServerTests(SdkPackageFixture sdk)
{
    private string ModelDirectory => Path.Combine(sdk.RepositoryRoot, "tests", "models", "kws_dscnn");

    /// <summary>A user's firmware with the server linked in: kws_dscnn as a MicroModel, main() serves.</summary>
    private (string Elf, ModelMetadata Metadata, TestProject Project) BuildServer(string board, bool profile, string extraProperties = "")
    {
        var project = sdk.CreateProject("rpcfw", $"""
              <PropertyGroup>
                <Board>{board}</Board>
                <MicroTvmRpcServer>true</MicroTvmRpcServer>
                <MicroTvmRpcProfile>{(profile ? "true" : "false")}</MicroTvmRpcProfile>
                {extraProperties}
              </PropertyGroup>
              <ItemGroup>
                <MicroModel Include="kws.tflite" />
              </ItemGroup>
            """, new Dictionary<string, string>
            {
                ["main.c"] = "#include \"microtvm/rpc.h\"\n\nint main(void)\n{\n    microtvm_rpc_serve();\n}\n",
            }, folderName: "rpc-" + board);
        File.Copy(Path.Combine(ModelDirectory, "model.tflite"), project.PathOf("kws.tflite"));
        var build = project.Build("-c", "Release");
        Assert.True(build.Succeeded, build.ToString());
        string elf = Directory.GetFiles(project.PathOf("bin"), "*.elf", SearchOption.AllDirectories).Single();
        var metadata = ModelMetadata.FromJson(File.ReadAllText(Directory.GetFiles(project.PathOf("obj"), "kws.json", SearchOption.AllDirectories).Single()));
        return (elf, metadata, project);
    }

    private static string BoardProps(string board) => File.ReadAllText(Path.Combine(FindRoot(), "templates", "firmware", "boards", board, "board.props"));

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MicroTvm.slnx"))) return d.FullName;
        throw new InvalidOperationException();
    }

    private static string Property(string props, string name) => Regex.Match(props, $"<{name}[^>]*>([^<]*)</{name}>").Groups[1].Value;

    private static EmulatorSession Start(string board, string elf, double timeoutSeconds = 10)
    {
        string props = BoardProps(board);
        return EmulatorSession.Start("qemu-system-arm", Property(props, "MicroTvmEmulatorArguments"), Property(props, "MicroTvmBoardRpcEmulatorArguments"),
            elf, TimeSpan.FromSeconds(timeoutSeconds));
    }

    [Theory]
    [InlineData("mps2-an500", "cortex-m7")]
    [InlineData("mps2-an386", "cortex-m4")]
    [InlineData("mps3-an547", "cortex-m55")]
    [InlineData("mps2-an505", "cortex-m33")]
    [InlineData("mps2-an385", "cortex-m3")]
    public void EveryCallOnTheEmulatedBoard(string board, string cpu)
    {
        var (elf, metadata, _) = BuildServer(board, profile: true);
        using var session = Start(board, elf);
        var client = session.Client;

        var info = client.Hello();
        Assert.Equal((1, board, cpu, 1024, 1), (info.ProtocolVersion, info.Board, info.Cpu, info.MaxPayload, info.ModelCount));
        Assert.Equal(board switch { "mps3-an547" => 32_000_000u, "mps2-an505" => 20_000_000u, _ => 25_000_000u }, info.TimerHz);
        Assert.Equal(info.TimerHz, info.CpuClockHz);
        Assert.Equal(16, info.BuildId.Length);

        var echo = new byte[1000];
        new Random(5).NextBytes(echo);
        Assert.Equal(echo, client.Echo(echo));

        var model = client.DescribeModel(0);
        Assert.Equal(("kws", (int)metadata.WorkspaceBytes, metadata.Operators.Count), (model.Name, model.WorkspaceBytes, model.OperatorCount));
        var input = Assert.Single(model.Inputs);
        Assert.Equal(metadata.Inputs[0].Shape, input.Shape);
        Assert.Equal((1, (int)metadata.Inputs[0].Bytes, (int)metadata.Inputs[0].ZeroPoint!.Value), (input.Type, input.Bytes, input.ZeroPoint));
        Assert.Equal((float)metadata.Inputs[0].Scale!.Value, input.Scale);
        Assert.Equal(metadata.Outputs[0].Shape, Assert.Single(model.Outputs).Shape);

        for (int k = 0; k < 3; k++)
        {
            client.WriteInput(0, 0, File.ReadAllBytes(Path.Combine(ModelDirectory, $"input{k}.bin")));
            var runs = client.Run(0, 2);
            Assert.All(runs, r => Assert.Equal(0, r.Status));
            // -icount: deterministic up to the timer's resolution (one tick is 31-40 instructions).
            Assert.InRange((long)runs[1].Ticks - (long)runs[0].Ticks, -1, 1);
            Assert.InRange(runs[0].Ticks * 1e9 / info.TimerHz, 200_000, 20_000_000); // instructions: KWS is 0.48 (M55) to 5 million
            // TFLite Micro's outputs for the stored inputs, bit for bit.
            Assert.Equal(File.ReadAllBytes(Path.Combine(ModelDirectory, $"output{k}.bin")), client.ReadOutput(0, 0, model.Outputs[0].Bytes));
            // TIME_MODEL (the tuner's call): 5 runs in one answer, the same time as RUN's.
            var timing = client.TimeModel(0, 5);
            Assert.Equal(5, timing.Runs);
            Assert.InRange((long)timing.Min - (long)runs[0].Ticks, -1, 1);
            Assert.InRange((long)timing.Max - (long)timing.Min, 0, 1);
            Assert.InRange((long)timing.Total - 5 * (long)timing.Min, 0, 5);

            var ops = client.OperatorTimes();
            Assert.Equal(metadata.Operators.Count, ops.Count);
            Assert.InRange(ops.Sum(t => (double)t), 0.9 * runs[0].Ticks, runs[0].Ticks);
            // The convolutions (most MACs) take the most time.
            int slowest = ops.ToList().IndexOf(ops.Max());
            Assert.Contains(metadata.Operators[slowest].Kind, new[] { "CONV_2D", "DEPTHWISE_CONV_2D" });
        }

        var memory = client.Memory();
        Assert.Equal((uint)metadata.WorkspaceBytes, memory.WorkspaceBytes);
        Assert.InRange(memory.StackHighWater, 64u, 8192u);
        Assert.Equal(32768u, memory.StackSize);
        Assert.InRange(memory.BssBytes, (uint)metadata.WorkspaceBytes + memory.ServerBufferBytes, 64_000u);
        Assert.Equal(2u * (7 + 1024 + 4), memory.ServerBufferBytes);

        // A bad argument is an answer with a status, not a hang: a write past the input's end.
        var e = Assert.Throws<CompilerException>(() => client.Call(0x03, new byte[] { 0, 0, 0xE8, 0x01, 0, 0, 1, 2, 3 }));
        Assert.Equal(DeviceErrors.CallFailed, e.Code);
        Assert.Contains("bad argument", e.Message);
        Assert.Equal(DeviceErrors.CallFailed, Assert.Throws<CompilerException>(() => client.Call(0x42, ReadOnlySpan<byte>.Empty)).Code);
        // The emulated boards declare no DWT cycle counter.
        Assert.Equal(DeviceErrors.NoCycleCounter, Assert.Throws<CompilerException>(() => client.TimeModel(0, 1, cycles: true)).Code);
        Assert.Equal(0, client.Resends);
    }

    [Fact]
    public void GarbageInTheMiddleOfAFrameIsSurvived()
    {
        var (elf, _, _) = BuildServer("mps2-an500", profile: false);
        using var session = Start("mps2-an500", elf, timeoutSeconds: 2);
        var client = session.Client;
        client.Hello();
        var random = new Random(11);
        for (int round = 0; round < 20; round++)
        {
            // Half of a frame, then garbage (with sync bytes and a header that passes its check), then the real calls.
            var frame = RpcFrame.Encode((ushort)random.Next(), new byte[] { 0x01, 1, 2, 3, 4, 5, 6, 7, 8 });
            client.WriteRaw(frame.AsSpan(0, random.Next(1, frame.Length - 1)));
            var garbage = new byte[random.Next(0, 300)];
            random.NextBytes(garbage);
            for (int i = 0; i < garbage.Length; i += 7) garbage[i] = RpcFrame.Sync0;
            client.WriteRaw(garbage);
            var data = new byte[random.Next(0, 1000)];
            random.NextBytes(data);
            Assert.Equal(data, client.Echo(data));
        }

        Assert.Equal(1, client.Hello().ProtocolVersion);
    }

    [Fact]
    public void AKilledEmulatorIsAClearErrorWithinTheTimeout()
    {
        var (elf, _, _) = BuildServer("mps2-an500", profile: false);
        using var session = Start("mps2-an500", elf, timeoutSeconds: 3);
        session.Client.Hello();
        using (var qemu = Process.GetProcessById(session.ProcessId))
        {
            qemu.Kill();
            qemu.WaitForExit();
        }

        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<CompilerException>(() => session.Client.Echo(new byte[] { 1, 2, 3 }));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3 * 4 + 2), watch.Elapsed.ToString());
        Assert.Equal(DeviceErrors.EmulatorFailed, e.Code);
        Assert.Contains("the emulator exited", e.Message);
    }

    [Fact]
    public void ABoardWithoutTransportIsACodedError()
    {
        // A board of the user's own, made from mps2-an500's description without its RPC lines.
        string props = BoardProps("mps2-an500");
        props = string.Join("\n", props.Split('\n').Where(l => !l.Contains("Rpc", StringComparison.Ordinal)))
            .Replace("$(MSBuildThisFileDirectory)../common", "$(MicroTvmBoardsDirectory)common")
            .Replace("$(MSBuildThisFileDirectory)mps2-an500.ld", "$(MicroTvmBoardsDirectory)mps2-an500/mps2-an500.ld");
        var project = sdk.CreateProject("notransport", """
              <PropertyGroup>
                <Board>my-board</Board>
                <MicroTvmBoardDirectory>$(MSBuildProjectDirectory)/board</MicroTvmBoardDirectory>
                <MicroTvmRpcServer>true</MicroTvmRpcServer>
              </PropertyGroup>
            """, new Dictionary<string, string>
            {
                ["main.c"] = "#include \"microtvm/rpc.h\"\n\nint main(void)\n{\n    microtvm_rpc_serve();\n}\n",
                ["board/board.props"] = props,
            });
        var build = project.Build();
        Assert.False(build.Succeeded, build.ToString());
        var error = Assert.Single(build.Errors, e => e.Code == "MTVM4100");
        Assert.Contains("provides no RPC byte transport", error.Text);
    }

    [Fact]
    public async Task TheSerialPortTransportWorksThroughAPseudoTerminal()
    {
        var (elf, _, _) = BuildServer("mps2-an500", profile: false);
        // QEMU opens a pseudo-terminal pair for the RPC UART and names its end; System.IO.Ports opens ours.
        string props = BoardProps("mps2-an500");
        var start = new ProcessStartInfo("qemu-system-arm") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in CommandLine.Split(Property(props, "MicroTvmEmulatorArguments") + " -serial pty -kernel " + elf)) start.ArgumentList.Add(a);
        using var qemu = new Process { StartInfo = start };
        var found = new TaskCompletionSource<string>();
        var lines = new List<string>();
        DataReceivedEventHandler watch = (_, e) =>
        {
            if (e.Data == null) return;
            lock (lines) lines.Add(e.Data);
            if (Regex.Match(e.Data, @"(/dev/pts/\d+)") is { Success: true } m) found.TrySetResult(m.Groups[1].Value);
        };
        qemu.OutputDataReceived += watch;
        qemu.ErrorDataReceived += watch;
        qemu.Start();
        qemu.BeginOutputReadLine();
        qemu.BeginErrorReadLine();
        try
        {
            var first = await Task.WhenAny(found.Task, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(first == found.Task, string.Join("\n", lines));
            string pty = await found.Task;
            using var client = new DeviceClient(new SerialTransport(pty!), pty!) { Timeout = TimeSpan.FromSeconds(5) };
            Assert.Equal("mps2-an500", client.Hello().Board);
            var data = new byte[1000];
            new Random(3).NextBytes(data);
            Assert.Equal(data, client.Echo(data));
            client.WriteInput(0, 0, File.ReadAllBytes(Path.Combine(ModelDirectory, "input1.bin")));
            Assert.Equal(0, client.Run(0, 1).Single().Status);
            Assert.Equal(File.ReadAllBytes(Path.Combine(ModelDirectory, "output1.bin")), client.ReadOutput(0, 0, 12));
        }
        finally
        {
            if (!qemu.HasExited) qemu.Kill();
            qemu.WaitForExit();
        }
    }
}
