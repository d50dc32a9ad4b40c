using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using static MicroTvm.Testing.ModelCheckSource;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// A test main for one generated model: reads all inputs from one file (back to back, in the graph's input order, as
/// tests/models stores them), resets the model's state, runs the model once, writes all outputs to one file (back to
/// back), and (built with -DMICROTVM_TRACE) writes every operator's output, and every state tensor it updates, to
/// &lt;trace dir&gt;/t&lt;id&gt;.bin the moment it is produced — so intermediates are seen even when the plan later reuses
/// their memory. Usage: prog &lt;trace dir or -&gt; &lt;inputs file&gt; &lt;outputs file&gt;. Each input, output and the workspace
/// is malloc'd at its exact size, so AddressSanitizer catches any access outside a buffer or the workspace.
/// </summary>
public static class ModelHarness
{
    /// <summary>
    /// C helpers for a host test program: <c>load</c> reads exactly <c>bytes</c> bytes of a file into a malloc'd
    /// buffer, <c>save</c> writes a buffer to a file; either exits with 2 (load) or 3 (save) on failure.
    /// </summary>
    public const string LoadAndSaveFunctions = """
        static void* load(const char* path, size_t bytes) {
            unsigned char* data = (unsigned char*)malloc(bytes ? bytes : 1); FILE* f = fopen(path, "rb");
            if (data == NULL || f == NULL || fread(data, 1, bytes, f) != bytes) { fprintf(stderr, "bad input %s\n", path); exit(2); }
            fclose(f); return data;
        }
        static void save(const char* path, const void* data, size_t bytes) {
            FILE* f = fopen(path, "wb");
            if (f == NULL || fwrite(data, 1, bytes, f) != bytes) { fprintf(stderr, "cannot write %s\n", path); exit(3); }
            fclose(f);
        }
        """;

    /// <summary>
    /// Builds <paramref name="model"/> (compiled from <paramref name="modelName"/> in tests/models) with this harness
    /// and -DMICROTVM_TRACE for the host, runs it on the three stored inputs and asserts each output equals TensorFlow
    /// Lite Micro's (float32 results of float arithmetic within <see cref="WholeModelTests.FloatTolerance"/>).
    /// <paramref name="checkTrace"/> gets the folder of input 0's traced intermediates right after that run.
    /// </summary>
    public static void RunOnStoredInputs(string modelName, Graph graph, GeneratedModel model, string directoryName, Action<string> checkTrace)
    {
        var dir = Gcc.TemporaryDirectory(directoryName);
        model.WriteTo(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), model.Metadata.IoInWorkspace ? WorkspaceIoMainSource(model, graph) : MainSource(model, graph));
        Gcc.Build("gcc", Gcc.HostFlags + " -DMICROTVM_TRACE", new[] { model.SourceFile, "main.c" }, "model", dir);

