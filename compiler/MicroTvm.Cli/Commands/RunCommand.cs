using System.CommandLine;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm run model.tflite --board mps2-an500 [--input x.bin …] [-o out/] [--profile] [--repeat N] [--json]</c>: on the
/// device through its RPC server (<see cref="BoardRun"/>). Without <c>--board</c>:
/// <c>microtvm run model.tflite --input x.bin [--input y.bin] -o outdir</c> runs the reference evaluator and writes
/// output0.bin, output1.bin, … (raw little-endian bytes, like the inputs); with <c>--all-tensors</c> also
/// t&lt;id&gt;.bin for every activation tensor. Nothing is written unless the whole run succeeds.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The .tflite model file." };
        var inputs = new Option<string[]>("--input", "-i")
        {
            Description = "A raw little-endian input tensor file; give one per model input, in order, or one file that holds them all back to back.",
            Arity = ArgumentArity.OneOrMore,
        };
        var outputDirectory = new Option<string>("--output", "-o") { Description = "Directory for output<k>.bin files." };
        var board = new Option<string?>("--board") { Description = "Run on this board (emulated: QEMU; real: with --port) through the on-device RPC server, check against the reference evaluator, report time and memory." };
        var name = new Option<string?>("--name") { Description = "With --board: the model's C name (default: model)." };
        var profile = new Option<bool>("--profile") { Description = "With --board: a profiling build; time per operator." };
        var repeat = new Option<int>("--repeat") { Description = "With --board: run N times (time: the minimum).", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "With --board: print the results as JSON." };
        var jsonFile = new Option<string?>("--json-file") { Description = "With --board: also write the JSON results to this file." };
        var sdk = new Option<string?>("--sdk") { Description = "With --board: the unpacked MicroTvm.Sdk to build with (default: MICROTVM_SDK, else the package this tool came with)." };
        var cache = new Option<string?>("--cache") { Description = "With --board: folder of the built server firmwares (default: MICROTVM_CACHE, else the user's local data folder)." };
        var port = new Option<string?>("--port") { Description = "With --board: the serial port of a real board (it is flashed first)." };
        var seed = new Option<int>("--seed") { Description = "With --board and no --input: seed of the random inputs.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "With --board: seconds to wait for each answer of the device.", DefaultValueFactory = _ => 10 };
        var ioInWorkspace = new Option<bool>("--io-in-workspace") { Description = "With --board: compile the model with its inputs and outputs inside the workspace." };
        var project = new Option<string?>("--project") { Description = "With --board: end with the line \"<project> -> <json file> (summary)\" that a build's terminal logger shows." };
        var allTensors = new Option<bool>("--all-tensors") { Description = "Also write t<id>.bin for every activation tensor (for layer-by-layer comparison)." };
        var command = new Command("run", "Run the model with the reference evaluator (bit-exact with TFLite's reference kernels) and write its outputs.")
        {
            model, inputs, outputDirectory, allTensors, board, name, profile, repeat, json, jsonFile, sdk, cache, port, seed, timeout, ioInWorkspace, project,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            return console.Guard(path, () =>
            {
                if (parse.GetValue(board) is { } boardName)
                    return BoardRun.Run(console, new BoardRunOptions(path, boardName, parse.GetValue(name), parse.GetValue(inputs) ?? Array.Empty<string>(),
                        parse.GetValue(outputDirectory), parse.GetValue(profile), parse.GetValue(repeat), parse.GetValue(json), parse.GetValue(jsonFile),
                        parse.GetValue(sdk), parse.GetValue(cache), parse.GetValue(port), parse.GetValue(seed), parse.GetValue(timeout), parse.GetValue(ioInWorkspace), parse.GetValue(project)));
                if (parse.GetValue(inputs) is not { Length: > 0 } || parse.GetValue(outputDirectory) == null)
                    throw new CompilerException(ErrorCodes.InvalidInputData, "give --input (one per model input) and -o, or --board to run on a device");
                var graph = TfliteImporter.Load(path, CustomOperators.WithoutImplementation); // the evaluator names each custom operator it cannot run (MTVM1091)
                var data = Inputs(graph, parse.GetValue(inputs)!, ErrorCodes.InvalidInputData, path);
                var values = ReferenceEvaluator.Run(graph, data);
                var files = graph.Outputs.Select((t, k) => ($"output{k}.bin", values[t])).ToList();
                if (parse.GetValue(allTensors))
                    files.AddRange(graph.Tensors.Where(t => !t.IsConstant && values.ContainsKey(t)).Select(t => ($"t{t.Id}.bin", values[t])));
                Write(parse.GetValue(outputDirectory)!, files);
                foreach (var (tensor, k) in graph.Outputs.Select((t, k) => (t, k)))
                    console.Output.WriteLine($"output{k}.bin  {tensor}  {Preview(tensor, values[tensor])}");
                return 0;
            });
        });
        return command;
    }

    /// <summary>The graph's inputs from <paramref name="files"/>: one file per input, or, for a model with several inputs,
    /// one file holding them all back to back in the graph's order (as tests/models stores them). A size that fits
    /// neither is <paramref name="code"/>, naming the file and what it needs.</summary>
    internal static IReadOnlyList<byte[]> Inputs(Graph graph, IReadOnlyList<string> files, string code, string model)
    {
        if (files.Count == 1 && graph.Inputs.Count > 1)
        {
            byte[] all = ReadInput(files[0]);
            long total = graph.Inputs.Sum(t => t.ByteSize);
            if (all.LongLength != total)
                throw new CompilerException(code, $"the model's {graph.Inputs.Count} inputs need {total} bytes back to back ({string.Join(" + ", graph.Inputs.Select(t => t.ByteSize))}), the file has {all.Length}") { File = files[0] };
            var parts = new List<byte[]>();
            int offset = 0;
            foreach (var t in graph.Inputs)
            {
                parts.Add(all[offset..(offset + (int)t.ByteSize)]);
                offset += (int)t.ByteSize;
            }

            return parts;
        }

        if (files.Count != graph.Inputs.Count)
            throw new CompilerException(code, $"the model has {graph.Inputs.Count} inputs but {files.Count} --input files were given (one per input, or one with all of them back to back)") { File = model };
        return files.Select((file, i) =>
        {
            byte[] bytes = ReadInput(file);
            if (bytes.Length != graph.Inputs[i].ByteSize)
                throw new CompilerException(code, $"input {i} {graph.Inputs[i]} needs {graph.Inputs[i].ByteSize} bytes, the file has {bytes.Length}") { File = file };
            return bytes;
        }).ToList();
    }

    /// <summary>An input file's bytes; unreadable = MTVM2002 naming the file (also for <c>run --board</c>).</summary>
    internal static byte[] ReadInput(string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CompilerException(ErrorCodes.InvalidInputData, $"cannot read the input file: {e.Message}") { File = file };
        }
    }

    /// <summary>Writes each file beside its target, then renames it; failure = MTVM1012 (also for <c>run --board</c>).</summary>
    internal static void Write(string directory, IEnumerable<(string Name, byte[] Bytes)> files)
    {
        try
        {
            Directory.CreateDirectory(directory);
            foreach (var (name, bytes) in files)
            {
                // Write beside, then rename: a reader never sees a half-written file.
                string target = Path.Combine(directory, name);
                File.WriteAllBytes(target + ".tmp", bytes);
                File.Move(target + ".tmp", target, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CompilerException(ErrorCodes.OutputUnwritable, $"cannot write the outputs: {e.Message}") { File = directory };
        }
    }

    private static string Preview(Tensor tensor, byte[] bytes)
    {
        int count = (int)Math.Min(tensor.ElementCount, 12);
        var values = Enumerable.Range(0, count).Select(i => tensor.Type switch
        {
            ElementType.Float32 => BitConverter.ToSingle(bytes, 4 * i).ToString("G7", System.Globalization.CultureInfo.InvariantCulture),
            ElementType.Int8 => ((sbyte)bytes[i]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementType.UInt8 or ElementType.Bool => bytes[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementType.Int16 => BitConverter.ToInt16(bytes, 2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementType.Int32 => BitConverter.ToInt32(bytes, 4 * i).ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => BitConverter.ToInt64(bytes, 8 * i).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return "[" + string.Join(", ", values) + (tensor.ElementCount > count ? ", …]" : "]");
    }
}
