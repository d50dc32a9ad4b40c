using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// <see cref="CompileOptions.IoInWorkspace"/>: the graph's inputs and outputs are planned inside the workspace.
/// Every model runs on the host (ASan+UBSan, the workspace malloc'd at its exact size) from the accessors, twice in
/// the same workspace per input, and must match TensorFlow Lite Micro's outputs and intermediates.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class WorkspaceIoTests
{
    public static IEnumerable<object[]> Models() => TestModels.All();

    [Theory]
    [MemberData(nameof(Models))]
    public void ModelsMatchTfliteMicroWithInputsAndOutputsInTheWorkspace(string modelName)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        var model = ModelCompiler.Compile(graph, new CompileOptions("host", modelName, IoInWorkspace: true));
        Assert.True(model.Metadata.IoInWorkspace);
        Assert.Contains($"int {modelName}_run(void* workspace);", model.Files[model.HeaderFile]);
        var folder = TestModels.Folder(modelName);
        ModelHarness.RunOnStoredInputs(modelName, graph, model, "wsio-" + modelName, traceDir => WholeModelTests.CompareIntermediates(graph, folder, traceDir));
    }

    /// <summary>Placing the inputs and outputs in the workspace never needs more RAM than caller buffers beside the
    /// workspace, and for a model whose inputs die early (ad_toycar: float input read once by its QUANTIZE, output
    /// written only by the last operator) it needs less.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void WorkspaceWithInputsAndOutputsIsNoLargerThanWorkspacePlusBuffers(string modelName)
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath(modelName));
        foreach (var target in new[] { "cortex-m7", "cortex-m4", "cortex-m55" })
        {
            var outside = ModelCompiler.Compile(graph, new CompileOptions(target, modelName)).Metadata;
            var inside = ModelCompiler.Compile(graph, new CompileOptions(target, modelName, IoInWorkspace: true)).Metadata;
            long ioBytes = graph.Inputs.Concat(graph.Outputs).Distinct().Sum(t => t.ByteSize);
            Assert.Equal(ioBytes, outside.InputOutputBytes);
            Assert.Equal(0, inside.InputOutputBytes);
            // Inside the workspace every input and output starts at an aligned offset: compare with aligned buffers.
            long align = outside.WorkspaceAlignment;
            long separate = outside.WorkspaceBytes + graph.Inputs.Concat(graph.Outputs).Distinct().Sum(t => (t.ByteSize + align - 1) / align * align);
            Assert.True(inside.WorkspaceBytes <= separate, $"{modelName} on {target}: {inside.WorkspaceBytes} bytes with I/O inside > {separate} beside");
            // Every input and output is somewhere in the workspace, so it holds at least the largest of them.
            Assert.True(inside.WorkspaceBytes >= graph.Inputs.Concat(graph.Outputs).Max(t => t.ByteSize));
            if (modelName == "ad_toycar")
                Assert.True(inside.WorkspaceBytes < separate, $"ad_toycar on {target}: {inside.WorkspaceBytes} bytes with I/O inside, {separate} beside");
        }
    }

    /// <summary>A model whose one operator reads the caller's input and writes the caller's output needs no workspace:
    /// its size is still one alignment unit (a zero-length array does not compile), and the run rejects NULL.</summary>
    [Fact]
    public void AModelWithoutWorkspaceStillAsksForOneAndRejectsNull()
    {
        var b = new Reference.GraphBuilder();
        var x = b.Input(ElementType.Float32, new[] { 1, 4 });
        var y = b.Tensor(ElementType.Float32, new[] { 1, 4 });
        b.Op(OpKind.Relu, NoAttributes.Instance, new[] { x }, y);
        var model = ModelCompiler.Compile(b.Build(y), new CompileOptions("host", "plain"));
        Assert.Equal(0, model.Metadata.WorkspaceBytes);
        Assert.Contains("#define PLAIN_WORKSPACE_SIZE 16\n", model.Files["plain.h"]);
        var dir = Gcc.TemporaryDirectory("no-workspace");
        model.WriteTo(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), """
            #include "plain.h"
            static uint8_t workspace[PLAIN_WORKSPACE_SIZE];
            int main(void) {
                const float x[4] = { -1.0f, 2.0f, -3.0f, 4.0f };
                float y[4];
                plain_inputs in = { x };
                plain_outputs out = { y };
                if (plain_run(&in, &out, NULL) != -1) return 1;
                if (plain_run(&in, &out, workspace) != 0) return 2;
                return y[0] == 0.0f && y[1] == 2.0f && y[2] == 0.0f && y[3] == 4.0f ? 0 : 3;
            }
            """);
        Gcc.Build("gcc", Gcc.HostFlags, new[] { "main.c", "plain.c" }, "plain", dir);
        var (code, output) = Gcc.Run(Path.Combine(dir, "plain"), "", dir);
        Assert.True(code == 0, $"exit {code}: {output}");
    }

    [Fact]
    public void HeaderOffersAccessorsAndOffsetsInsteadOfBufferStructs()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("ad_toycar"));
        var model = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "ad", IoInWorkspace: true));
        string header = model.Files["ad.h"];
        var input = model.Metadata.Inputs.Single();
        var output = model.Metadata.Outputs.Single();
        Assert.Contains("#define AD_IO_IN_WORKSPACE 1", header);
        Assert.Contains($"#define AD_INPUT0_OFFSET {input.Offset}", header);
        Assert.Contains($"#define AD_OUTPUT0_OFFSET {output.Offset}", header);
        Assert.Contains("static inline ad_input0_t* ad_input0(void* workspace)", header);
        Assert.Contains("static inline const ad_output0_t* ad_output0(const void* workspace)", header);
        Assert.DoesNotContain("ad_inputs", header);
        Assert.DoesNotContain("ad_inputs", model.Files["ad.c"]);
        Assert.Equal(0, input.Offset!.Value % model.Metadata.WorkspaceAlignment);
        Assert.Equal(0, output.Offset!.Value % model.Metadata.WorkspaceAlignment);

        var separate = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "ad")).Files["ad.h"];
        Assert.Contains("#define AD_IO_IN_WORKSPACE 0", separate);
        Assert.DoesNotContain("_OFFSET", separate);
    }
}
