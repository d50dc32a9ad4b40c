using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Device;

namespace MicroTvm.Cli.Commands;

public sealed record BoardRunOptions(string Model, string Board, string? Name, IReadOnlyList<string> Inputs, string? OutputDirectory,
    bool Profile, int Repeat, bool Json, string? JsonFile, string? Sdk, string? Cache, string? Port, int Seed, double TimeoutSeconds, bool IoInWorkspace,
    string? Project = null);

/// <summary>
/// <c>microtvm run model.tflite --board B</c>: builds (or reuses) an RPC server firmware for the model, starts the
/// board's emulator (or flashes the board and opens --port), writes the inputs, runs, reads the outputs, checks them
/// against the reference evaluator and reports time per inference, per operator and memory.
/// </summary>
public static class BoardRun
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(CliConsole console, BoardRunOptions o)
    {
        var log = o.Json ? console.Error : console.Output;
        // A custom operator is refused by the evaluator (MTVM1091) before any firmware is built: its outputs cannot be checked.
        var graph = TfliteImporter.Load(o.Model, CustomOperators.WithoutImplementation);
        string name = o.Name ?? "model";
        var inputs = Inputs(graph, o);
        var expected = ReferenceEvaluator.Run(graph, inputs);

        string sdk = o.Sdk ?? Environment.GetEnvironmentVariable("MICROTVM_SDK")
            ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));
        string cache = o.Cache ?? Environment.GetEnvironmentVariable("MICROTVM_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "microtvm", "run");
        var wall = Stopwatch.StartNew();
        var launch = ServerFirmware.Ensure(o.Model, o.Board, name, o.Profile, o.IoInWorkspace, sdk, cache, log);
        var metadata = ModelMetadata.FromJson(File.ReadAllText(launch.Metadata));
        double buildSeconds = wall.Elapsed.TotalSeconds;

        EmulatorSession? session = null;
        DeviceClient client;
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        if (string.IsNullOrEmpty(launch.Transport))
            throw new CompilerException(DeviceErrors.NoTransport, $"board '{o.Board}' provides no RPC byte transport (MicroTvmBoardRpcTransport)") { File = o.Model };
        if (o.Port != null)
        {
            if (string.IsNullOrEmpty(launch.Emulator)) ServerFirmware.Flash(launch);
            client = new DeviceClient(OpenSerial(o.Port), o.Port) { Timeout = timeout };
        }
        else if (!string.IsNullOrEmpty(launch.Emulator))
        {
            session = EmulatorSession.Start(launch.Emulator, launch.EmulatorArguments, launch.RpcEmulatorArguments, launch.Elf, timeout);
            client = session.Client;
        }
        else
        {
            throw new CompilerException(DeviceErrors.NoTransport, $"board '{o.Board}' is real hardware: give its serial port with --port (e.g. /dev/ttyACM0)") { File = o.Model };
        }

        try
        {
            var info = client.Hello();
            var device = client.DescribeModel(0);
            if (device.Name != metadata.Name || device.Inputs.Count != graph.Inputs.Count || device.Outputs.Count != graph.Outputs.Count
                || device.Inputs.Select((t, i) => t.Bytes != inputs[i].Length).Any(x => x))
                throw new CompilerException(DeviceErrors.Handshake, $"the device serves model '{device.Name}' with {device.Inputs.Count} inputs and {device.Outputs.Count} outputs, not this model") { File = o.Model };

            for (int i = 0; i < inputs.Count; i++) client.WriteInput(0, i, inputs[i]);
            var runs = client.Run(0, Math.Max(1, o.Repeat));
            var outputs = device.Outputs.Select((t, k) => client.ReadOutput(0, k, t.Bytes)).ToList();
            var ticks = o.Profile ? client.OperatorTimes() : Array.Empty<uint>();
            var memory = client.Memory();
            double runSeconds = wall.Elapsed.TotalSeconds - buildSeconds;

            var checks = graph.Outputs.Select((t, k) => Compare(t, expected[t], outputs[k], k)).ToList();
            var flash = ElfSizes.Read(launch.Elf);
            var report = new Report(o.Board, info, metadata, runs, ticks, memory, flash, checks, buildSeconds, runSeconds, client.Resends);
            if (o.OutputDirectory != null)
                RunCommand.Write(o.OutputDirectory, outputs.Select((b, k) => ($"output{k}.bin", b)).Append(("result.json", report.ToJson())));
            if (o.JsonFile != null) RunCommand.Write(Path.GetDirectoryName(Path.GetFullPath(o.JsonFile))!, new[] { (Path.GetFileName(o.JsonFile), report.ToJson()) });
            if (o.Json) console.Output.Write(System.Text.Encoding.UTF8.GetString(report.ToJson()));
            else report.Print(console.Output);
            if (o.Project != null)
                // A build's terminal logger shows, at normal verbosity, only the text after " -> " of a "<project> -> <output>" line.
                console.Output.WriteLine($"{o.Project} -> {(o.JsonFile != null ? Path.GetFullPath(o.JsonFile) : Path.GetFullPath(o.Model))} ({report.Summary()})");

            var bad = checks.FirstOrDefault(c => !c.Equal);
            if (bad != null)
                throw new CompilerException(DeviceErrors.OutputMismatch, bad.Message) { File = o.Model };
            return 0;
        }
        finally
        {
            if (session != null) session.Dispose();
            else client.Dispose();
        }
    }

    internal static IByteTransport OpenSerial(string port)
    {
        try
        {
            return new SerialTransport(port);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new CompilerException(DeviceErrors.SerialPort, $"cannot open the serial port: {e.Message}") { File = port };
        }
    }

    private static List<byte[]> Inputs(Graph graph, BoardRunOptions o)
    {
        if (o.Inputs.Count == 0)
        {
            // Seeded random inputs: any byte pattern for integers, values in [-1, 1) for floats.
            var random = new Random(o.Seed);
            return graph.Inputs.Select(t =>
            {
                var bytes = new byte[t.ByteSize];
                if (t.Type == ElementType.Float32)
                    for (int i = 0; i < bytes.Length / 4; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), (float)(random.NextDouble() * 2 - 1));
                else random.NextBytes(bytes);
                return bytes;
            }).ToList();
        }

        return RunCommand.Inputs(graph, o.Inputs, DeviceErrors.InputSize, o.Model).ToList();
    }

    public sealed record Check(int Output, string Type, bool Equal, double MaxDifference, string Message)
    {
        /// <summary>How device and evaluator are compared: the same for every type (see <see cref="Compare"/>).</summary>
        public const string Rule = "bit-exact";
    }

    /// <summary>Every type bit-exact: the generated C computes floats as the evaluator does (same order, the same exp,
    /// no fused multiply-add in model sources), so any difference is a bug; the largest difference is reported. Only
    /// NaNs compare by kind, not by bits.</summary>
    private static Check Compare(Tensor tensor, byte[] reference, byte[] device, int k)
    {
        int size = Math.Max(1, reference.Length / (int)Math.Max(1, tensor.ElementCount));
        double max = 0;
        int firstDifference = -1;
        for (int i = 0; i * size < reference.Length; i++)
        {
            if (reference.AsSpan(i * size, size).SequenceEqual(device.AsSpan(i * size, size))) continue;
            // A NaN's sign and payload are the machine's (x86's default NaN is negative, Arm's positive): NaN = NaN.
            if (tensor.Type == ElementType.Float32 && double.IsNaN(Value(tensor.Type, reference, i)) && double.IsNaN(Value(tensor.Type, device, i))) continue;
            double diff = Math.Abs(Value(tensor.Type, reference, i) - Value(tensor.Type, device, i));
            max = Math.Max(max, double.IsNaN(diff) ? double.PositiveInfinity : diff);
            if (firstDifference < 0) firstDifference = i;
        }

        if (firstDifference < 0) return new Check(k, tensor.Type.DisplayName(), true, 0, "equal");
        return new Check(k, tensor.Type.DisplayName(), false, max,
            $"output {k} differs from the reference evaluator at element {firstDifference} (of {tensor.ElementCount}; shape {tensor.ShapeText}): " +
            $"device {Format(Value(tensor.Type, device, firstDifference))}, reference {Format(Value(tensor.Type, reference, firstDifference))}");
    }

    private static string Format(double v) => v.ToString("G9", Inv);

    private static double Value(ElementType type, byte[] b, int i) => type switch
    {
        ElementType.Float32 => BitConverter.ToSingle(b, 4 * i),
        ElementType.Int8 => (sbyte)b[i],
        ElementType.UInt8 or ElementType.Bool => b[i],
        ElementType.Int16 => BitConverter.ToInt16(b, 2 * i),
        ElementType.Int32 => BitConverter.ToInt32(b, 4 * i),
        _ => BitConverter.ToInt64(b, 8 * i),
    };

    private sealed record Report(string Board, DeviceInfo Info, ModelMetadata Model, IReadOnlyList<DeviceRun> Runs, IReadOnlyList<uint> OperatorTicks,
        DeviceMemory Memory, ElfSizes Elf, IReadOnlyList<Check> Checks, double BuildSeconds, double DeviceSeconds, int Resends)
    {
        private bool Emulated => Board.StartsWith("mps", StringComparison.Ordinal) && Info.TimerHz > 0;

        /// <summary>Instructions on QEMU (-icount shift=0: one per virtual nanosecond), else timer ticks (CPU cycles with SysTick).</summary>
        private double Cost(ulong ticks) => ticks * 1e9 / Info.TimerHz;

        private string Unit => "instructions (QEMU -icount: 1 per virtual ns)";

        private IEnumerable<(OperatorMetadata Op, double Cost, double Share)> Operators()
        {
            double total = OperatorTicks.Sum(t => (double)t);
            return Model.Operators.Select((op, i) => (op, i < OperatorTicks.Count ? Cost(OperatorTicks[i]) : double.NaN,
                i < OperatorTicks.Count && total > 0 ? OperatorTicks[i] / total : double.NaN));
        }

        private string Shapes(OperatorMetadata op)
        {
            string Shape(int id) => Model.MemoryPlan.FirstOrDefault(t => t.Tensor == id) is { } t ? "[" + string.Join(",", t.Shape) + "]" : "";
            var inputs = op.Inputs.Select(Shape).Where(s => s.Length > 0);
            return string.Join(" ", inputs) + " -> " + string.Join(" ", op.Outputs.Select(Shape));
        }

        public void Print(TextWriter w)
        {
            string N(double v) => v.ToString("N0", Inv);
            var costs = Runs.Select(r => Cost(r.Ticks)).ToList();
            w.WriteLine($"device      {Info.Board} ({Info.Cpu}, {N(Info.CpuClockHz)} Hz), firmware {Info.BuildId}, protocol {Info.ProtocolVersion}");
            foreach (var c in Checks)
                w.WriteLine($"output {c.Output}    {(c.Equal ? "equal to the reference evaluator" : "DIFFERS from the reference evaluator")} ({Check.Rule}{(c.Equal ? "" : $", max diff {c.MaxDifference:G3}")})");
            w.WriteLine(Emulated
                ? $"inference   {N(costs.Min())} instructions{(costs.Count > 1 ? $" (min of {costs.Count}; max {N(costs.Max())})" : "")}"
                : $"inference   {N(Runs.Min(r => (double)r.Ticks))} cycles, {Runs.Min(r => (double)r.Ticks) * 1e6 / Info.TimerHz:0.0} us at {N(Info.TimerHz)} Hz");
            if (OperatorTicks.Count > 0)
            {
                var rows = Operators().Select(x => new[]
                {
                    x.Op.Index.ToString(Inv), x.Op.Kind, Shapes(x.Op), N(x.Op.Macs ?? 0), N(x.Cost), (x.Share * 100).ToString("0.0", Inv) + "%",
                    x.Op.Macs is > 0 && x.Cost > 0 ? (x.Op.Macs.Value / x.Cost).ToString("0.00", Inv) : "",
                }).ToList();
                w.WriteLine();
                w.WriteLine(Emulated ? "per operator (profiling build: instructions between operator ends)" : "per operator (timer ticks)");
                var table = new TextTable("index", "operator", "shapes", "MACs", Emulated ? "insns" : "ticks", "share", Emulated ? "MAC/insn" : "MAC/tick");
                foreach (var row in rows) table.Add(row);
                table.Write(w, new[] { 0, 3, 4, 5, 6 });
            }

            w.WriteLine();
            w.WriteLine($"workspace   {N(Model.WorkspaceBytes)} bytes{(Model.IoInWorkspace ? " (inputs and outputs inside)" : $" + {N(Model.InputOutputBytes)} bytes of inputs and outputs")}");
            w.WriteLine($"stack       {N(Memory.StackHighWater)} bytes used (painted high-water mark, of {N(Memory.StackSize)})");
            w.WriteLine($"RAM         .data {N(Memory.DataBytes)}, .bss {N(Memory.BssBytes)} bytes (RPC frame buffers {N(Memory.ServerBufferBytes)} of it)");
            w.WriteLine($"flash       {N(Elf.Flash)} bytes: weights {N(Model.WeightsBytes)}, code and the rest {N(Elf.Flash - Model.WeightsBytes)}");
        }

        /// <summary>One line: the model, the board, the outputs' check, the time, workspace and stack.</summary>
        public string Summary()
        {
            string N(double v) => v.ToString("N0", Inv);
            string outputs = Checks.All(c => c.Equal)
                ? $"outputs equal the reference evaluator ({Check.Rule})"
                : $"{Checks.Count(c => !c.Equal)} of {Checks.Count} outputs DIFFER from the reference evaluator";
            string time = Emulated
                ? $"{N(Runs.Min(r => Cost(r.Ticks)))} instructions"
                : $"{N(Runs.Min(r => (double)r.Ticks))} cycles";
            return $"{Model.Name} on {Board}: {outputs}; {time} per inference; workspace {N(Model.WorkspaceBytes)} B; stack {N(Memory.StackHighWater)} B";
        }

        public byte[] ToJson()
        {
            var costs = Runs.Select(r => Cost(r.Ticks)).ToList();
            var json = new
            {
                board = Board,
                device = new { Info.Board, Info.Cpu, Info.CpuClockHz, Info.TimerHz, Info.BuildId, Info.ProtocolVersion, Info.MaxPayload },
                model = Model.Name,
                outputs = Checks.Select(c => new { output = c.Output, type = c.Type, equal = c.Equal, rule = Check.Rule, maxDifference = c.MaxDifference, message = c.Message }),
                timeUnit = Emulated ? "instructions" : "ticks",
                runs = Runs.Select(r => new { status = r.Status, ticks = r.Ticks, cost = Cost(r.Ticks) }),
                inference = costs.Min(),
                operators = OperatorTicks.Count == 0 ? null : Operators().Select(x => new
                {
                    index = x.Op.Index, kind = x.Op.Kind, shapes = Shapes(x.Op), macs = x.Op.Macs ?? 0, cost = x.Cost, share = x.Share,
                    macsPerUnit = x.Op.Macs is > 0 && x.Cost > 0 ? x.Op.Macs.Value / x.Cost : 0,
                }),
                memory = new
                {
                    workspaceBytes = Model.WorkspaceBytes, inputOutputBytes = Model.InputOutputBytes, stackHighWater = Memory.StackHighWater,
                    stackSize = Memory.StackSize, dataBytes = Memory.DataBytes, bssBytes = Memory.BssBytes, rpcBufferBytes = Memory.ServerBufferBytes,
                },
                flash = new { total = Elf.Flash, weights = Model.WeightsBytes, codeAndRest = Elf.Flash - Model.WeightsBytes },
                wallSeconds = new { build = BuildSeconds, device = DeviceSeconds },
                resends = Resends,
            };
            return JsonSerializer.SerializeToUtf8Bytes(json, new JsonSerializerOptions { WriteIndented = true });
        }
    }
}
