using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Custom operators (docs/generated-c.md): a model x -RELU-> a -"Vendor.ScaleShift"(a, k)-> b, (b, x) -ADD-> y whose
/// custom operator is a C function compiled with the generated model (host gcc, ASan/UBSan). The expected output is
/// computed apart: the reference evaluator runs the builtin parts as models of their own, and the custom operator's
/// defined function is computed here in C#.
/// </summary>
public class CustomOperatorTests
{
    private const string Code = CustomOperatorModel.Code;
    private const string Function = "Vendor_ScaleShift";
    private const int Scratch = 40;
    private static readonly CustomOperators Supplied = new(new[] { new CustomOperator(Code, Scratch) });

    private static byte[] Options(sbyte multiplier, sbyte offset) => CustomOperatorModel.Options(multiplier, offset);

    private static byte[] Model(byte[] options, int[]? outputSignature = null) => CustomOperatorModel.Model(options, outputSignature);

    private static string CrtInclude => Path.GetFullPath(Path.Combine(TestModels.Root, "..", "..", "crt", "include"));

    /// <summary>Builds the model with the implementation and the harness, runs it on <paramref name="x"/>: exit code, output, log.</summary>
    private static (int Code, byte[] Output, string Text) BuildAndRun(byte[] model, byte[] x, bool ioInWorkspace, string dir)
    {
        var graph = TfliteImporter.Load(model, "custom.tflite", customOperators: Supplied);
        var generated = ModelCompiler.Compile(graph, new CompileOptions("host", "custom", IoInWorkspace: ioInWorkspace));
        generated.WriteTo(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), ioInWorkspace ? ModelHarness.WorkspaceIoMainSource(generated, graph) : ModelHarness.MainSource(generated, graph));
        File.WriteAllText(Path.Combine(dir, "scale_shift.c"), CustomOperatorModel.Implementation);
        string exe = ioInWorkspace ? "model_ws" : "model";
        Gcc.Build("gcc", $"{Gcc.HostFlags} -I{Gcc.Quote(CrtInclude)}", new[] { generated.SourceFile, "scale_shift.c", "main.c" }, exe, dir);
        File.WriteAllBytes(Path.Combine(dir, "x.bin"), x);
        var output = Path.Combine(dir, "y.bin");
        File.Delete(output);
        var (code, text) = Gcc.Run(Path.Combine(dir, exe), $"- {Path.Combine(dir, "x.bin")} {output}", dir);
        return (code, File.Exists(output) ? File.ReadAllBytes(output) : Array.Empty<byte>(), text);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void TheProjectsCFunctionRunsBetweenBuiltinOperatorsWithItsOptionsAndScratch()
    {
        var dir = Gcc.TemporaryDirectory("custom-op");
        var x = new byte[] { 0x80, 0xFF, 0x00, 0x01, 0x10, 0x7F, 0xC0, 0x05 };
        foreach (bool ioInWorkspace in new[] { false, true })
        {
            var (code, output, text) = BuildAndRun(Model(Options(3, -5)), x, ioInWorkspace, dir);
            Assert.True(code == 0, $"io in workspace {ioInWorkspace}: the program failed ({code}):\n{text}");
            Assert.Equal(CustomOperatorModel.Expected(x, 3, -5), output);
        }

        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void ANonZeroStatusMakesTheRunReturnMinusTwo()
    {
        var dir = Gcc.TemporaryDirectory("custom-op-fail");
        var (code, _, text) = BuildAndRun(Model(Options(0, 1)), new byte[8], ioInWorkspace: false, dir);
        Assert.Equal(4, code); // the harness: the run returned non-zero
        Assert.Contains("run returned -2", text);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void TheGeneratedCodeDescribesTheOperatorAndPlansItsScratch()
    {
        var graph = TfliteImporter.Load(Model(Options(3, -5)), "custom.tflite", customOperators: Supplied);
        var node = graph.Nodes[1];
        Assert.Equal(OpKind.Custom, node.Kind);
        Assert.Equal(Options(3, -5), node.AttributesAs<CustomAttributes>().Options);
        var generated = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "custom"));
        string c = generated.Files["custom.c"];
        Assert.Contains("#include \"microtvm/custom_op.h\"", c);
        Assert.Contains($"int {Function}(const microtvm_custom_op* op);", c);
        Assert.Contains("static const uint8_t op1_custom_options[7] = {", c);
        Assert.Contains("if (op1_custom(", c);
        Assert.Contains("return -2;", c);
        Assert.Contains("Returns -2 when a custom operator", generated.Files["custom.h"]);
        var op = generated.Metadata.Operators.Single(o => o.Index == 1);
        Assert.Equal(Scratch, op.ScratchBytes);
        Assert.NotNull(op.ScratchOffset);
        Assert.True(generated.Metadata.WorkspaceBytes > generated.Metadata.WorkspaceWithoutScratchBytes);
    }

