using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Testing;

namespace MicroTvm.Benchmark;

/// <summary>
/// For each model and emulated board: a benchmark firmware project as a user writes it (Sdk="MicroTvm.Sdk", the
/// SDK packed from this repository into a private feed, the model as a MicroModel item) built and run in QEMU with
/// <c>dotnet build -t:Run</c>. The firmware checks the outputs on every stored input against TFLM's, counts
/// instructions per inference after a warm-up (-icount shift=0: 1 ns = 1 instruction) and measures the stack
/// high-water mark (painted stack). Flash is read from the linked .elf. Every model is compiled with its inputs and
/// outputs inside the workspace (IoInWorkspace="true"), as TFLM's arena holds them: the workspace is the model's RAM. With per-operator profiling (default: M7),
/// the same project is rebuilt with MICROTVM_TRACE and a timer read after every operator.
/// </summary>
internal static class Program
{
    private static readonly (string Board, string Target, string Cpu)[] Boards =
    {
        ("mps2-an500", "cortex-m7", "m7"), ("mps2-an386", "cortex-m4", "m4"), ("mps3-an547", "cortex-m55", "m55"),
    };

    private const string Usage = """
        Usage: eng/benchmark.sh [--boards mps2-an500,mps2-an386,mps3-an547] [--models kws_dscnn,...] [--output file.json]
               [--per-op-boards mps2-an500] [--portable-kernels (no DSP/Helium kernels)] [--keep (keep the projects)]
               [--caller-io (inputs and outputs in caller buffers beside the workspace instead of IoInWorkspace="true")]
               [--weight-layout speed|size|auto (MicroTvmWeightLayout of every project; default auto)]
               [--tuned [--tune-budget N] (also dotnet build -t:Tune each project, N trials per operator signature, default 16,
                and build and run it again with its tuning log: tuned vs default instructions and tuning wall time)]
        Writes eng/benchmark/results.json unless --output names another file.
        """;

    private static readonly string[] ValueOptions = ["--repo", "--boards", "--per-op-boards", "--models", "--output", "--weight-layout", "--tune-budget"];
    private static readonly string[] FlagOptions = ["--portable-kernels", "--caller-io", "--tuned", "--keep"];

