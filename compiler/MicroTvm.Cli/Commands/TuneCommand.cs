using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tuning;
using MicroTvm.Device;

namespace MicroTvm.Cli.Commands;

public sealed record TuneOptions(string Model, string Board, string? Cpu, string Output, int Budget, int Repeats, string? Sdk, string? Cache, double TimeoutSeconds, int Seed,
    long? WeightsBudget = null);

/// <summary>
/// <c>microtvm tune model.tflite --board B -o log.json</c> (docs/tuning.md): every distinct operator signature of the
/// model gets its schedule space (exhaustive up to --budget schedules, else the default and a seeded sample); each
/// candidate is compiled as a one-operator model by the same compiler path a build with a log takes, all candidates go
/// into one RPC server firmware (split in halves while it does not link), and the host times each on the device with
/// TIME_MODEL (no reflash per trial), checks its output against the reference evaluator bit for bit, and writes the
/// fastest schedule per signature (ties: the default) into the log.
/// </summary>
public static class TuneCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The .tflite model file." };
        var board = new Option<string>("--board") { Description = "The board to measure on (emulated boards run in QEMU).", Required = true };
        var cpu = new Option<string?>("--cpu") { Description = "The CPU (default: the board's)." };
        var output = new Option<string>("--output", "-o") { Description = "The tuning log to write (entries of other signatures in it are kept).", Required = true };
        var budget = new Option<int>("--budget") { Description = "Most schedules measured per operator signature (exhaustive below it).", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per candidate after one warm-up run; the minimum counts.", DefaultValueFactory = _ => 3 };
        var sdk = new Option<string?>("--sdk") { Description = "The unpacked MicroTvm.Sdk (default: MICROTVM_SDK, or the SDK this tool is packed in)." };
        var cache = new Option<string?>("--cache") { Description = "Folder for the tuning firmware projects." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for each device answer.", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed of the candidates' random inputs and of the sampled schedules.", DefaultValueFactory = _ => 1 };
        var weightsBudget = new Option<long?>("--weights-budget")
        {
            Description = "Most bytes the model's constant data (weights) may take: the fastest schedule set that fits (weight layout is one more knob), for a board whose flash is too small for the fastest layouts.",
        };
        var command = new Command("tune", "Measure each operator's schedules on the board and write the fastest into a tuning log.")
        {
            model, board, cpu, output, budget, repeats, sdk, cache, timeout, seed, weightsBudget,
        };
        command.SetAction(parse => console.Guard(parse.GetValue(model), () => Run(console, new TuneOptions(parse.GetValue(model)!, parse.GetValue(board)!, parse.GetValue(cpu),
            parse.GetValue(output)!, parse.GetValue(budget), parse.GetValue(repeats), parse.GetValue(sdk), parse.GetValue(cache), parse.GetValue(timeout), parse.GetValue(seed), parse.GetValue(weightsBudget)))));
        return command;
    }

    private sealed record Candidate(int Task, Schedule Schedule, GeneratedModel Model, string Key);

    /// <summary>A model to time on the device, with its inputs, the evaluator's outputs and what to call it in an error.</summary>
    private sealed record Trial(GeneratedModel Model, IReadOnlyList<byte[]> Inputs, IReadOnlyList<byte[]> Expected, string Description);

    /// <summary>Cost per run; Resolution: one timer tick in the same unit (the smallest difference that means anything).</summary>
    private sealed record Timing(double Cost, double Resolution);

    private sealed record Measured(Candidate Candidate, double Cost, double Resolution);

    public static int Run(CliConsole console, TuneOptions o)
    {
        var log = console.Output;
        if (o.Budget < 1 || o.Repeats < 1)
            throw new CompilerException(ErrorCodes.TuneArgument, "--budget and --repeats must be at least 1") { File = o.Model };
        var wall = Stopwatch.StartNew();
        string sdk = o.Sdk ?? Environment.GetEnvironmentVariable("MICROTVM_SDK") ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));
        string cache = o.Cache ?? Environment.GetEnvironmentVariable("MICROTVM_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "microtvm", "tune");
        string cpu = o.Cpu ?? BoardCpu(sdk, o.Board, o.Model);
        TuningLog existing = File.Exists(o.Output) ? TuningLog.Load(o.Output) : new TuningLog(Array.Empty<TuningEntry>());

        var graph = TfliteImporter.Load(o.Model);
        var tasks = TuningTasks.Of(graph, cpu);
        if (tasks.Count == 0)
        {
            log.WriteLine($"{o.Model}: no operator has more than one schedule on {cpu}; the log is unchanged");
            return 0;
        }

        // Candidates: the space, or the default and a seeded sample of it; identical code is measured once.
        var random = new Random(o.Seed);
        var candidates = new List<Candidate>();
        var spaceSizes = new int[tasks.Count];
        var inputs = new List<byte[]>[tasks.Count];
        var expected = new byte[tasks.Count][];
        for (int t = 0; t < tasks.Count; t++)
        {
            var task = tasks[t];
            spaceSizes[t] = task.Schedules.Count;
            var chosen = task.Schedules.Count <= o.Budget ? task.Schedules
                : task.Schedules.Take(1).Concat(task.Schedules.Skip(1).OrderBy(_ => random.Next()).Take(o.Budget - 1)).ToList();
            var seen = new HashSet<string>();
            foreach (var schedule in chosen)
            {
                string name = $"t{t}_c{candidates.Count}";
                var generated = ModelCompiler.Compile(task.Operator, task.Options(cpu, name, schedule));
                string key = generated.Files[generated.SourceFile].Replace(name, "NAME", StringComparison.Ordinal);
                if (seen.Add(key)) candidates.Add(new Candidate(t, schedule, generated, key));
            }

            inputs[t] = task.Operator.Inputs.Select(tensor => RandomBytes(tensor, random)).ToList();
            expected[t] = ReferenceEvaluator.Run(task.Operator, inputs[t])[task.Operator.Outputs[0]];
        }

        log.WriteLine($"tuning {Path.GetFileName(o.Model)} on {o.Board} ({cpu}): {tasks.Count} operator signatures ({tasks.Sum(t => t.Occurrences)} operators), {candidates.Count} distinct candidates (budget {o.Budget} per signature, {o.Repeats} timed runs each)");

        var results = new List<Measured>();
        var bestSoFar = new Dictionary<int, double>();
        foreach (var (batch, launch) in Batches(candidates, c => c.Model, o, sdk, cache, log))
        {
            var trials = batch.Select(c => new Trial(c.Model, inputs[c.Task], new[] { expected[c.Task] },
                $"candidate '{c.Schedule}' of {tasks[c.Task].Operator.Nodes[0]} ({tasks[c.Task].Signature})")).ToList();
            var timings = Time(trials, launch, o, (i, timing, max) =>
            {
                var c = batch[i];
                bestSoFar[c.Task] = Math.Min(bestSoFar.GetValueOrDefault(c.Task, double.MaxValue), timing.Cost);
                log.WriteLine($"trial {results.Count + i + 1} of {candidates.Count}: signature {c.Task} {tasks[c.Task].Operator.Nodes[0].Kind.Name} [{c.Schedule}] {N(timing.Cost)} instructions{(max != timing.Cost ? $" (max {N(max)})" : "")}, best {N(bestSoFar[c.Task])}");
            });
            results.AddRange(batch.Zip(timings, (c, t) => new Measured(c, t.Cost, t.Resolution)));
        }

        var entries = new List<TuningEntry>();
        string unit = "instructions";
        long Weights(Candidate c) => c.Model.Metadata.WeightsBytes;
        var measured = Enumerable.Range(0, tasks.Count).Select(t => results.Where(r => r.Candidate.Task == t).ToList()).ToList();
        var defaults = measured.Select(mine => mine.First(r => r.Candidate.Schedule.Equals(tasks[r.Candidate.Task].Default) || r.Candidate.Key == mine[0].Candidate.Key)).ToList();
        var winners = new Measured[tasks.Count];
        for (int t = 0; t < tasks.Count; t++)
        {
            var best = measured[t].OrderBy(r => r.Cost).ThenBy(r => r == defaults[t] ? 0 : 1).First();
            // Another schedule must beat the default by more than one timer tick (the measurement's resolution).
            winners[t] = best.Cost >= defaults[t].Cost - defaults[t].Resolution ? defaults[t] : best;
        }

        bool defaultsFit = true;
        if (o.WeightsBudget is long weightsBudget)
        {
            // The weights outside the tuned signatures (and their other constants) as the defaults' whole model has them.
            long whole = ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_default")).Metadata.WeightsBytes;
            long others = whole - Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * Weights(defaults[t].Candidate));
            defaultsFit = whole <= weightsBudget;
            var options = measured.Select(mine => (IReadOnlyList<BudgetOption>)mine.Select(r => new BudgetOption(r.Cost, Weights(r.Candidate))).ToList()).ToList();
            var picked = FlashBudget.Choose(options, tasks.Select(t => t.Occurrences).ToList(), weightsBudget - others)
                ?? throw new CompilerException(ErrorCodes.TuneWeightsBudget,
                    $"even the most compact schedules take {N(others + Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * measured[t].Min(r => Weights(r.Candidate))))} B of weights, more than --weights-budget {N(weightsBudget)} B") { File = o.Model };
            for (int t = 0; t < tasks.Count; t++) winners[t] = measured[t][picked[t]];
            log.WriteLine($"weights budget {N(weightsBudget)} B: the defaults take {N(whole)} B{(defaultsFit ? "" : " (do not fit)")}; the chosen set {N(others + Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * Weights(winners[t].Candidate)))} B");
        }

        for (int t = 0; t < tasks.Count; t++)
            entries.Add(new TuningEntry(tasks[t].Signature, winners[t].Candidate.Schedule,
                new TuningMeasurement(o.Board, unit, winners[t].Cost, defaults[t].Cost, measured[t].Count, spaceSizes[t], o.Repeats, Weights(winners[t].Candidate), Weights(defaults[t].Candidate))));

        // Under a budget the defaults do not fit, they are no fallback: the chosen set is what fits.
        if (defaultsFit) entries = WholeModelCheck(graph, cpu, tasks, entries, random, o, sdk, cache, log);
        var rows = new List<string[]>();
        for (int t = 0; t < tasks.Count; t++)
        {
            var m = entries[t].Measured!;
            rows.Add(new[]
            {
                t.ToString(Inv), tasks[t].Operator.Nodes[0].Kind.Name, tasks[t].Occurrences.ToString(Inv), N(m.DefaultCost), N(m.Cost),
                ((1 - m.Cost / m.DefaultCost) * 100).ToString("0.0", Inv) + "%", entries[t].Schedule.ToString(),
            });
        }

        var written = existing.With(entries);
        RunCommand.Write(Path.GetDirectoryName(Path.GetFullPath(o.Output))!, new[] { (Path.GetFileName(o.Output), Encoding.UTF8.GetBytes(written.ToJson())) });
        log.WriteLine();
        var table = new TextTable("signature", "operator", "uses", "default", "tuned", "saved", "schedule");
        foreach (var row in rows) table.Add(row);
        table.Write(log, new[] { 0, 2, 3, 4, 5 });
        double before = entries.Sum(e => e.Measured!.DefaultCost * tasks.First(t => t.Signature == e.Signature).Occurrences);
        double after = entries.Sum(e => e.Measured!.Cost * tasks.First(t => t.Signature == e.Signature).Occurrences);
        log.WriteLine($"tuned operators: {N(after)} {unit} against {N(before)} by default ({(1 - after / before) * 100:0.0}% fewer), in {wall.Elapsed.TotalSeconds:0} s; log: {o.Output}");
        return 0;
    }

    private static string N(double v) => v.ToString("N0", Inv);

    private static byte[] RandomBytes(Tensor tensor, Random random)
    {
        var bytes = new byte[tensor.ByteSize];
        if (tensor.Type == ElementType.Float32)
            for (int i = 0; i < bytes.Length / 4; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), (float)(random.NextDouble() * 2 - 1));
        else random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The board's CPU from its board.props in the SDK.</summary>
    private static string BoardCpu(string sdk, string board, string model)
    {
        string props = Path.Combine(sdk, "boards", board, "board.props");
        if (File.Exists(props) && Regex.Match(File.ReadAllText(props), @"<MicroTvmCpu[^>]*>\s*([\w-]+)\s*</MicroTvmCpu>") is { Success: true } m) return m.Groups[1].Value;
        throw new CompilerException(ErrorCodes.TuneArgument, $"no board '{board}' with a CPU in the SDK at '{sdk}' ({props}); give --board of the catalog, --cpu, or --sdk") { File = model };
    }

    /// <summary>The chosen schedules, timed as a whole model against the defaults (one firmware, the same inputs): one
    /// operator timed alone does not always rank schedules as the model does (on the M55 the per-operator winners made
    /// kws_dscnn 8 % slower). Unless the whole model gains more than a timer tick, every entry keeps its default.</summary>
    private static List<TuningEntry> WholeModelCheck(Graph graph, string cpu, IReadOnlyList<TuningTask> tasks, List<TuningEntry> entries, Random random,
        TuneOptions o, string sdk, string cache, TextWriter log)
    {
        if (entries.Select((e, t) => e.Schedule.Equals(tasks[t].Default)).All(isDefault => isDefault)) return entries;
        var inputs = graph.Inputs.Select(tensor => RandomBytes(tensor, random)).ToList();
        var values = ReferenceEvaluator.Run(graph, inputs);
        var expected = graph.Outputs.Select(t => values[t]).ToList();
        var trials = new List<Trial>
        {
            new(ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_default")), inputs, expected, "the whole model with the default schedules"),
            new(ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_tuned", Tuning: new TuningLog(entries))), inputs, expected, "the whole model with the tuned schedules"),
        };
        var timings = new List<Timing>();
        foreach (var (batch, launch) in Batches(trials, t => t.Model, o, sdk, cache, log))
            timings.AddRange(Time(batch, launch, o, (_, _, _) => { }));
        var (byDefault, tuned) = (timings[0], timings[1]);
        bool gains = tuned.Cost < byDefault.Cost - byDefault.Resolution;
        log.WriteLine($"whole model: {N(tuned.Cost)} instructions with the tuned schedules, {N(byDefault.Cost)} with the defaults" +
                      (gains ? $" ({(1 - tuned.Cost / byDefault.Cost) * 100:0.0}% fewer)" : ": no gain, every signature keeps its default schedule"));
        return gains ? entries : entries.Select((e, t) => e with
        {
            Schedule = tasks[t].Default,
            Measured = e.Measured! with { Cost = e.Measured.DefaultCost, WeightBytes = e.Measured.DefaultWeightBytes },
        }).ToList();
    }

    /// <summary>Firmware images holding all <paramref name="items"/>' models: one if it links, else halves, recursively
    /// (as many as fit).</summary>
    private static IEnumerable<(List<T> Items, LaunchInfo Launch)> Batches<T>(List<T> items, Func<T, GeneratedModel> model, TuneOptions o, string sdk, string cache, TextWriter log)
    {
        var pending = new Stack<List<T>>();
        // The server's model index is one byte.
        foreach (var chunk in items.Chunk(250).Reverse()) pending.Push(chunk.ToList());
        while (pending.Count > 0)
        {
            var batch = pending.Pop();
            LaunchInfo? launch = null;
            try
            {
                launch = Firmware(batch.Select(model).ToList(), o, sdk, cache, log);
            }
            catch (CompilerException e) when (e.Code == DeviceErrors.BuildFailed && e.Message.Contains("overflowed", StringComparison.Ordinal) && batch.Count > 1)
            {
                log.WriteLine($"{batch.Count} models do not fit the board's memory: two firmware images of {batch.Count / 2} and {batch.Count - batch.Count / 2}");
                pending.Push(batch.Skip(batch.Count / 2).ToList());
                pending.Push(batch.Take(batch.Count / 2).ToList());
            }

            if (launch is not null) yield return (batch, launch);
        }
    }

    private static LaunchInfo Firmware(List<GeneratedModel> models, TuneOptions o, string sdk, string cache, TextWriter log)
    {
        var hash = new StringBuilder(o.Board);
        foreach (var m in models) hash.Append('|').Append(m.Name).Append('|').Append(m.Files[m.SourceFile]);
        foreach (var f in new[] { Path.Combine(sdk, "crt", "rpc", "rpc_server.c"), Path.Combine(sdk, "Sdk", "Sdk.props") })
            hash.Append('|').Append(File.Exists(f) ? File.GetLastWriteTimeUtc(f).Ticks : 0);
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString())))[..16].ToLowerInvariant();
        string dir = Path.Combine(cache, $"tune-{o.Board}-{key}");
        string launchFile = Path.Combine(dir, "launch.txt");
        if (File.Exists(launchFile) && LaunchInfo.Read(launchFile, dir) is { } cached && File.Exists(cached.Elf))
        {
            log.WriteLine($"tuning firmware (cached): {cached.Elf}");
            return cached;
        }

        string candidates = Path.Combine(dir, "candidates");
        Directory.CreateDirectory(candidates);
        foreach (var m in models) m.WriteTo(candidates);
        return ServerFirmware.Build(dir, o.Board, profile: false,
            """<Compile Include="candidates/*.c" /><IncludeDirectory Include="candidates" /><MicroTvmRpcModel Include="candidates/*.json" />""", sdk, log);
    }

    /// <summary>Times each trial on the device (one warm-up run, then the minimum of --repeats; TIME_MODEL, no reflash) and
    /// checks its outputs against the evaluator's bit for bit; <paramref name="measured"/> gets each trial's index, its
    /// timing and its slowest run as they come.</summary>
    private static List<Timing> Time(List<Trial> trials, LaunchInfo launch, TuneOptions o, Action<int, Timing, double> measured)
    {
        if (string.IsNullOrEmpty(launch.Emulator))
            throw new CompilerException(DeviceErrors.NoTransport, $"board '{o.Board}' is real hardware: tuning drives emulated boards only for now (docs/tuning.md)") { File = o.Model };
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        using var session = EmulatorSession.Start(launch.Emulator, launch.EmulatorArguments, launch.RpcEmulatorArguments, launch.Elf, timeout);
        var client = session.Client;
        var info = client.Hello();
        // The rpc-table lists the models by name; match by name, not position.
        var index = Enumerable.Range(0, info.ModelCount).ToDictionary(k => client.DescribeModel(k).Name, k => k);
        var results = new List<Timing>();
        foreach (var trial in trials)
        {
            int k = index.TryGetValue(trial.Model.Name, out var found) ? found
                : throw new CompilerException(DeviceErrors.Handshake, $"the tuning firmware does not serve {trial.Model.Name}") { File = launch.Project };
            for (int i = 0; i < trial.Inputs.Count; i++) client.WriteInput(k, i, trial.Inputs[i]);
            client.TimeModel(k, 1); // warm-up (caches on real boards)
            var timing = client.TimeModel(k, o.Repeats);
            for (int j = 0; j < trial.Expected.Count; j++)
                if (!client.ReadOutput(k, j, trial.Expected[j].Length).AsSpan().SequenceEqual(trial.Expected[j]))
                    throw new CompilerException(ErrorCodes.TuneCandidateDiffers,
                        $"{trial.Description} gives outputs that differ from the reference evaluator on the device: a code-generation bug, please report it") { File = o.Model };
            var result = new Timing(timing.Min * 1e9 / info.TimerHz, 1e9 / info.TimerHz);
            results.Add(result);
            measured(results.Count - 1, result, timing.Max * 1e9 / info.TimerHz);
        }

        return results;
    }
}