    [Fact]
    public void AMissingImplementationIsMtvm1004SayingHowToSupplyIt()
    {
        var e = Assert.Throws<CompilerException>(() => TfliteImporter.Load(Model(Options(3, -5)), "custom.tflite",
            customOperators: new CustomOperators(new[] { new CustomOperator("Other") }, "/p/app.csproj")));
        Assert.Equal(ErrorCodes.UnsupportedOperator, e.Code);
        Assert.Equal(1, e.OperatorIndex);
        Assert.Contains("operator 1 (custom operator 'Vendor.ScaleShift'): ", e.Message);
        Assert.Contains($"int {Function}(const microtvm_custom_op* op)", e.Message);
        Assert.Contains("<MicroModelOperator Include=\"vendor_scaleshift.c\" Name=\"Vendor.ScaleShift\" /> to app.csproj", e.Message);
        Assert.Contains("--custom-op Vendor.ScaleShift", e.Message);
    }

    [Fact]
    public void TheReferenceEvaluatorRefusesACustomOperatorByName()
    {
        var graph = TfliteImporter.Load(Model(Options(3, -5)), "custom.tflite", customOperators: CustomOperators.WithoutImplementation);
        var e = Assert.Throws<CompilerException>(() => ReferenceEvaluator.Run(graph, new[] { new byte[8] }));
        Assert.Equal(ErrorCodes.CustomOperatorNotEvaluable, e.Code);
        Assert.Equal(1, e.OperatorIndex);
        Assert.Equal("custom.tflite", e.File);
        Assert.Contains("'Vendor.ScaleShift'", e.Message);
    }

    [Fact]
    public void ADynamicOutputDimensionIsRefused()
    {
        // A dynamic batch of 1 is what every converter writes: accepted. A dynamic inner dimension is not known before the run.
        TfliteImporter.Load(Model(Options(3, -5), outputSignature: new[] { -1, 2, 4 }), "custom.tflite", customOperators: Supplied);
        var e = Assert.Throws<CompilerException>(() =>
            TfliteImporter.Load(Model(Options(3, -5), outputSignature: new[] { 1, -1, 4 }), "custom.tflite", customOperators: Supplied));
        Assert.Equal(ErrorCodes.CustomOperatorDynamicShape, e.Code);
        Assert.Equal(1, e.OperatorIndex);
        Assert.Contains("dynamic dimension 1", e.Message);
    }

    [Theory]
    [InlineData("MyOp", "MyOp", 0L)]
    [InlineData("MyOp:256", "MyOp", 256L)]
    [InlineData("ns::Op:16", "ns::Op", 16L)]
    [InlineData("Op:x", "Op:x", 0L)]
    public void TheCommandLineFormIsNameAndOptionalScratch(string text, string name, long scratch) =>
        Assert.Equal(new CustomOperator(name, scratch), CustomOperator.Parse(text));

    [Fact]
    public void TwoNamesForOneCFunctionAreRefused()
    {
        var e = Assert.Throws<CompilerException>(() => new CustomOperators(new[] { new CustomOperator("a.b"), new CustomOperator("a-b") }));
        Assert.Equal(ErrorCodes.InvalidCustomOperator, e.Code);
        Assert.Contains("a_b", e.Message);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void AnUntrustedCustomCodeCannotBreakTheGeneratedC()
    {
        const string code = "evil\"*/ int injected; /*\\??=\u00e9\n";
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Float32, new[] { 3 });
        int y = b.AddTensor("y", ElementType.Float32, new[] { 3 });
        b.AddOperator(Builtin.Custom, new[] { x }, new[] { y }, customCode: code);
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        var graph = TfliteImporter.Load(b.Build(), "evil.tflite", customOperators: new CustomOperators(new[] { new CustomOperator(code) }));
        var generated = ModelCompiler.Compile(graph, new CompileOptions("host", "evil"));
        Assert.Contains("int evil____int_injected__________(const microtvm_custom_op* op);", generated.Files["evil.c"]);
        var dir = Gcc.TemporaryDirectory("custom-op-evil");
        generated.WriteTo(dir);
        Gcc.Build("gcc", $"{Gcc.HostFlags} -c -I{Gcc.Quote(CrtInclude)}", new[] { generated.SourceFile }, "evil.o", dir);
        // Had the code ended a comment, 'int injected;' would be a variable of the object file.
        var (exit, symbols) = Gcc.Run("nm", "evil.o", dir);
        Assert.Equal(0, exit);
        Assert.DoesNotMatch(@"(?m) injected\r?$", symbols);
        Assert.Matches(@"(?m) U evil____int_injected__________\r?$", symbols);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void TheRuntimeHeadersTypeCodesAreTheCompilers()
    {
        var header = File.ReadAllText(Path.Combine(CrtInclude, "microtvm", "custom_op.h"));
        foreach (var type in Enum.GetValues<ElementType>())
            Assert.Contains($"#define MICROTVM_TYPE_{type.ToString().ToUpperInvariant()} {(int)type}\n", header);
    }
}