    private static int Main(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        for (int i = 0; i < args.Length; i++)
        {
            // An unknown or incomplete option stops before anything runs (a mistyped --help once started a whole run).
            bool takesValue = ValueOptions.Contains(args[i]);
            if ((!takesValue && !FlagOptions.Contains(args[i])) || (takesValue && (++i >= args.Length || args[i].StartsWith("--", StringComparison.Ordinal))))
            {
                Console.Error.WriteLine($"eng/benchmark.sh: {(takesValue ? "a value is missing after " + args[i - 1] : "unknown option " + args[i])}\n{Usage}");
                return 2;
            }
        }
        string repo = Arg(args, "--repo") ?? Directory.GetCurrentDirectory();
        var boards = (Arg(args, "--boards")?.Split(',') ?? Boards.Select(b => b.Board).ToArray()).ToHashSet();
        var profileBoards = (Arg(args, "--per-op-boards")?.Split(',') ?? new[] { "mps2-an500" }).ToHashSet();
        string modelsRoot = Path.Combine(repo, "tests", "models");
        var models = Arg(args, "--models")?.Split(',') ?? Directory.GetDirectories(modelsRoot).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        string output = Arg(args, "--output") ?? Path.Combine(repo, "eng", "benchmark", "results.json");
        var baselines = Baselines.Load(Path.Combine(repo, "eng", "benchmark", "baselines"));
        bool portable = args.Contains("--portable-kernels"); // the portable C kernels only: what the DSP/MVE ones gain
        bool ioInWorkspace = !args.Contains("--caller-io"); // inputs and outputs in caller buffers beside the workspace: what IoInWorkspace saves
        // --tuned: each project is also tuned (-t:Tune, as a user would) and measured again with its tuning log.
        // --weight-layout speed|size|auto: MicroTvmWeightLayout of every project (default: the SDK's, auto).
        string? weightLayout = Arg(args, "--weight-layout");
        if (weightLayout is not null and not ("speed" or "size" or "auto")) { Console.Error.WriteLine($"--weight-layout {weightLayout}: speed, size or auto"); return 1; }
        int? tuneBudget = args.Contains("--tuned") ? int.Parse(Arg(args, "--tune-budget") ?? "16", CultureInfo.InvariantCulture) : null;

        string work = Path.Combine(Path.GetTempPath(), "microtvm-benchmark-" + Guid.NewGuid().ToString("N")[..8]);
        string feed = Path.Combine(work, "feed");
        string version = $"0.1.0-bench.{DateTime.UtcNow:yyyyMMddHHmmss}";
        Directory.CreateDirectory(feed);
        Console.WriteLine($"packing MicroTvm.Sdk {version} into {feed}");
        var pack = Tool.Run("dotnet", new[] { "pack", Path.Combine(repo, "sdk", "MicroTvm.Sdk", "MicroTvm.Sdk.csproj"), "-c", "Release", "-o", feed,
            $"-p:MicroTvmVersion={version}", "-nodeReuse:false", "-v:minimal" }, repo, null);
        if (pack.Code != 0) { Console.Error.WriteLine(pack.Output); return 1; }

        var results = new List<Result>();
        bool allCorrect = true;
        foreach (var (board, target, cpu) in Boards.Where(b => boards.Contains(b.Board)))
            foreach (var name in models)
            {
                Console.WriteLine($"{board} {name}: building and running");
                Result result;
                try
                {
                    result = Firmware.Measure(repo, work, feed, version, board, target, cpu, name!, profileBoards.Contains(board), portable, ioInWorkspace, tuneBudget, weightLayout);
                    Console.WriteLine($"  {(result.Correct ? "outputs ok" : "OUTPUT MISMATCH")}, {result.InstructionsMax:N0} instructions");
                    if (result.Tuned is { } tuned)
                        Console.WriteLine($"  tuned in {tuned.Seconds:0} s: {(tuned.Failure ?? (tuned.Correct ? "outputs ok" : "OUTPUT MISMATCH"))}, {tuned.InstructionsMax:N0} instructions ({tuned.ChangedSignatures} of {tuned.Signatures} signatures off their default)");
                }
                catch (Exception e) when (e is MicroTvm.Compiler.Diagnostics.CompilerException or InvalidOperationException or IOException)
                {
                    // One model that does not compile or run is a failed row, not the end of the run.
                    result = Result.Failed(board, cpu, name!, e is MicroTvm.Compiler.Diagnostics.CompilerException ce ? ce.ToString() : e.Message);
                    Console.WriteLine($"  FAILED: {result.Failure}");
                }

                results.Add(result);
                allCorrect &= result.Correct && result.Tuned is null or { Correct: true, Failure: null };
            }

        Report.Print(results, baselines);
        var json = Report.Json(results, baselines);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, json);
        Console.WriteLine($"wrote {output}");
        if (!args.Contains("--keep"))
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        else Console.WriteLine($"kept {work}");
        return allCorrect ? 0 : 2;
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

internal sealed record OperatorResult(int Index, string Op, long Macs, long Instructions);

/// <summary>The same project tuned (<c>dotnet build -t:Tune</c>: the tuner of <c>microtvm tune</c>) and run again with its
/// log: instructions per inference (max over the inputs), outputs against TFLM's, the tuning's wall time (its firmware
/// builds included), the signatures the log holds and how many left their default schedule. Failure: the tuning failed,
/// or the tuned build is slower than the defaults (a tuner bug: the tuner keeps the defaults unless they lose).</summary>
internal sealed record TunedResult(bool Correct, long InstructionsMax, double Seconds, int Signatures, int ChangedSignatures, long FlashBytes, string? Failure);

internal sealed record Result(
    string Board, string Cpu, string Model, bool Correct, long InstructionsMin, long InstructionsMax, long Macs,
    long WorkspaceBytes, long InputOutputBytes, bool IoInWorkspace, long DataBytes, long BssBytes, long StackBytes,
    long FlashBytes, long WeightsBytes, long TestVectorBytes, long ModelCodeBytes, IReadOnlyList<OperatorResult>? Operators,
    string? Failure = null)
{
    /// <summary>With --tuned: the tuned build's figures.</summary>
    public TunedResult? Tuned { get; init; }

    /// <summary>A model that could not be compiled, built or run on this board: a row with the reason and no figures.</summary>
    public static Result Failed(string board, string cpu, string model, string reason) =>
        new(board, cpu, model, false, 0, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, 0, 0, null, reason.Split('\n')[0]);

    /// <summary>What TFLM's arena holds: activations including the input and output tensors (with the I/O inside the
    /// workspace, InputOutputBytes, the caller's buffers outside it, is 0).</summary>
    public long ModelRamBytes => WorkspaceBytes + InputOutputBytes;

    /// <summary>The stack the model's entry call alone reached (<c>model_run</c>, painted just before it; -1 when not
    /// measured), beside the whole firmware's high-water mark <see cref="StackBytes"/>.</summary>
    public long ModelStackBytes { get; init; } = -1;

    /// <summary>The weight layouts the build gave the model ("int16", "int8", "int16+int8"; null: no kernel has the choice).</summary>
    public string? WeightLayout { get; init; }

    /// <summary>The whole firmware's RAM: .data + .bss (workspace included) + stack high-water mark.</summary>
    public long FirmwareRamBytes => DataBytes + BssBytes + StackBytes;

    /// <summary>Flash a deployment needs beyond the model's weights (code, runtime, startup, other constants).</summary>
    public long FlashBeyondWeights => FlashBytes - WeightsBytes - TestVectorBytes;
}

internal static class Firmware
{
    public static Result Measure(string repo, string work, string feed, string version, string board, string target, string cpu, string modelName, bool profile, bool portable, bool ioInWorkspace, int? tuneBudget, string? weightLayout = null)
    {
        string folder = Path.Combine(repo, "tests", "models", modelName);
        var graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
        var model = ModelCompiler.Compile(graph, new CompileOptions(target, "model", portable, ioInWorkspace));
        string dir = Path.Combine(work, $"{board}-{modelName}");
        Directory.CreateDirectory(Path.Combine(dir, "src"));
        string modelItem = "";
        if (portable)
        {
            // The portable kernels are a compiler option the MicroModel item does not expose: generated sources instead.
            foreach (var (file, content) in model.Files) File.WriteAllText(Path.Combine(dir, "src", file), content);
        }
        else
        {
            // As a user would: the model is an item, the build compiles it for the board's CPU (the in-process compile
            // above only supplies the operator list and MACs for the report).
            File.Copy(Path.Combine(folder, "model.tflite"), Path.Combine(dir, "model.tflite"));
            modelItem = $$"""
                  <ItemGroup>
                    <MicroModel Include="model.tflite" Name="model" IoInWorkspace="{{(ioInWorkspace ? "true" : "false")}}" />
                  </ItemGroup>
                """;
        }

        File.WriteAllText(Path.Combine(dir, "src", "main.c"), MainSource(graph, folder, ioInWorkspace));
        File.WriteAllText(Path.Combine(dir, "global.json"),
            $$"""{ "sdk": { "version": "10.0.100", "rollForward": "latestFeature" }, "msbuild-sdks": { "MicroTvm.Sdk": "{{version}}" } }""");
        File.WriteAllText(Path.Combine(dir, "NuGet.config"),
            $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /><add key="bench" value="{feed}" /></packageSources></configuration>""");
        File.WriteAllText(Path.Combine(dir, "bench.csproj"),
            $"""
            <Project Sdk="MicroTvm.Sdk">
              <PropertyGroup>
                <Board>{board}</Board>
                <OptimizationLevel>2</OptimizationLevel>{(weightLayout is null ? "" : $"\n    <MicroTvmWeightLayout>{weightLayout}</MicroTvmWeightLayout>")}
              </PropertyGroup>
            {modelItem}
            </Project>
            """);
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(work, "packages") };

        var run = Build(dir, env, Array.Empty<string>());
        var values = Values(run);
        bool correct = values.TryGetValue("failures", out var f) && f.All(n => n == 0) && values.ContainsKey("insns");
        var insns = values.GetValueOrDefault("insns") ?? new List<long> { 0 };
        string elf = Directory.GetFiles(Path.Combine(dir, "bin"), "*.elf", SearchOption.AllDirectories).Single();
        var image = Elf.Read(elf);

        List<OperatorResult>? operators = null;
        if (profile)
        {
            var traced = Values(Build(dir, env, new[] { "-p:PreprocessorDefinitions=MICROTVM_TRACE" }));
            var marks = traced.GetValueOrDefault("op") ?? new List<long>();
            operators = graph.Nodes.Select((node, i) => new OperatorResult(node.Index, node.Kind.Name,
                model.Metadata.Operators[i].Macs ?? 0, i < marks.Count ? marks[i] : -1)).ToList();
        }

        // The workspace as the build generated it (the in-process compile above has the same options).
        var built = ModelMetadata.FromJson(File.ReadAllText(portable ? Path.Combine(dir, "src", "model.json")
            : Directory.GetFiles(Path.Combine(dir, "obj"), "model.json", SearchOption.AllDirectories).Single()));
        if (built.IoInWorkspace != ioInWorkspace) throw new InvalidOperationException($"{dir}: the model was compiled with IoInWorkspace={built.IoInWorkspace}");
        return new Result(board, cpu, modelName, correct, insns.Min(), insns.Max(), model.Metadata.Operators.Sum(o => o.Macs ?? 0),
            built.WorkspaceBytes, built.InputOutputBytes, built.IoInWorkspace, image.Data, image.Bss,
            values.GetValueOrDefault("stack")?.First() ?? -1, image.Flash, image.Weights, image.TestVectors, image.ModelCode, operators)
        {
            ModelStackBytes = values.GetValueOrDefault("model_stack")?.First() ?? -1,
            WeightLayout = built.WeightLayout,
            Tuned = tuneBudget is int budget && !portable ? Tune(dir, env, budget, insns.Max(), elf) : null,
        };
    }

    /// <summary>--tuned: <c>dotnet build -t:Tune</c> in the benchmark project (the log goes to model.tuning.json beside it),
    /// then the project built and run again with <c>MicroTvmTuningLog</c>. The default run above is untouched.</summary>
    private static TunedResult Tune(string dir, IReadOnlyDictionary<string, string?> env, int budget, long defaultInstructions, string elf)
    {
        var watch = Stopwatch.StartNew();
        var tune = Tool.Run("dotnet", new[] { "build", "-t:Tune", "-c", "Release", "-nodeReuse:false", "-v:minimal", "-clp:NoSummary", $"-p:MicroTvmTuneBudget={budget}" }, dir, env);
        double seconds = watch.Elapsed.TotalSeconds;
        if (tune.Code != 0)
            return new TunedResult(false, 0, seconds, 0, 0, 0, "tuning failed: " + string.Join(" ", tune.Output.Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Take(2)).Trim());
        string log = Path.Combine(dir, "model.tuning.json");
        int signatures = 0, changed = 0;
        if (File.Exists(log))
        {
            // A schedule that is not its signature's default: its measured cost differs from, or its weights from, the default's
            // (the tuner writes the default's figures into an entry that keeps the default).
            using var doc = JsonDocument.Parse(File.ReadAllText(log));
            foreach (var entry in doc.RootElement.GetProperty("entries").EnumerateArray())
            {
                signatures++;
                var m = entry.GetProperty("measured");
                if (m.GetProperty("cost").GetDouble() != m.GetProperty("defaultCost").GetDouble() || m.GetProperty("weightBytes").GetInt64() != m.GetProperty("defaultWeightBytes").GetInt64())
                    changed++;
            }
        }

        // No log: no operator has a choice of schedule (the tuner says so); the tuned build is the default build.
        string[] extra = File.Exists(log) ? new[] { "-p:MicroTvmTuningLog=model.tuning.json" } : Array.Empty<string>();
        var values = Values(Build(dir, env, extra));
        bool correct = values.TryGetValue("failures", out var f) && f.All(n => n == 0) && values.ContainsKey("insns");
        long instructions = values.GetValueOrDefault("insns")?.Max() ?? 0;
        var image = Elf.Read(elf);
        long flash = image.Flash - image.TestVectors;
        string? failure = instructions > defaultInstructions
            ? $"tuned build slower than the defaults: {instructions:N0} > {defaultInstructions:N0} instructions (a tuner bug)" : null;
        return new TunedResult(correct, instructions, seconds, signatures, changed, flash, failure);
    }

    private static string Build(string dir, IReadOnlyDictionary<string, string?> env, string[] extra)
    {
        var args = new List<string> { "build", "-t:Run", "-c", "Release", "-nodeReuse:false", "-v:minimal", "-clp:NoSummary" };
        args.AddRange(extra);
        var r = Tool.Run("dotnet", args, dir, env);
        if (!r.Output.Contains("BENCH done", StringComparison.Ordinal))
            throw new InvalidOperationException($"the benchmark firmware in {dir} did not run to the end ({r.Code}):\n{r.Output}");
        return r.Output;
    }

    /// <summary>"BENCH key value" lines of the firmware's console.</summary>
    private static Dictionary<string, List<long>> Values(string output)
    {
        var values = new Dictionary<string, List<long>>();
        foreach (Match m in Regex.Matches(output, @"BENCH (\w+) (\d+)"))
        {
            if (!values.TryGetValue(m.Groups[1].Value, out var list)) values[m.Groups[1].Value] = list = new List<long>();
            list.Add(long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        return values;
    }

    /// <summary>The firmware: paints the stack, runs each stored input once to warm up and once timed (the input is
    /// written into the workspace before each run, outside the timed region: the run reuses its bytes), compares the
    /// outputs in the workspace with TFLM's, prints "BENCH insns n" per input, "BENCH failures n", "BENCH stack n" (the
    /// firmware's high-water mark) and "BENCH model_stack n" (the first warm-up's model_run call alone).</summary>
    private static string MainSource(Graph graph, string folder, bool ioInWorkspace)
    {
        var c = new StringBuilder();
        c.AppendLine("#include <string.h>\n#include \"microtvm/platform.h\"\n#include \"model.h\"");
        bool tolerant = ModelCheckSource.ComparesWithTolerance(graph);
        // input{k}.bin holds every input back to back (graph order), output{k}.bin every output.
        for (int k = 0; k < 3; k++)
        {
            c.AppendLine(ModelCheckSource.ByteArray($"bench_input{k}", File.ReadAllBytes(Path.Combine(folder, $"input{k}.bin"))));
            c.AppendLine(ModelCheckSource.ByteArray($"bench_expected{k}", File.ReadAllBytes(Path.Combine(folder, $"output{k}.bin"))));
        }

        var offsets = new Dictionary<string, List<string>>
        {
            ["INPUT"] = ModelCheckSource.Offsets(ModelCheckSource.Sizes("MODEL", "INPUT", graph.Inputs.Count)),
            ["OUTPUT"] = ModelCheckSource.Offsets(ModelCheckSource.Sizes("MODEL", "OUTPUT", graph.Outputs.Count)),
        };
        string Offset(string kind, int index) => offsets[kind][index];
        string outputTotal = string.Join(" + ", graph.Outputs.Select((_, j) => $"MODEL_OUTPUT{j}_SIZE"));

        c.AppendLine($$"""
            static uint8_t workspace[MODEL_WORKSPACE_SIZE > 0 ? MODEL_WORKSPACE_SIZE : 1] __attribute__((aligned(16)));
            #if !MODEL_IO_IN_WORKSPACE
            static uint8_t output[{{outputTotal}}] __attribute__((aligned(16)));
            static model_inputs in;
            static const model_outputs out = { {{string.Join(", ", graph.Outputs.Select((_, j) => $"(model_output{j}_t*)(void*)(output + {Offset("OUTPUT", j)})"))}} };
            #define model_run(workspace) model_run(&in, &out, workspace)
            {{string.Join("\n", graph.Outputs.Select((_, j) => $"#define model_output{j}(workspace) ((void)(workspace), output + {Offset("OUTPUT", j)})"))}}
            #endif
            extern uint32_t __bss_end[];
            extern uint32_t __stack_top[];
            #define PAINT 0x5AA5C33Cu

            static void say(const char* key, uint64_t value) {
                microtvm_console_write("BENCH ", 6);
                microtvm_console_write(key, strlen(key));
                microtvm_console_write(" ", 1);
                microtvm_console_put_uint(value);
                microtvm_console_puts("");
            }

            /* Fills the unused stack (below this function's frame) with a pattern. */
            static void __attribute__((noinline)) paint_stack(void) {
                uint32_t* p = __bss_end;
                uint32_t* const limit = (uint32_t*)__builtin_frame_address(0) - 64;
                while (p < limit) *p++ = PAINT;
            }

            static uint32_t stack_used(void) {
                const uint32_t* p = __bss_end;
                while (p < __stack_top && *p == PAINT) ++p;
                return (uint32_t)((const uint8_t*)__stack_top - (const uint8_t*)p);
            }

            /* The firmware's high-water mark before run_measuring_stack painted over it. */
            static uint32_t stack_before_repaint;

            /* Runs the model once and returns the stack its entry call alone reached: the stack below this function's
               frame (the stack pointer at the call) is painted, all but 16 words (the least it reports), then the
               deepest word the call wrote is found. */
            static uint32_t __attribute__((noinline)) run_measuring_stack(void) {
                uint32_t* const frame = (uint32_t*)__builtin_frame_address(0);
                uint32_t* p = __bss_end;
                stack_before_repaint = stack_used();
                while (p < frame - 16) *p++ = PAINT;
                if (model_run(workspace) != 0) microtvm_abort("model_run failed");
                for (p = __bss_end; p < frame && *p == PAINT; ++p) {}
                return (uint32_t)((uint8_t*)frame - (uint8_t*)p);
            }

            #ifdef MICROTVM_TRACE
            static int tracing, last_operator = -1;
            static uint64_t last;
            void microtvm_trace(int operator_index, int tensor_id, const void* data, size_t bytes);
            void microtvm_trace(int operator_index, int tensor_id, const void* data, size_t bytes) {
                (void)tensor_id; (void)data; (void)bytes;
                if (tracing) {
                    /* One mark per operator: an operator that updates a state tensor traces it after its output. */
                    if (operator_index != last_operator) {
                        const uint64_t now = microtvm_timer_now();
                        say("op", microtvm_timer_ticks_to_ns(now - last));
                        last_operator = operator_index;
                    }
                    last = microtvm_timer_now();
                }
            }
            #endif

            /* A call, not an inlined memcpy: inlined into the unrolled loop, gcc emitted anonymous copies of the
               test vectors (counted as flash). */
            static void __attribute__((noinline, unused)) put(void* to, const void* from, unsigned bytes) {
                memcpy(to, from, bytes);
            }

            static int same(const uint8_t* a, const uint8_t* b, unsigned bytes) {
            {{(tolerant ? """
                unsigned i;
                for (i = 0; i < bytes / 4; ++i) {
                    float x, y, d, m;
                    memcpy(&x, a + 4 * i, 4); memcpy(&y, b + 4 * i, 4);
                    d = x > y ? x - y : y - x; m = y < 0 ? -y : y;
                    if (!(d <= 1e-5f * (1.0f + m))) return 0;
                }
                return 1;
            """ : "    return memcmp(a, b, bytes) == 0;")}}
            }

            /* Every output against its part of the expected vector. */
            static int mismatches(const uint8_t* expected) {
                int bad = 0;
            {{string.Join("\n", graph.Outputs.Select((_, j) => $"    bad += !same((const uint8_t*)model_output{j}(workspace), expected + {Offset("OUTPUT", j)}, MODEL_OUTPUT{j}_SIZE);"))}}
                return bad;
            }

            int main(void) {
                int failures = 0, k;
                paint_stack();
                for (k = 0; k < 3; ++k) {
                    uint64_t ticks;
                    const uint8_t* expected = k == 0 ? bench_expected0 : k == 1 ? bench_expected1 : bench_expected2;
                    const uint8_t* vector = k == 0 ? bench_input0 : k == 1 ? bench_input1 : bench_input2;
            """);
        // Each run from the initial state (TFLM's outputs are one inference after Reset()), outside the timed region.
        var writeInputs = new StringBuilder("        if (model_reset(workspace) != 0) microtvm_abort(\"model_reset failed\");\n");
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            writeInputs.AppendLine(ioInWorkspace
                ? $"        put(model_input{i}(workspace), vector + {Offset("INPUT", i)}, MODEL_INPUT{i}_SIZE);"
                : $"        in.input{i} = (const model_input{i}_t*)(const void*)(vector + {Offset("INPUT", i)});");
        }
        c.Append(writeInputs);
        c.AppendLine($$"""
                    if (k == 0) say("model_stack", run_measuring_stack());
                    else if (model_run(workspace) != 0) microtvm_abort("model_run failed");
                    failures += mismatches(expected);
            {{string.Join("\n", graph.Outputs.Select((_, j) => $"        memset((void*)model_output{j}(workspace), 0xA5, MODEL_OUTPUT{j}_SIZE); /* the timed run must write its own */"))}}
            """);
        c.Append(writeInputs);
        c.AppendLine("""
            #ifdef MICROTVM_TRACE
                    tracing = k == 0;
                    last_operator = -1;
                    last = microtvm_timer_now();
            #endif
                    microtvm_timer_start();
                    if (model_run(workspace) != 0) microtvm_abort("model_run failed");
                    ticks = microtvm_timer_stop();
            #ifdef MICROTVM_TRACE
                    tracing = 0;
            #endif
                    failures += mismatches(expected);
                    say("insns", microtvm_timer_ticks_to_ns(ticks));
                }
                say("failures", (uint64_t)failures);
                say("stack", stack_used() > stack_before_repaint ? stack_used() : stack_before_repaint);
                microtvm_console_puts("BENCH done");
                return failures;
            }
            """);
        return c.ToString();
    }
}

/// <summary>Sizes from the linked image: sections (arm-none-eabi-size -A) and symbols (arm-none-eabi-nm -S).</summary>
internal sealed record Elf(long Flash, long Data, long Bss, long Weights, long TestVectors, long ModelCode)
{
    public static Elf Read(string path)
    {
        var sections = Tool.Run("arm-none-eabi-size", new[] { "-A", path }, null, null).Output;
        long Section(string name) => Regex.Matches(sections, $@"^{Regex.Escape(name)}\s+(\d+)", RegexOptions.Multiline).Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        long data = Section(".data");
        long flash = Section(".text") + Section(".ARM.exidx") + Section(".init_array") + data;
        // readelf, not nm: the board's linker script places .rodata inside .text, so only the symbol type (OBJECT or
        // FUNC) tells constants from code.
        var symbols = Tool.Run("arm-none-eabi-readelf", new[] { "-sW", path }, null, null).Output;
        long weights = 0, vectors = 0, code = 0;
        // readelf -sW prints sizes of 100,000 bytes and more in hex (0x186a0).
        foreach (Match m in Regex.Matches(symbols, @"^\s*\d+:\s+[0-9a-f]+\s+(0x[0-9a-f]+|\d+)\s+(OBJECT|FUNC)\s+\w+\s+\w+\s+\S+\s+(\S+)\s*$", RegexOptions.Multiline))
        {
            string sizeText = m.Groups[1].Value;
            long size = sizeText.StartsWith("0x", StringComparison.Ordinal)
                ? long.Parse(sizeText[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.Parse(sizeText, CultureInfo.InvariantCulture);
            bool isObject = m.Groups[2].Value == "OBJECT";
            string name = m.Groups[3].Value;
            bool modelSymbol = Regex.IsMatch(name, @"^op\d+_") || name.StartsWith("model_", StringComparison.Ordinal);
            if (isObject && modelSymbol) weights += size;
            else if (isObject && name.StartsWith("bench_", StringComparison.Ordinal)) vectors += size;
            else if (!isObject && modelSymbol) code += size;
        }

        return new Elf(flash, data, Section(".bss"), weights, vectors, code);
    }
}

internal static class Tool
{
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, string? dir, IReadOnlyDictionary<string, string?>? env)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (dir is not null) info.WorkingDirectory = dir;
        if (env is not null) foreach (var (k, v) in env) info.Environment[k] = v;
        using var p = Process.Start(info)!;
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.WaitForExit();
        return (p.ExitCode, output.ToString());
    }
}

/// <summary>TFLM's figures (eng/benchmark/baselines, copied from the measurement described in its README).</summary>
internal sealed record Baselines(Dictionary<(string Cpu, string Variant, string Model), Dictionary<string, long>> Rows,
    Dictionary<(string Variant, string Model, int Op), long> M7PerOp)
{
    public static Baselines Load(string dir)
    {
        var rows = new Dictionary<(string, string, string), Dictionary<string, long>>();
        var lines = File.ReadAllLines(Path.Combine(dir, "tflm.csv"));
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            // Empty fields: figures not measured for that model (the library split of models added later).
            rows[(f[0], f[1], f[2])] = Enumerable.Range(3, header.Length - 3).Where(i => i < f.Length && f[i].Length > 0)
                .ToDictionary(i => header[i], i => long.Parse(f[i], CultureInfo.InvariantCulture));
        }

        var perOp = new Dictionary<(string, string, int), long>();
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "tflm-m7-per-op.csv")).Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            perOp[(f[1], f[2], int.Parse(f[3], CultureInfo.InvariantCulture))] = long.Parse(f[7], CultureInfo.InvariantCulture);
        }

        return new Baselines(rows, perOp);
    }

    public long? Get(string cpu, string variant, string model, string column) =>
        Rows.TryGetValue((cpu, variant, model), out var r) && r.TryGetValue(column, out var v) ? v : null;
}

internal static class Report
{
    public static void Print(IReadOnlyList<Result> results, Baselines b)
    {
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine("| board | model | ok | MicroTvm insns | TFLM ref | TFLM CMSIS-NN | ÷ CMSIS-NN | MAC/insn | model RAM B (workspace, I/O inside) | TFLM arena B | firmware RAM B (data+bss+stack) | stack B (firmware, model) | flash B | weights B | flash beyond weights B | TFLM flash beyond model B |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results.Where(r => r.Failure is not null))
            sb.AppendLine($"| {r.Board} | {r.Model} | FAILED: {r.Failure!.Replace("|", "\\|")} |");
        foreach (var r in results.Where(r => r.Failure is null))
        {
            long? refInsns = b.Get(r.Cpu, "ref", r.Model, "insns_max"), cmsis = b.Get(r.Cpu, "cmsis_nn", r.Model, "insns_max");
            long? arena = b.Get(r.Cpu, "cmsis_nn", r.Model, "arena");
            long? tflmFlash = b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_text") + b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_rodata") + b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_data");
            sb.AppendLine(Invariant($"| {r.Board} | {r.Model} | {(r.Correct ? "yes" : "NO")} | {r.InstructionsMax:N0} | {refInsns:N0} | {cmsis:N0} | {Ratio(r.InstructionsMax, cmsis)} | {(r.Macs > 0 ? ((double)r.Macs / r.InstructionsMax).ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {r.ModelRamBytes:N0} | {arena:N0} | {r.FirmwareRamBytes:N0} | {r.StackBytes:N0}, {r.ModelStackBytes:N0} | {r.FlashBytes - r.TestVectorBytes:N0} | {r.WeightsBytes:N0} | {r.FlashBeyondWeights:N0} | {tflmFlash:N0} |"));
        }

        if (results.Any(r => r.Tuned is not null))
        {
            sb.AppendLine();
            sb.AppendLine("tuned (dotnet build -t:Tune, then the build with its log)");
            sb.AppendLine("| board | model | ok | default insns | tuned insns | fewer | tuning wall s | signatures off default | flash B default, tuned |");
            sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results.Where(r => r.Tuned is not null))
            {
                var t = r.Tuned!;
                string ok = t.Failure is not null ? "FAILED: " + t.Failure.Replace("|", "\\|") : t.Correct ? "yes" : "NO";
                sb.AppendLine(Invariant($"| {r.Board} | {r.Model} | {ok} | {r.InstructionsMax:N0} | {t.InstructionsMax:N0} | {(r.InstructionsMax > 0 ? 1 - (double)t.InstructionsMax / r.InstructionsMax : 0):P1} | {t.Seconds:0} | {t.ChangedSignatures} of {t.Signatures} | {r.FlashBytes - r.TestVectorBytes:N0}, {t.FlashBytes:N0} |"));
            }
        }

        foreach (var r in results.Where(r => r.Operators is not null))
        {
            sb.AppendLine();
            sb.AppendLine($"per operator, {r.Board} {r.Model} (input 0)");
            sb.AppendLine("| op | kind | MACs | MicroTvm insns | MAC/insn | TFLM CMSIS-NN insns | ÷ CMSIS-NN |");
            sb.AppendLine("|---:|---|---:|---:|---:|---:|---:|");
            foreach (var o in r.Operators!)
            {
                long? cmsis = r.Cpu == "m7" && b.M7PerOp.TryGetValue(("cmsis_nn", r.Model, o.Index), out var v) ? v : null;
                sb.AppendLine(Invariant($"| {o.Index} | {o.Op} | {o.Macs:N0} | {o.Instructions:N0} | {(o.Macs > 0 && o.Instructions > 0 ? ((double)o.Macs / o.Instructions).ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {cmsis:N0} | {Ratio(o.Instructions, cmsis)} |"));
            }
        }

        var types = OperatorTypes(results);
        if (types.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("per operator type (every model with per-operator counts, input 0)");
            sb.AppendLine("| board | operator | operators | MACs | MicroTvm insns | MAC/insn | share of the board's insns |");
            sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
            foreach (var t in types)
                sb.AppendLine(Invariant($"| {t.Board} | {t.Op} | {t.Count:N0} | {t.Macs:N0} | {t.Instructions:N0} | {(t.Macs > 0 ? (t.MacsPerInstruction).ToString("0.00", CultureInfo.InvariantCulture) : "-")} | {t.Share:P1} |"));
        }

        Console.WriteLine(sb.ToString());
    }

    /// <summary>Per board and operator kind, summed over every model with per-operator counts: a regression in one kernel
    /// shows here even when the whole-model figures hide it.</summary>
    internal sealed record OperatorType(string Board, string Op, int Count, long Macs, long Instructions, double Share)
    {
        public double MacsPerInstruction => Instructions > 0 ? (double)Macs / Instructions : 0;
    }

    public static List<OperatorType> OperatorTypes(IReadOnlyList<Result> results) =>
        results.Where(r => r.Operators is not null).GroupBy(r => r.Board).SelectMany(board =>
        {
            long total = board.SelectMany(r => r.Operators!).Sum(o => o.Instructions);
            return board.SelectMany(r => r.Operators!).GroupBy(o => o.Op).Select(g => new OperatorType(board.Key, g.Key, g.Count(), g.Sum(o => o.Macs),
                g.Sum(o => o.Instructions), total > 0 ? (double)g.Sum(o => o.Instructions) / total : 0));
        }).OrderBy(t => t.Board, StringComparer.Ordinal).ThenByDescending(t => t.Instructions).ToList();

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Ratio(long ours, long? theirs) => theirs is > 0 ? ((double)ours / theirs.Value).ToString("0.00", CultureInfo.InvariantCulture) : "-";

    public static string Json(IReadOnlyList<Result> results, Baselines b)
    {
        var rows = results.Select(r => new
        {
            board = r.Board, cpu = r.Cpu, model = r.Model, outputs_match_tflm = r.Correct, failure = r.Failure,
            instructions_min = r.InstructionsMin, instructions_max = r.InstructionsMax, macs = r.Macs,
            tflm_ref_instructions = b.Get(r.Cpu, "ref", r.Model, "insns_max"),
            tflm_cmsis_nn_instructions = b.Get(r.Cpu, "cmsis_nn", r.Model, "insns_max"),
            ratio_to_cmsis_nn = b.Get(r.Cpu, "cmsis_nn", r.Model, "insns_max") is > 0 and var c ? Math.Round((double)r.InstructionsMax / c, 3) : (double?)null,
            workspace_bytes = r.WorkspaceBytes, io_in_workspace = r.IoInWorkspace, input_output_bytes = r.InputOutputBytes, model_ram_bytes = r.ModelRamBytes,
            tflm_arena_bytes = b.Get(r.Cpu, "cmsis_nn", r.Model, "arena"),
            data_bytes = r.DataBytes, bss_bytes = r.BssBytes, stack_high_water_bytes = r.StackBytes, model_stack_bytes = r.ModelStackBytes, firmware_ram_bytes = r.FirmwareRamBytes,
            flash_bytes = r.FlashBytes - r.TestVectorBytes, weights_bytes = r.WeightsBytes, model_code_bytes = r.ModelCodeBytes,
            flash_beyond_weights_bytes = r.FlashBeyondWeights, weight_layout = r.WeightLayout,
            tuned_outputs_match_tflm = r.Tuned?.Correct, tuned_instructions_max = r.Tuned?.InstructionsMax, tuned_failure = r.Tuned?.Failure,
            tuning_seconds = r.Tuned is { } t ? Math.Round(t.Seconds, 1) : (double?)null, tuned_signatures = r.Tuned?.Signatures,
            tuned_signatures_off_default = r.Tuned?.ChangedSignatures, tuned_flash_bytes = r.Tuned?.FlashBytes,
            tflm_flash_beyond_model_bytes = b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_text") + b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_rodata") + b.Get(r.Cpu, "cmsis_nn", r.Model, "fw_data"),
            operators = r.Operators?.Select(o => new
            {
                index = o.Index, op = o.Op, macs = o.Macs, instructions = o.Instructions,
                tflm_cmsis_nn_instructions = r.Cpu == "m7" && b.M7PerOp.TryGetValue(("cmsis_nn", r.Model, o.Index), out var v) ? v : (long?)null,
            }),
        });
        return JsonSerializer.Serialize(new
        {
            method = "QEMU 7.2 -icount shift=0; instructions per inference after one warm-up, max over the 3 stored inputs (outputs compared with TFLM's in the same run); RAM: model_ram_bytes = workspace_bytes + input_output_bytes (caller's I/O buffers outside the workspace; 0 with io_in_workspace: every model is compiled with IoInWorkspace, its inputs and outputs planned inside the workspace as TFLM's arena holds them), firmware .data + .bss + painted-stack high-water mark; model_stack_bytes = the stack the model's entry call alone reached (painted just before the first warm-up's call, at least 64); flash from the linked .elf without the benchmark's test vectors; weights = the model's constant arrays" +
                     (results.Any(r => r.Tuned is not null) ? "; tuned_* (--tuned): the same project after dotnet build -t:Tune (its trial budget per signature as given), built and run again with the tuning log; tuning_seconds = the Tune target's wall time (its tuning firmware builds and QEMU runs included); tuned_signatures = entries of the log, _off_default those whose schedule is not the default; tuned_failure when tuning failed or the tuned build took more instructions than the defaults" : ""),
            results = rows,
            operator_types = OperatorTypes(results).Select(t => new
            {
                board = t.Board, op = t.Op, operators = t.Count, macs = t.Macs, instructions = t.Instructions,
                macs_per_instruction = Math.Round(t.MacsPerInstruction, 3), share_of_instructions = Math.Round(t.Share, 4),
            }),
        }, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
