using System.CommandLine;
using System.Globalization;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;
using MicroTvm.Compiler.Tuning;

namespace MicroTvm.Cli.Commands;

/// <summary>
/// <c>microtvm compile model.tflite --target cortex-m7 [--name kws] [--portable-kernels] [--io-in-workspace] [--custom-op NAME[:SCRATCH_BYTES]]... [--diagnostics-file errors.jsonl] [--format c|library [--custom-op-source op.c]...] -o outdir</c>:
/// generates &lt;name&gt;.c, &lt;name&gt;.h, &lt;name&gt;.json and &lt;name&gt;.plan.svg (or, with <c>--format library</c>, a C library
/// folder: <see cref="ModelLibrary"/>) and prints the memory figures. Nothing is written unless compilation succeeds.
/// </summary>
public static class CompileCommand
{
    public static Command Create(CliConsole console)
    {
        var model = new Argument<string>("model") { Description = "The .tflite model file." };
        var target = new Option<string>("--target", "-t")
        {
            Description = "Target CPU: " + string.Join(", ", Targets.All.Select(t => t.Name)) + ".",
            DefaultValueFactory = _ => "host",
        };
        var name = new Option<string?>("--name", "-n") { Description = "C prefix and file name (default: the model file name)." };
        var outputDirectory = new Option<string>("--output", "-o") { Description = "Directory for the generated files.", Required = true };
        var portable = new Option<bool>("--portable-kernels") { Description = "Only the portable C kernels, also where the target has DSP/MVE ones." };
        var ioInWorkspace = new Option<bool>("--io-in-workspace")
        {
            Description = "Plan the inputs and outputs inside the workspace (<name>_run(workspace), <name>_input0(workspace), ...) instead of caller buffers.",
        };
        var diagnostics = new Option<string?>("--diagnostics-file")
        {
            Description = "Also write each error as a line of JSON ({\"code\", \"file\", \"message\"}) to this file, for build tools.",
        };
        var tuningLog = new Option<string?>("--tuning-log")
        {
            Description = "A tuning log (microtvm tune, docs/tuning.md): each operator whose signature it lists gets the logged schedule.",
        };
        var gccFlags = new Option<string?>("--gcc-flags")
        {
            Description = "The flags that will compile the generated C (write --gcc-flags=\"-mcpu=...\"); they must build for the target (MTVM1013).",
        };
        var weightLayout = new Option<string>("--weight-layout")
        {
            Description = "How kernels with the choice store weights: speed (widened int16 filters on the DSP kernels, the default) or size (compact int8). A tuning log entry's layout wins (docs/tuning.md).",
            DefaultValueFactory = _ => "speed",
        };
        weightLayout.AcceptOnlyFromAmong("speed", "size");
        var format = new Option<string>("--format")
        {
            Description = "c: the generated files into the output folder. library: a C library folder for firmware built elsewhere " +
                "(include/, src/, lib/<cpu>/lib<name>.a prebuilt with gcc and ar, CMakeLists.txt, README.md).",
            DefaultValueFactory = _ => "c",
        };
        format.AcceptOnlyFromAmong("c", "library");
        var toolchain = new Option<string?>("--toolchain") { Description = "With --format library: the folder of arm-none-eabi-gcc and arm-none-eabi-ar (default: PATH)." };
        var customOps = new Option<string[]>("--custom-op")
        {
            Description = "A custom operator whose C implementation you compile with the model: NAME (its custom_code) or NAME:SCRATCH_BYTES; once per operator (docs/generated-c.md).",
            Arity = ArgumentArity.OneOrMore,
        };
        var customOpSources = new Option<string[]>("--custom-op-source")
        {
            Description = "With --format library: a C file implementing custom operators, put into the library (src/operators/, compiled into the archive); once per file.",
            Arity = ArgumentArity.OneOrMore,
        };
        var projectFile = new Option<string?>("--project-file") { Description = "The project that supplies the custom operators, named in the message of a missing one." };
        var command = new Command("compile", "Compile the model to C: an ahead-of-time entry point, a static memory plan and weights as const data.")
        {
            model, target, name, outputDirectory, portable, ioInWorkspace, diagnostics, tuningLog, weightLayout, gccFlags, customOps, customOpSources, projectFile, format, toolchain,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!;
            return console.Guard(path, () =>
            {
                var custom = new CustomOperators((parse.GetValue(customOps) ?? Array.Empty<string>()).Select(CustomOperator.Parse), parse.GetValue(projectFile));
                var graph = TfliteImporter.Load(path, custom);
                var log = parse.GetValue(tuningLog) is { Length: > 0 } logPath ? TuningLog.Load(logPath) : null;
                var generated = ModelCompiler.Compile(graph, new CompileOptions(parse.GetValue(target)!, parse.GetValue(name), parse.GetValue(portable), parse.GetValue(ioInWorkspace), log, parse.GetValue(gccFlags),
                    parse.GetValue(weightLayout) == "size" ? WeightLayout.Size : WeightLayout.Speed));
                foreach (var warning in generated.Warnings) console.Warn(warning, parse.GetValue(diagnostics));
                string directory = parse.GetValue(outputDirectory)!;
                IEnumerable<string> written;
                if (parse.GetValue(format) == "library")
                {
                    written = ModelLibrary.Write(generated, directory, parse.GetValue(gccFlags), parse.GetValue(toolchain),
                        custom.All.ToList(), parse.GetValue(customOpSources) ?? Array.Empty<string>());
                }
                else
                {
                    try
                    {
                        generated.WriteTo(directory);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                    {
                        throw new CompilerException(ErrorCodes.OutputUnwritable, $"cannot write the generated files: {e.Message}") { File = directory };
                    }
                    written = generated.Files.Keys.Order(StringComparer.Ordinal).Select(file => Path.Combine(directory, file));
                }

                var m = generated.Metadata;
                string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
                foreach (var file in written)
                    console.Output.WriteLine(file);
                console.Output.WriteLine($"target            {m.Target}");
                console.Output.WriteLine($"operators         {m.Operators.Count}, {N(m.Macs)} MACs");
                console.Output.WriteLine($"workspace         {N(m.WorkspaceBytes)} bytes (lower bound {N(m.WorkspaceLowerBoundBytes)}, greedy-by-size {N(m.GreedyBySizeBytes)}; {m.PlannerStrategy})");
                if (m.StateBytes > 0)
                    console.Output.WriteLine($"state             {N(m.StateBytes)} bytes (variable tensors, at the start of the workspace, kept between runs)");
                console.Output.WriteLine(m.IoInWorkspace
                    ? $"inputs + outputs  {N(m.Inputs.Concat(m.Outputs).DistinctBy(io => io.Tensor).Sum(io => io.Bytes))} bytes (inside the workspace)"
                    : $"inputs + outputs  {N(m.InputOutputBytes)} bytes (caller's buffers)");
                console.Output.WriteLine($"activation bound  {N(m.ActivationLowerBoundBytes)} bytes (inputs and outputs included, no in-place reuse)");
                console.Output.WriteLine($"constant data     {N(m.WeightsBytes)} bytes{(m.WeightLayout is { } layout ? $" (weights {layout})" : "")}");
                return 0;
            }, parse.GetValue(diagnostics));
        });
        return command;
    }
}
