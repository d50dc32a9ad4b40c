using System.CommandLine;
using System.Globalization;
using MicroTvm.Compiler.Analysis;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Cli.Commands;

/// <summary><c>microtvm inspect model.tflite</c>: the operator table and the model's cost figures.</summary>
public static class InspectCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The .tflite model file." };
        var command = new Command("inspect", "Print the model's operators (shapes, types, quantization, MACs) and its parameter bytes, MACs and activation-memory lower bound.")
        {
            model,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            return console.Guard(path, () =>
            {
                Graph graph;
                try
                {
                    graph = TfliteImporter.Load(path);
                }
                catch (CompilerException) when (ReadableHeader(path) is { } readable)
                {
                    // The compiler rejects the model, but the file can be read: show what it holds, operator by
                    // operator, marking each that the compiler cannot take; the rejection follows as the error.
                    WriteSurvey(readable, path, console.Output);
                    throw;
                }

                Write(graph, TfliteModel.Read(File.ReadAllBytes(path)), console.Output);
                return 0;
            });
        });
        return command;
    }

    /// <summary>Writes the report for <paramref name="graph"/>; <paramref name="header"/> adds the file's version and description.</summary>
    public static void Write(Graph graph, TfliteModel? header, TextWriter output)
    {
        var stats = GraphStats.Compute(graph);
        output.WriteLine($"model '{UntrustedText.ForDisplay(graph.Name)}'" + (graph.SourcePath is null ? "" : $" from {graph.SourcePath}"));
        if (header is not null)
            output.WriteLine($"TFLite schema {header.Version}, {header.SubGraphs.Count} subgraph(s), description \"{UntrustedText.ForDisplay(header.Description ?? "")}\"" +
                (header.Metadata.Count == 0 ? "" : ", metadata: " + string.Join(", ", header.Metadata.Select(m => UntrustedText.ForDisplay(m.Name)))));
        output.WriteLine($"{graph.Nodes.Count} operators, {graph.Tensors.Count} tensors ({graph.Tensors.Count(t => t.IsConstant)} constant; operands folded into options not counted)");
        foreach (var input in graph.Inputs) output.WriteLine($"input  {Describe(input)}");
        foreach (var result in graph.Outputs) output.WriteLine($"output {Describe(result)}");
        output.WriteLine();

        var table = new TextTable("#", "operator", "options", "input", "weights / constants", "output", "output quantization", "MACs");
        foreach (var op in stats.Operators)
        {
            var node = op.Node;
            var activations = node.Inputs.Where(t => t is { IsConstant: false }).Select(t => Shape(t!));
            var constants = node.Inputs.Select(t => t is null ? "-" : t.IsConstant ? Shape(t) + PerChannel(t) : null).Where(s => s is not null);
            table.Add(
                node.Index.ToString(CultureInfo.InvariantCulture),
                node.Kind.Name,
                node.Attributes.Describe(),
                string.Join(", ", activations),
                string.Join(", ", constants),
                string.Join(", ", node.Outputs.Select(Shape)),
                Quantization(node.Output.Quantization),
                op.Macs == 0 ? "" : Number(op.Macs));
        }

        table.Write(output, rightAligned: new[] { 0, 7 });
        output.WriteLine();
        output.WriteLine($"parameter bytes:         {Number(stats.ParameterBytes),12}");
        output.WriteLine($"MACs:                    {Number(stats.TotalMacs),12}");
        output.WriteLine($"activation lower bound:  {Number(stats.ActivationLowerBound),12} bytes (largest sum of live activations at one operator)");
    }

    private static TfliteModel? ReadableHeader(string path)
    {
        try
        {
            return TfliteModel.Read(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is CompilerException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The operators of a model the compiler rejects, as stored, each marked ok or with its error.</summary>
    public static void WriteSurvey(TfliteModel model, string path, TextWriter output)
    {
        var operators = TfliteImporter.Survey(model, path);
        output.WriteLine($"model from {path} (TFLite schema {model.Version}, {model.SubGraphs.Count} subgraph(s)): not compilable; what can be read of it:");
        var table = new TextTable("#", "operator", "inputs", "outputs", "status");
        foreach (var op in operators)
        {
            table.Add(
                op.Index.ToString(CultureInfo.InvariantCulture),
                UntrustedText.ForDisplay(op.Name),
                string.Join(", ", op.Inputs.Select(RawShape)),
                string.Join(", ", op.Outputs.Select(RawShape)),
                op.Error is null ? "ok" : $"error {op.Error.Code}");
        }

        table.Write(output, rightAligned: new[] { 0 });
        int failed = operators.Count(o => o.Error is not null);
        output.WriteLine();
        output.WriteLine($"{failed} of {operators.Count} operators cannot be compiled{(failed == 0 ? " (the model fails as a whole: see the error)" : ":")}");
        foreach (var op in operators.Where(o => o.Error is not null))
            output.WriteLine($"  {op.Error!.Message}");
    }

    private static string RawShape(TfliteTensor? tensor) => tensor is null
        ? "-"
        : $"{tensor.TypeName}[{string.Join(",", tensor.Shape)}]";

    private static string Describe(Tensor tensor) =>
        $"t{tensor.Id} '{UntrustedText.ForDisplay(tensor.Name)}' {Shape(tensor)}" + (tensor.Quantization is null ? "" : " " + Quantization(tensor.Quantization));

    private static string Shape(Tensor tensor) => tensor.Type.DisplayName() + tensor.ShapeText;

    private static string PerChannel(Tensor tensor) =>
        tensor.Quantization is { IsPerChannel: true } ? " per-ch" : "";

    private static string Quantization(QuantizationParameters? q) => q switch
    {
        null => "",
        { IsPerChannel: true } => $"per-channel dim {q.QuantizedDimension} x{q.Scales.Count}",
        _ => $"scale {q.Scale.ToString("G6", CultureInfo.InvariantCulture)} zp {q.ZeroPoints[0]}",
    };

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
