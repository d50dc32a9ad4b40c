using System.Text.RegularExpressions;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Tests.Reference;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Cli.CliRunner;

namespace MicroTvm.Compiler.Tests.Codegen;

[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class CompileCommandTests
{
    [Fact]
    public void CompileWritesSourcesHeaderAndMetadata()
    {
        var dir = Gcc.TemporaryDirectory("cli");
        var (exit, output, error) = Run("compile", TestModels.ModelPath("kws_dscnn"), "--target", "cortex-m7", "--name", "kws", "-o", dir);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Equal(new[] { "kws.c", "kws.h", "kws.json", "kws.plan.svg" }, Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray());
        // 16,000 bytes of activations plus the largest scratch of a DSP kernel (384 bytes), in the workspace, not on the stack.
        Assert.Matches(@"workspace\s+16,384 bytes \(lower bound 16,384", output);
        Assert.Matches(@"activation bound\s+16,000 bytes", output);
        var metadata = ModelMetadata.FromJson(File.ReadAllText(Path.Combine(dir, "kws.json")));
        Assert.Equal("cortex-m7", metadata.Target);
        Assert.Equal(2_656_768, metadata.Macs);
        Assert.Equal(13, metadata.Operators.Count);
        Assert.Contains("#define KWS_WORKSPACE_SIZE 16384", File.ReadAllText(Path.Combine(dir, "kws.h")));
    }

    [Fact]
    public void PortableKernelsOptionLeavesOutTheDspKernels()
    {
        var dsp = Gcc.TemporaryDirectory("cli-dsp");
        var portable = Gcc.TemporaryDirectory("cli-portable");
        Assert.Equal(0, Run("compile", TestModels.ModelPath("kws_dscnn"), "--target", "cortex-m7", "--name", "kws", "-o", dsp).Exit);
        Assert.Equal(0, Run("compile", TestModels.ModelPath("kws_dscnn"), "--target", "cortex-m7", "--name", "kws", "--portable-kernels", "-o", portable).Exit);
        Assert.Contains("mtvm_widen", File.ReadAllText(Path.Combine(dsp, "kws.c")));
        Assert.DoesNotContain("mtvm_widen", File.ReadAllText(Path.Combine(portable, "kws.c")));
        // The same API; only the workspace differs, by the kernels' scratch (the portable convolution's columns are smaller).
        static string WithoutWorkspaceSize(string header) => Regex.Replace(header, @"#define KWS_WORKSPACE_SIZE \d+", "");
        Assert.Equal(WithoutWorkspaceSize(File.ReadAllText(Path.Combine(dsp, "kws.h"))), WithoutWorkspaceSize(File.ReadAllText(Path.Combine(portable, "kws.h"))));
        Assert.Contains("#define KWS_WORKSPACE_SIZE 16384", File.ReadAllText(Path.Combine(dsp, "kws.h")));
        Assert.Contains("#define KWS_WORKSPACE_SIZE 16256", File.ReadAllText(Path.Combine(portable, "kws.h")));
    }

    [Fact]
    public void IoInWorkspaceOptionPlansInputsAndOutputsInsideTheWorkspace()
    {
        var dir = Gcc.TemporaryDirectory("cli-wsio");
        var (exit, output, error) = Run("compile", TestModels.ModelPath("ad_toycar"), "--target", "cortex-m7", "--name", "ad", "--io-in-workspace", "-o", dir);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        var metadata = ModelMetadata.FromJson(File.ReadAllText(Path.Combine(dir, "ad.json")));
        var expected = ModelCompiler.Compile(TfliteImporter.Load(TestModels.ModelPath("ad_toycar")), new CompileOptions("cortex-m7", "ad", IoInWorkspace: true));
        Assert.True(metadata.IoInWorkspace);
        Assert.Equal(expected.Files["ad.h"], File.ReadAllText(Path.Combine(dir, "ad.h")));
        Assert.Contains("int ad_run(void* workspace);", File.ReadAllText(Path.Combine(dir, "ad.h")));
        Assert.Matches($@"workspace\s+{metadata.WorkspaceBytes:N0} bytes", output);
        Assert.Matches(@"inputs \+ outputs\s+5,120 bytes \(inside the workspace\)", output);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var graph = TfliteImporter.Load(TestModels.ModelPath("ic_resnet8"));
        var first = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "ic"));
        var second = ModelCompiler.Compile(TfliteImporter.Load(TestModels.ModelPath("ic_resnet8")), new CompileOptions("cortex-m7", "ic"));
        Assert.Equal(first.Files.Keys, second.Files.Keys);
        foreach (var (file, content) in first.Files) Assert.Equal(content, second.Files[file]);
    }

    [Fact]
    public void UnknownTargetIsAnErrorAndWritesNothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), "microtvm-tests", $"none-{Guid.NewGuid():N}");
        var (exit, output, error) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--target", "cortex-a53", "-o", dir);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("error MTVM2101: unknown target 'cortex-a53'", error);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void BadModelNameIsAnError()
    {
        var (exit, _, error) = Run("compile", TestModels.ModelPath("hello_world_int8"), "--name", "---", "-o", Path.GetTempPath());
        Assert.Equal(1, exit);
        Assert.Contains("error MTVM2103", error);
    }

    [Fact]
    public void UnsupportedOperatorNamesItsIndexKindAndReason()
    {
        var b = new GraphBuilder();
        var x = b.Input(ElementType.Float32, new[] { 1, 4, 4, 2 });
        var filter = b.Input(ElementType.Float32, new[] { 3, 1, 1, 2 });   // computed at run time: not compilable
        var y = b.Tensor(ElementType.Float32, new[] { 1, 4, 4, 3 });
        b.Op(OpKind.Conv2D, new Conv2DAttributes(Padding.Same, 1, 1, 1, 1, FusedActivation.None), new[] { x, filter, null }, y);
        var graph = b.Build(y);
        var e = Assert.Throws<CompilerException>(() => ModelCompiler.Compile(graph, new CompileOptions("cortex-m4", "m")));
        Assert.Equal(ErrorCodes.UnsupportedOperatorCodegen, e.Code);
        Assert.Equal(0, e.OperatorIndex);
        Assert.Equal("CONV_2D", e.OperatorName);
        Assert.Contains("the filter must be constant", e.Message);
    }
}
