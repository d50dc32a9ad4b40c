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
    long? WeightsBudget = null, string? Port = null, string? BoardDirectory = null, long ReserveFlash = 0, long? FirmwareFlash = null, string? FirmwareMetadata = null);

/// <summary>
/// <c>microtvm tune model.tflite --board B -o log.json</c> (docs/tuning.md): every distinct operator signature of the
/// model gets its schedule space (exhaustive up to --budget schedules, else the default and a seeded sample); each
/// candidate is compiled as a one-operator model by the same compiler path a build with a log takes, all candidates go
/// into one RPC server firmware (split in halves while it does not link), and the host times each on the device with
/// TIME_MODEL (no reflash per trial), checks its output against the reference evaluator bit for bit, and writes the
/// fastest schedule per signature (ties: the default) into the log. The whole model then checks the choice (subsets of
/// the winners where the whole set does not gain) and, where the board's flash is tight, that the chosen set links for
/// the board (else it is chosen again under a smaller weights budget). --port: a real board, flashed by its runner.
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
        var port = new Option<string?>("--port")
        {
            Description = "A real board's serial port (/dev/ttyACM0, COM3): each tuning firmware is programmed with the board's flash runner and timed through it.",
        };
        var boardDirectory = new Option<string?>("--board-directory")
        {
            Description = "A board folder of your own (its board.props), as MicroTvmBoardDirectory; --board then only names it.",
        };
        var reserveFlash = new Option<long>("--reserve-flash")
        {
            Description = "Bytes of the board's flash the application takes beside this model's weights (its code, data, other models): the chosen set's weights must fit the flash less this, as well as the tuning firmware (-t:Tune passes MicroTvmTuneReserveFlash).",
        };
        var firmwareFlash = new Option<long?>("--firmware-flash")
        {
            Description = "The flash the project's own firmware takes with this model in it (-t:Tune links the project and passes it): without --reserve-flash, the reserve is this less the model's weights in --firmware-metadata.",
        };
        var firmwareMetadata = new Option<string?>("--firmware-metadata")
        {
            Description = "The model's .json from the build that --firmware-flash measured (its weightsBytes).",
        };
        var command = new Command("tune", "Measure each operator's schedules on the board and write the fastest into a tuning log.")
        {
            model, board, cpu, output, budget, repeats, sdk, cache, timeout, seed, weightsBudget, port, boardDirectory, reserveFlash, firmwareFlash, firmwareMetadata,
        };
        command.SetAction(parse => console.Guard(parse.GetValue(model), () => Run(console, new TuneOptions(parse.GetValue(model)!, parse.GetValue(board)!, parse.GetValue(cpu),
            parse.GetValue(output)!, parse.GetValue(budget), parse.GetValue(repeats), parse.GetValue(sdk), parse.GetValue(cache), parse.GetValue(timeout), parse.GetValue(seed), parse.GetValue(weightsBudget),
            parse.GetValue(port), parse.GetValue(boardDirectory), parse.GetValue(reserveFlash), parse.GetValue(firmwareFlash), parse.GetValue(firmwareMetadata)))));
        return command;
    }

    private sealed record Candidate(int Task, Schedule Schedule, GeneratedModel Model, string Key);

    /// <summary>A model to time on the device, with its inputs, the evaluator's outputs and what to call it in an error.</summary>
    /// <summary>MayDiffer: a whole model whose outputs may differ from the evaluator's (a set of schedules that is then
    /// not chosen) instead of a code-generation error.</summary>
    private sealed record Trial(GeneratedModel Model, IReadOnlyList<byte[]> Inputs, IReadOnlyList<byte[]> Expected, string Description, bool MayDiffer = false);

    /// <summary>The entries after the whole-model check, or the bytes by which the chosen set's firmware overflowed the flash.</summary>
    private sealed record CheckResult(List<TuningEntry> Entries, long? Overflow);

    /// <summary>Cost per run; Resolution: one timer tick in the same unit (the smallest difference that means anything).</summary>
    private sealed record Timing(double Cost, double Resolution);

    private sealed record Measured(Candidate Candidate, double Cost, double Resolution);

    public static int Run(CliConsole console, TuneOptions o)
    {
        var log = console.Output;
        if (o.Budget < 1 || o.Repeats < 1 || o.ReserveFlash < 0)
            throw new CompilerException(ErrorCodes.TuneArgument, "--budget and --repeats must be at least 1, --reserve-flash at least 0") { File = o.Model };
        var wall = Stopwatch.StartNew();
        string sdk = o.Sdk ?? Environment.GetEnvironmentVariable("MICROTVM_SDK") ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));
        string cache = o.Cache ?? Environment.GetEnvironmentVariable("MICROTVM_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "microtvm", "tune");
        string cpu = o.Cpu ?? BoardCpu(BoardDirectory(o, sdk), o.Board, o.Model);
        TuningLog existing = File.Exists(o.Output) ? TuningLog.Load(o.Output) : new TuningLog(Array.Empty<TuningEntry>());
        long? flash = BoardFlash(o, sdk);
        if (o.ReserveFlash == 0 && o.FirmwareFlash is long image)
        {
            long built = BuiltWeights(o);
            o = o with { ReserveFlash = Math.Max(0, image - built) };
            log.WriteLine($"the project's firmware takes {N(image)} B of flash, {N(built)} B of it this model's weights: {N(o.ReserveFlash)} B reserved for the rest of the application");
        }
        if (o.ReserveFlash > 0 && flash is long available && o.ReserveFlash >= available)
            throw new CompilerException(ErrorCodes.TuneReserveFlash,
                $"--reserve-flash {N(o.ReserveFlash)} B leaves no flash for the model's weights: {o.Board} has {N(available)} B") { File = o.Model };
        if (o.ReserveFlash > 0 && flash is null)
            log.WriteLine($"--reserve-flash: {o.Board}'s flash is unknown (no FLASH region in its linker script); only the tuning firmware's link checks the fit");

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
            var timings = Time(trials, launch, o, log, (i, timing, max) =>
            {
                var c = batch[i];
                bestSoFar[c.Task] = Math.Min(bestSoFar.GetValueOrDefault(c.Task, double.MaxValue), timing.Cost);
                log.WriteLine($"trial {results.Count + i + 1} of {candidates.Count}: signature {c.Task} {tasks[c.Task].Operator.Nodes[0].Kind.Name} [{c.Schedule}] {N(timing.Cost)} instructions{(max != timing.Cost ? $" (max {N(max)})" : "")}, best {N(bestSoFar[c.Task])}");
            });
            results.AddRange(batch.Zip(timings, (c, t) => new Measured(c, t!.Cost, t.Resolution)));
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

        // The flash budget: --weights-budget, else the board's flash. Where the weights take a good part of the board's
        // flash (or a budget is given) the chosen set's whole model is linked for the board; when it overflows by N
        // bytes the weights get a budget N bytes below the set's and the fastest set under it is chosen and linked again.
        // --reserve-flash: the application's flash beside the weights, which may exceed the RPC server's; the weights'
        // budget is then at most the flash less the reserve.
        long defaultWeights = ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_default")).Metadata.WeightsBytes;
        bool tight = o.WeightsBudget is not null || flash is not long f || 4 * defaultWeights > f - o.ReserveFlash;
        long? budget = tight ? FlashBudget.WeightsBudget(o.WeightsBudget, flash, o.ReserveFlash) : null;
        if (tight && o.ReserveFlash > 0 && flash is long total)
            log.WriteLine($"{N(o.ReserveFlash)} B of {o.Board}'s {N(total)} B of flash reserved for the application: at most {N(budget!.Value)} B of weights");
        for (int attempt = 0; ; attempt++)
        {
            if (budget is long weightsBudget)
                winners = WithinBudget(graph, cpu, tasks, measured, defaults, weightsBudget, o, log);
            entries = Enumerable.Range(0, tasks.Count).Select(t => new TuningEntry(tasks[t].Signature, winners[t].Candidate.Schedule,
                new TuningMeasurement(o.Board, unit, winners[t].Cost, defaults[t].Cost, measured[t].Count, spaceSizes[t], o.Repeats, Weights(winners[t].Candidate), Weights(defaults[t].Candidate)))).ToList();
            var check = WholeModelCheck(graph, cpu, tasks, entries, random, tight, o, sdk, cache, log);
            if (check.Overflow is not long over)
            {
                entries = check.Entries;
                break;
            }

            long chosen = ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_tuned", Tuning: new TuningLog(entries))).Metadata.WeightsBytes;
            if (attempt == 3 || entries.Select((e, t) => e.Measured!.WeightBytes == measured[t].Min(r => Weights(r.Candidate))).All(smallest => smallest))
                throw new CompilerException(ErrorCodes.TuneNoSetFits,
                    $"the model's firmware does not fit {o.Board}'s flash{(flash is long length ? $" ({N(length)} B)" : "")} with any schedule set the tuner tried: the last ({N(chosen)} B of weights) overflowed it by {N(over)} B") { File = o.Model };
            budget = chosen - over;
            log.WriteLine($"the chosen set's firmware overflows {o.Board}'s flash by {N(over)} B: choosing again with at most {N(budget.Value)} B of weights");
        }

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
        log.WriteLine($"tuned operators: {N(after)} {unit} against {N(before)} by default ({AgainstDefaults(after, before)}), in {wall.Elapsed.TotalSeconds:0} s; log: {o.Output}");
        return 0;
    }

    /// <summary>The summary's comparison of the tuned operators' cost with the defaults': fewer, or (where the weights'
    /// budget left the defaults out, the one way the chosen set can be slower) more, saying why.</summary>
    internal static string AgainstDefaults(double after, double before) => after <= before
        ? $"{(1 - after / before) * 100:0.0}% fewer"
        : $"{(after / before - 1) * 100:0.0}% more: the defaults' weights exceed the flash budget";

    private static string N(double v) => v.ToString("N0", Inv);

    /// <summary>The model's weights in the build --firmware-flash measured (weightsBytes of its .json).</summary>
    private static long BuiltWeights(TuneOptions o)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(o.FirmwareMetadata ?? throw new InvalidDataException("no --firmware-metadata given")));
            return json.RootElement.GetProperty("weightsBytes").GetInt64();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CompilerException(ErrorCodes.TuneFirmwareMetadata,
                $"--firmware-flash needs the model's .json of that build (--firmware-metadata) with its weightsBytes: {e.Message}") { File = o.FirmwareMetadata ?? o.Model };
        }
    }

    private static byte[] RandomBytes(Tensor tensor, Random random)
    {
        var bytes = new byte[tensor.ByteSize];
        if (tensor.Type == ElementType.Float32)
            for (int i = 0; i < bytes.Length / 4; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), (float)(random.NextDouble() * 2 - 1));
        else random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>The board's CPU from its board.props in the SDK.</summary>
    private static string BoardCpu(string boardDirectory, string board, string model)
    {
        string props = Path.Combine(boardDirectory, "board.props");
        if (File.Exists(props) && Regex.Match(File.ReadAllText(props), @"<MicroTvmCpu[^>]*>\s*([\w-]+)\s*</MicroTvmCpu>") is { Success: true } m) return m.Groups[1].Value;
        throw new CompilerException(ErrorCodes.TuneArgument, $"no board '{board}' with a CPU at {props}; give --board of the catalog, --board-directory, --cpu, or --sdk") { File = model };
    }

    /// <summary>The fastest schedule per signature whose weights fit <paramref name="weightsBudget"/> (FlashBudget); the
    /// weights outside the tuned signatures are the defaults' whole model's.</summary>
    private static Measured[] WithinBudget(Graph graph, string cpu, IReadOnlyList<TuningTask> tasks, List<List<Measured>> measured, List<Measured> defaults,
        long weightsBudget, TuneOptions o, TextWriter log)
    {
        static long Weights(Measured r) => r.Candidate.Model.Metadata.WeightsBytes;
        long whole = ModelCompiler.Compile(graph, new CompileOptions(cpu, "model_default")).Metadata.WeightsBytes;
        long others = whole - Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * Weights(defaults[t]));
        var options = measured.Select(mine => (IReadOnlyList<BudgetOption>)mine.Select(r => new BudgetOption(r.Cost, Weights(r))).ToList()).ToList();
        var picked = FlashBudget.Choose(options, tasks.Select(t => t.Occurrences).ToList(), weightsBudget - others)
            ?? throw new CompilerException(ErrorCodes.TuneWeightsBudget,
                $"even the most compact schedules take {N(others + Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * measured[t].Min(Weights)))} B of weights, more than the budget of {N(weightsBudget)} B") { File = o.Model };
        var winners = measured.Select((mine, t) => mine[picked[t]]).ToArray();
        log.WriteLine($"weights budget {N(weightsBudget)} B: the defaults take {N(whole)} B{(whole <= weightsBudget ? "" : " (do not fit)")}; the chosen set {N(others + Enumerable.Range(0, tasks.Count).Sum(t => tasks[t].Occurrences * Weights(winners[t])))} B");
        return winners;
    }

    /// <summary>The board's flash: the LENGTH of the FLASH region of the linker script its board.props names; null when
    /// it cannot be read (the tuner then links the chosen set to check that it fits).</summary>
    private static long? BoardFlash(TuneOptions o, string sdk)
    {
        string dir = BoardDirectory(o, sdk);
        string props = Path.Combine(dir, "board.props");
        if (!File.Exists(props) || Regex.Match(File.ReadAllText(props), @"<MicroTvmLinkerScript[^>]*>\s*([^<]+?)\s*</MicroTvmLinkerScript>") is not { Success: true } script)
            return null;
        string ld = script.Groups[1].Value.Replace("$(MSBuildThisFileDirectory)", dir.TrimEnd('/', '\\') + "/", StringComparison.Ordinal);
        if (!File.Exists(ld) || Regex.Match(File.ReadAllText(ld), @"FLASH\s*\([^)]*\)\s*:[^\n]*LENGTH\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*([KM]?)") is not { Success: true } m)
            return null;
        string v = m.Groups[1].Value;
        long length = v.StartsWith("0x", StringComparison.Ordinal) ? long.Parse(v[2..], NumberStyles.HexNumber, Inv) : long.Parse(v, Inv);
        return length * (m.Groups[2].Value == "K" ? 1024 : m.Groups[2].Value == "M" ? 1024 * 1024 : 1);
    }

    /// <summary>The board's folder: --board-directory, else the catalog board's folder in the SDK.</summary>
    private static string BoardDirectory(TuneOptions o, string sdk) => o.BoardDirectory is { Length: > 0 } d ? Path.GetFullPath(d) : Path.Combine(sdk, "boards", o.Board);

    /// <summary>
    /// The chosen schedules as a whole model (one operator timed alone does not always rank schedules as the model does:
    /// on the M55 the per-operator winners once made kws_dscnn 8 % slower). With <paramref name="checkFit"/> the chosen
    /// set's model is first linked alone into a firmware for the board (the linker checks the flash; an overflow returns
    /// its bytes) and run bit-exact. Then, when any signature left its default, the defaults, the chosen set and, where
    /// more than one signature changed, each changed signature alone are timed in one firmware on the same random inputs;
    /// the fastest of them that is bit-exact and gains more than a timer tick over the defaults is kept, else every
    /// entry keeps its default. Defaults that do not fit the board (a budget) are no fallback: the chosen set stays.
    /// </summary>
    private static CheckResult WholeModelCheck(Graph graph, string cpu, IReadOnlyList<TuningTask> tasks, List<TuningEntry> entries, Random random, bool checkFit,
        TuneOptions o, string sdk, string cache, TextWriter log)
    {
        var changed = Enumerable.Range(0, tasks.Count).Where(t => !entries[t].Schedule.Equals(tasks[t].Default)).ToList();
        if (changed.Count == 0 && !checkFit) return new CheckResult(entries, null);
        var inputs = graph.Inputs.Select(tensor => RandomBytes(tensor, random)).ToList();
        var values = ReferenceEvaluator.Run(graph, inputs);
        var expected = graph.Outputs.Select(t => values[t]).ToList();
        TuningEntry AtDefault(TuningEntry e, int t) => e with
        {
            Schedule = tasks[t].Default,
            Measured = e.Measured! with { Cost = e.Measured.DefaultCost, WeightBytes = e.Measured.DefaultWeightBytes },
        };
        var defaults = entries.Select(AtDefault).ToList();
        Trial Whole(string name, List<TuningEntry> set, string description, bool mayDiffer) =>
            new(ModelCompiler.Compile(graph, new CompileOptions(cpu, name, Tuning: new TuningLog(set))), inputs, expected, description, mayDiffer);

        if (checkFit)
        {
            var alone = Whole("model_tuned", entries, "the whole model with the chosen schedules", mayDiffer: false);
            LaunchInfo launch;
            try
            {
                launch = Firmware(new List<GeneratedModel> { alone.Model }, o, sdk, cache, log);
            }
            catch (CompilerException e) when (e.Code == DeviceErrors.BuildFailed && Regex.Match(e.Message, @"overflowed by (\d+) bytes") is { Success: true } m)
            {
                return new CheckResult(entries, long.Parse(m.Groups[1].Value, Inv));
            }

            var fits = Time(new List<Trial> { alone }, launch, o, log, (_, _, _) => { })[0]!;
            log.WriteLine($"whole model with the chosen schedules: fits {o.Board}'s flash ({N(ElfSizes.Read(launch.Elf).Flash)} B in the tuning firmware), {N(fits.Cost)} instructions, outputs equal the evaluator's");
            if (changed.Count == 0) return new CheckResult(entries, null);
        }

        var sets = new List<(List<TuningEntry> Entries, string Description)> { (defaults, "the defaults"), (entries, "the chosen schedules") };
        if (changed.Count > 1)
            foreach (int only in changed)
                sets.Add((entries.Select((e, t) => t == only ? e : defaults[t]).ToList(), $"only signature {only} tuned [{entries[only].Schedule}]"));
        var trials = sets.Select((set, k) => Whole($"model_set{k}", set.Entries, $"the whole model with {set.Description}", mayDiffer: k > 0)).ToList();
        var timings = new List<Timing?>();
        try
        {
            foreach (var (batch, launch) in Batches(trials, t => t.Model, o, sdk, cache, log))
                timings.AddRange(Time(batch, launch, o, log, (_, _, _) => { }));
        }
        catch (CompilerException e) when (checkFit && e.Code == DeviceErrors.BuildFailed && e.Message.Contains("overflowed", StringComparison.Ordinal))
        {
            // One whole model alone does not fit: the defaults (the chosen set fitted above), so they are no fallback.
            log.WriteLine($"whole model: the defaults do not fit {o.Board}'s flash; the chosen set (which fits) stays");
            return new CheckResult(entries, null);
        }

        var byDefault = timings[0]!;
        int best = Enumerable.Range(1, sets.Count - 1).Where(k => timings[k] is { } t && t.Cost < byDefault.Cost - byDefault.Resolution)
            .OrderBy(k => timings[k]!.Cost).DefaultIfEmpty(0).First();
        for (int k = 1; k < sets.Count; k++)
            log.WriteLine($"whole model with {sets[k].Description}: " + (timings[k] is { } t ? $"{N(t.Cost)} instructions" : "outputs differ from the evaluator's") + $", {N(byDefault.Cost)} with the defaults");
        log.WriteLine(best == 0 ? "whole model: no gain, every signature keeps its default schedule"
            : $"whole model: {sets[best].Description}, {N(timings[best]!.Cost)} instructions against {N(byDefault.Cost)} with the defaults ({(1 - timings[best]!.Cost / byDefault.Cost) * 100:0.0}% fewer)");
        return new CheckResult(sets[best].Entries, null);
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
        var hash = new StringBuilder(o.Board).Append('|').Append(o.BoardDirectory);
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
            """<Compile Include="candidates/*.c" /><IncludeDirectory Include="candidates" /><MicroTvmRpcModel Include="candidates/*.json" />""", sdk, log,
            o.BoardDirectory is { Length: > 0 } board ? Path.GetFullPath(board) : null);
    }

    /// <summary>The device running <paramref name="launch"/>'s firmware: an emulated board in its emulator; with --port, a
    /// real board programmed by its flash runner (-t:Flash) and reached through the serial port (every call answers
    /// within the timeout or fails with MTVM4101).</summary>
    private static Device Connect(LaunchInfo launch, TuneOptions o, TimeSpan timeout, TextWriter log)
    {
        if (o.Port is { } port)
        {
            if (!string.IsNullOrEmpty(launch.Emulator))
                throw new CompilerException(ErrorCodes.TunePortOnEmulatedBoard, $"--port {port}: board '{o.Board}' is emulated, and the tuner runs its firmware in the emulator itself; leave out --port") { File = o.Model };
            ServerFirmware.Flash(launch);
            log.WriteLine($"flashed {launch.Elf} onto {o.Board} with its flash runner; timing through {port}");
            return new Device(null, new DeviceClient(BoardRun.OpenSerial(port), port) { Timeout = timeout });
        }

        if (string.IsNullOrEmpty(launch.Emulator))
            throw new CompilerException(DeviceErrors.NoTransport, $"board '{o.Board}' is real hardware: give its serial port with --port (e.g. /dev/ttyACM0)") { File = o.Model };
        var session = EmulatorSession.Start(launch.Emulator, launch.EmulatorArguments, launch.RpcEmulatorArguments, launch.Elf, timeout);
        return new Device(session, session.Client);
    }

    private sealed record Device(EmulatorSession? Session, DeviceClient Client) : IDisposable
    {
        public void Dispose()
        {
            if (Session != null) Session.Dispose();
            else Client.Dispose();
        }
    }

    /// <summary>Times each trial on the device (one warm-up run, then the minimum of --repeats; TIME_MODEL, no reflash) and
    /// checks its outputs against the evaluator's bit for bit; <paramref name="measured"/> gets each trial's index, its
    /// timing and its slowest run as they come.</summary>
    private static List<Timing?> Time(List<Trial> trials, LaunchInfo launch, TuneOptions o, TextWriter log, Action<int, Timing, double> measured)
    {
        var timeout = TimeSpan.FromSeconds(o.TimeoutSeconds);
        using var device = Connect(launch, o, timeout, log);
        var client = device.Client;
        var info = client.Hello();
        // The rpc-table lists the models by name; match by name, not position.
        var index = Enumerable.Range(0, info.ModelCount).ToDictionary(k => client.DescribeModel(k).Name, k => k);
        var results = new List<Timing?>();
        foreach (var trial in trials)
        {
            int k = index.TryGetValue(trial.Model.Name, out var found) ? found
                : throw new CompilerException(DeviceErrors.Handshake, $"the tuning firmware does not serve {trial.Model.Name}") { File = launch.Project };
            for (int i = 0; i < trial.Inputs.Count; i++) client.WriteInput(k, i, trial.Inputs[i]);
            client.TimeModel(k, 1); // warm-up (caches on real boards)
            var timing = client.TimeModel(k, o.Repeats);
            bool differs = Enumerable.Range(0, trial.Expected.Count).Any(j => !client.ReadOutput(k, j, trial.Expected[j].Length).AsSpan().SequenceEqual(trial.Expected[j]));
            if (differs && trial.MayDiffer)
            {
                results.Add(null);
                continue;
            }

            if (differs)
                throw new CompilerException(ErrorCodes.TuneCandidateDiffers,
                    $"{trial.Description} gives outputs that differ from the reference evaluator on the device: a code-generation bug, please report it") { File = o.Model };
            var result = new Timing(timing.Min * 1e9 / info.TimerHz, 1e9 / info.TimerHz);
            results.Add(result);
            measured(results.Count - 1, result, timing.Max * 1e9 / info.TimerHz);
        }

        return results;
    }
}
