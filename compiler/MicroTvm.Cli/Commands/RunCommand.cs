using System.CommandLine;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm run model.tflite --input x.bin [--input y.bin] -o outdir</c>: runs the reference evaluator and writes
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
            Description = "A raw little-endian input tensor file; give one per model input, in order.",
            Arity = ArgumentArity.OneOrMore,
            Required = true,
        };
        var outputDirectory = new Option<string>("--output", "-o") { Description = "Directory for output<k>.bin files.", Required = true };
        var allTensors = new Option<bool>("--all-tensors") { Description = "Also write t<id>.bin for every activation tensor (for layer-by-layer comparison)." };
        var command = new Command("run", "Run the model with the reference evaluator (bit-exact with TFLite's reference kernels) and write its outputs.")
        {
            model, inputs, outputDirectory, allTensors,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            return console.Guard(path, () =>
            {
                var graph = TfliteImporter.Load(path);
                var data = parse.GetValue(inputs)!.Select(ReadInput).ToArray();
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

    private static byte[] ReadInput(string file)
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

    private static void Write(string directory, IEnumerable<(string Name, byte[] Bytes)> files)
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