        var folder = TestModels.Folder(modelName);
        var traceDir = Path.Combine(dir, "trace");
        Directory.CreateDirectory(traceDir);
        for (int k = 0; k < 3; k++)
        {
            var outputFile = Path.Combine(dir, $"ours{k}.bin");
            var (code, text) = Gcc.Run(Path.Combine(dir, "model"), $"{(k == 0 ? traceDir : "-")} {Path.Combine(folder, $"input{k}.bin")} {outputFile}", dir);
            Assert.True(code == 0, $"{modelName} input {k}: the generated program failed ({code}):\n{text}");
            if (k == 0) checkTrace(traceDir);
            var expected = TestModels.Outputs(modelName, graph, k);
            var ours = File.ReadAllBytes(outputFile);
            long offset = 0;
            for (int j = 0; j < graph.Outputs.Count; j++)
            {
                var output = graph.Outputs[j];
                var part = ours.Skip((int)offset).Take((int)output.ByteSize).ToArray();
                offset += output.ByteSize;
                string? difference = WholeModelTests.Difference(output, expected[j], part, WholeModelTests.ProducedByFloatArithmetic(graph, output));
                Assert.True(difference is null, $"{modelName} output {j} for input {k}: {difference}");
            }
        }
    }

    /// <summary>
    /// The same command line for a model compiled with <see cref="CompileOptions.IoInWorkspace"/>: the workspace is
    /// malloc'd at its exact size and filled with a poison pattern; the model's state is reset, the inputs are copied
    /// into the workspace, the model runs (traced); then, as the API documents, the state is reset and the inputs are
    /// written again and the model runs a second time in the now dirty workspace. The two runs' outputs must be equal
    /// (exit 5 otherwise); the second one is saved.
    /// </summary>
    public static string WorkspaceIoMainSource(GeneratedModel model, Graph graph) => Source(model, graph, ioInWorkspace: true);

    public static string MainSource(GeneratedModel model, Graph graph) => Source(model, graph, ioInWorkspace: false);

    private static string Source(GeneratedModel model, Graph graph, bool ioInWorkspace)
    {
        string n = model.Name, m = n.ToUpperInvariant();
        var w = new System.Text.StringBuilder();
        w.AppendLine($"#include \"{model.HeaderFile}\"");
        w.AppendLine("#include <stdio.h>");
        w.AppendLine("#include <stdlib.h>");
        w.AppendLine("#include <string.h>");
        w.AppendLine("static const char* trace_dir;");
        w.AppendLine("void microtvm_trace(int operator_index, int tensor_id, const void* data, size_t bytes);");
        w.AppendLine("void microtvm_trace(int operator_index, int tensor_id, const void* data, size_t bytes) {");
        w.AppendLine("    char path[4096]; FILE* f;");
        w.AppendLine("    (void)operator_index;");
        w.AppendLine("    if (trace_dir == NULL) return;");
        w.AppendLine("    snprintf(path, sizeof path, \"%s/t%d.bin\", trace_dir, tensor_id);");
        w.AppendLine("    f = fopen(path, \"wb\");");
        w.AppendLine("    if (f == NULL || fwrite(data, 1, bytes, f) != bytes) { fprintf(stderr, \"cannot write %s\\n\", path); exit(3); }");
        w.AppendLine("    fclose(f);");
        w.AppendLine("}");
        w.AppendLine(LoadAndSaveFunctions);
        var inputSizes = Sizes(m, "INPUT", graph.Inputs.Count);
        var outputSizes = Sizes(m, "OUTPUT", graph.Outputs.Count);
        string inputTotal = inputSizes.Count == 0 ? "0" : string.Join(" + ", inputSizes);
        w.AppendLine("int main(int argc, char** argv) {");
        w.AppendLine($"    unsigned char* all; FILE* f; void* workspace; int run; size_t offset;");
        w.AppendLine($"    void* input[{Math.Max(1, graph.Inputs.Count)}]; void* output[{Math.Max(1, graph.Outputs.Count)}]; void* first[{Math.Max(1, graph.Outputs.Count)}];");
        w.AppendLine($"    const size_t input_size[{Math.Max(1, graph.Inputs.Count)}] = {{ {(inputSizes.Count == 0 ? "0" : string.Join(", ", inputSizes))} }};");
        w.AppendLine($"    const size_t output_size[{Math.Max(1, graph.Outputs.Count)}] = {{ {(outputSizes.Count == 0 ? "0" : string.Join(", ", outputSizes))} }};");
        w.AppendLine($"    int k;");
        w.AppendLine("    if (argc != 4) { fprintf(stderr, \"usage: model <trace dir or -> <inputs> <outputs>\\n\"); return 1; }");
        w.AppendLine("    trace_dir = argv[1][0] == '-' ? NULL : argv[1];");
        w.AppendLine("    /* All inputs back to back: the file must hold exactly their bytes. */");
        w.AppendLine($"    all = (unsigned char*)load(argv[2], {inputTotal});");
        w.AppendLine("    f = fopen(argv[2], \"rb\");");
        w.AppendLine($"    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || ftell(f) != (long)({inputTotal})) {{ fprintf(stderr, \"bad input size %s\\n\", argv[2]); return 2; }}");
        w.AppendLine("    fclose(f);");
        w.AppendLine($"    for (k = 0, offset = 0; k < {m}_INPUT_COUNT; offset += input_size[k], k++) {{");
        w.AppendLine("        input[k] = malloc(input_size[k]);");
        w.AppendLine("        if (input[k] == NULL) return 2;");
        w.AppendLine("        memcpy(input[k], all + offset, input_size[k]);");
        w.AppendLine("    }");
        w.AppendLine($"    for (k = 0; k < {m}_OUTPUT_COUNT; k++) {{ output[k] = malloc(output_size[k]); first[k] = malloc(output_size[k]); if (output[k] == NULL || first[k] == NULL) return 2; }}");
        w.AppendLine($"    workspace = malloc({m}_WORKSPACE_SIZE);");
        w.AppendLine("    if (workspace == NULL) return 2;");
        w.AppendLine($"    memset(workspace, 0xA5, {m}_WORKSPACE_SIZE);");
        w.AppendLine($"    for (run = 0; run < {(ioInWorkspace ? 2 : 1)}; run++) {{");
        w.AppendLine("        /* Each stored output is one inference from the initial state (TFLM after Reset()). */");
        w.AppendLine("        {");
        w.Append(Inference(n, graph.Inputs.Count, graph.Outputs.Count, ioInWorkspace, i => $"input[{i}]", j => $"output[{j}]",
            (call, function) => $"{{ int status = {call}; if (status != 0) {{ fprintf(stderr, \"{function} returned %d\\n\", status); return 4; }} }}"));
        w.AppendLine("        }");
        w.AppendLine("        trace_dir = NULL;");
        w.AppendLine($"        for (k = 0; k < {m}_OUTPUT_COUNT; k++) {{");
        w.AppendLine("            if (run == 0) memcpy(first[k], output[k], output_size[k]);");
        w.AppendLine("            else if (memcmp(first[k], output[k], output_size[k]) != 0) { fprintf(stderr, \"output %d differs in the second run\\n\", k); return 5; }");
        w.AppendLine("        }");
        w.AppendLine("    }");
        w.AppendLine("    /* All outputs back to back. */");
        w.AppendLine($"    all = (unsigned char*)malloc({(outputSizes.Count == 0 ? "1" : string.Join(" + ", outputSizes))});");
        w.AppendLine("    if (all == NULL) return 2;");
        w.AppendLine($"    for (k = 0, offset = 0; k < {m}_OUTPUT_COUNT; offset += output_size[k], k++) memcpy(all + offset, output[k], output_size[k]);");
        w.AppendLine("    save(argv[3], all, offset);");
        w.AppendLine("    return 0;");
        w.AppendLine("}");
        return w.ToString();
    }
}
