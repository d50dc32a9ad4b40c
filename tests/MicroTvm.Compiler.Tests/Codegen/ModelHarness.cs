using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// A test main for one generated model: reads each input from a file, runs the model once, writes each output to a
/// file, and (built with -DMICROTVM_TRACE) writes every operator's output to &lt;trace dir&gt;/t&lt;id&gt;.bin the moment it
/// is produced — so intermediates are seen even when the plan later reuses their memory.
/// Usage: prog &lt;trace dir or -&gt; &lt;input files…&gt; &lt;output files…&gt;. Buffers are malloc'd at their exact sizes, so
/// AddressSanitizer catches any access outside a buffer or the workspace.
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
            var output = graph.Outputs[0];
            string? difference = WholeModelTests.Difference(output, File.ReadAllBytes(Path.Combine(folder, $"output{k}.bin")), File.ReadAllBytes(outputFile),
                WholeModelTests.ProducedByFloatArithmetic(graph, output));
            Assert.True(difference is null, $"{modelName} output for input {k}: {difference}");
        }
    }

    /// <summary>
    /// The same command line for a model compiled with <see cref="CompileOptions.IoInWorkspace"/>: the workspace is
    /// malloc'd at its exact size and filled with a poison pattern; the inputs are loaded into the workspace, the model
    /// runs (traced); then, as the API documents, the inputs are written again and the model runs a second time in
    /// the now dirty workspace. The two runs' outputs must be equal (exit 5 otherwise); the second one is saved.
    /// </summary>
    public static string WorkspaceIoMainSource(GeneratedModel model, Graph graph)
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
        w.AppendLine("int main(int argc, char** argv) {");
        w.AppendLine($"    void* workspace; void* first[{m}_OUTPUT_COUNT]; int run;");
        w.AppendLine($"    if (argc != 2 + {m}_INPUT_COUNT + {m}_OUTPUT_COUNT) {{ fprintf(stderr, \"usage\\n\"); return 1; }}");
        w.AppendLine("    trace_dir = argv[1][0] == '-' ? NULL : argv[1];");
        w.AppendLine($"    workspace = malloc({m}_WORKSPACE_SIZE);");
        w.AppendLine("    if (workspace == NULL) return 2;");
        w.AppendLine($"    memset(workspace, 0xA5, {m}_WORKSPACE_SIZE);");
        w.AppendLine("    for (run = 0; run < 2; run++) {");
        for (int k = 0; k < graph.Inputs.Count; k++)
        {
            w.AppendLine($"        {{ void* data = load(argv[{2 + k}], {m}_INPUT{k}_SIZE);");
            w.AppendLine($"          memcpy({n}_input{k}(workspace), data, {m}_INPUT{k}_SIZE); free(data); }}");
        }

        w.AppendLine($"        if ({n}_run(workspace) != 0) {{ fprintf(stderr, \"run failed\\n\"); return 4; }}");
        w.AppendLine("        trace_dir = NULL;");
        for (int k = 0; k < graph.Outputs.Count; k++)
        {
            w.AppendLine($"        if (run == 0) {{ first[{k}] = malloc({m}_OUTPUT{k}_SIZE); memcpy(first[{k}], {n}_output{k}(workspace), {m}_OUTPUT{k}_SIZE); }}");
            w.AppendLine($"        else if (memcmp(first[{k}], {n}_output{k}(workspace), {m}_OUTPUT{k}_SIZE) != 0) {{ fprintf(stderr, \"output {k} differs in the second run\\n\"); return 5; }}");
        }

        w.AppendLine("    }");
        for (int k = 0; k < graph.Outputs.Count; k++)
            w.AppendLine($"    save(argv[{2 + graph.Inputs.Count + k}], {n}_output{k}(workspace), {m}_OUTPUT{k}_SIZE);");
        w.AppendLine("    return 0;");
        w.AppendLine("}");
        return w.ToString();
    }

    public static string MainSource(GeneratedModel model, Graph graph)
    {
        string n = model.Name, m = n.ToUpperInvariant();
        var w = new System.Text.StringBuilder();
        w.AppendLine($"#include \"{model.HeaderFile}\"");
        w.AppendLine("#include <stdio.h>");
        w.AppendLine("#include <stdlib.h>");
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
        w.AppendLine("static void* load(const char* path, size_t bytes) {");
        w.AppendLine("    unsigned char* data = (unsigned char*)malloc(bytes ? bytes : 1); FILE* f = fopen(path, \"rb\");");
        w.AppendLine("    if (data == NULL || f == NULL || fread(data, 1, bytes, f) != bytes || fgetc(f) != EOF) { fprintf(stderr, \"bad input %s\\n\", path); exit(2); }");
        w.AppendLine("    fclose(f); return data;");
        w.AppendLine("}");
        w.AppendLine("static void save(const char* path, const void* data, size_t bytes) {");
        w.AppendLine("    FILE* f = fopen(path, \"wb\");");
        w.AppendLine("    if (f == NULL || fwrite(data, 1, bytes, f) != bytes) { fprintf(stderr, \"cannot write %s\\n\", path); exit(3); }");
        w.AppendLine("    fclose(f);");
        w.AppendLine("}");
        w.AppendLine("int main(int argc, char** argv) {");
        w.AppendLine($"    {n}_inputs inputs; {n}_outputs outputs; void* workspace; int status;");
        w.AppendLine($"    if (argc != 2 + {m}_INPUT_COUNT + {m}_OUTPUT_COUNT) {{ fprintf(stderr, \"usage\\n\"); return 1; }}");
        w.AppendLine("    trace_dir = argv[1][0] == '-' ? NULL : argv[1];");
        for (int k = 0; k < graph.Inputs.Count; k++)
            w.AppendLine($"    inputs.input{k} = ({n}_input{k}_t*)load(argv[{2 + k}], {m}_INPUT{k}_SIZE);");
        for (int k = 0; k < graph.Outputs.Count; k++)
            w.AppendLine($"    outputs.output{k} = ({n}_output{k}_t*)malloc({m}_OUTPUT{k}_SIZE);");
        w.AppendLine($"    workspace = malloc({m}_WORKSPACE_SIZE ? {m}_WORKSPACE_SIZE : 1);");
        w.AppendLine($"    status = {n}_run(&inputs, &outputs, workspace);");
        w.AppendLine("    if (status != 0) { fprintf(stderr, \"run returned %d\\n\", status); return 4; }");
        for (int k = 0; k < graph.Outputs.Count; k++)
            w.AppendLine($"    save(argv[{2 + graph.Inputs.Count + k}], outputs.output{k}, {m}_OUTPUT{k}_SIZE);");
        w.AppendLine("    return 0;");
        w.AppendLine("}");
        return w.ToString();
    }
}
