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
    private const string Code = "Vendor.ScaleShift";
    private const string Function = "Vendor_ScaleShift";
    private static readonly (float Scale, long ZeroPoint) XQuant = (0.5f, -1), BQuant = (0.25f, 3), YQuant = (0.5f, 0);
    private static readonly sbyte[] K = { 4, -7, 0, 100 };
    private const int Scratch = 40;

    /// <summary>custom options: multiplier, offset, then a pattern the C function checks byte for byte.</summary>
    private static byte[] Options(sbyte multiplier, sbyte offset) => new byte[] { unchecked((byte)multiplier), unchecked((byte)offset), 0xA5, 0x00, 0xFF, 0x5A, 0x80 };

    private static byte[] Model(byte[] options, int[]? outputSignature = null)
    {
        var b = new TfliteModelBuilder();
        int x = b.AddTensor("x", ElementType.Int8, new[] { 1, 2, 4 }, quantization: XQuant);
        int a = b.AddTensor("a", ElementType.Int8, new[] { 1, 2, 4 }, quantization: XQuant);
        int k = b.AddTensor("k", ElementType.Int8, new[] { 4 }, Int8s(K), quantization: (1f, 0));
        int bt = b.AddTensor("b", TensorTypes.Int8, new[] { 1, 2, 4 }, scales: new[] { BQuant.Scale }, zeroPoints: new[] { BQuant.ZeroPoint }, shapeSignature: outputSignature);
        int y = b.AddTensor("y", ElementType.Int8, new[] { 1, 2, 4 }, quantization: YQuant);
        b.AddOperator(Builtin.Relu, new[] { x }, new[] { a });
        b.AddOperator(Builtin.Custom, new[] { a, k }, new[] { bt }, customCode: Code, customOptions: options);
        b.AddOperator(Builtin.Add, new[] { bt, x }, new[] { y }, TfliteModelBuilder.Options.Add());
        b.Inputs.Add(x);
        b.Outputs.Add(y);
        return b.Build();
    }

    /// <summary>The implementation: checks every descriptor field it is given, stages its input in scratch, then
    /// b = saturate(options[0] * (a - a_zp) + k[i % 4] + options[1] + b_zp). Statuses 10+ say which check failed.</summary>
    private const string Implementation = """
        #include "microtvm/custom_op.h"
        #include <string.h>

        static const uint8_t pattern[5] = { 0xA5, 0x00, 0xFF, 0x5A, 0x80 };

        int Vendor_ScaleShift(const microtvm_custom_op* op) {
            const microtvm_tensor* a = &op->inputs[0];
            const microtvm_tensor* k = &op->inputs[1];
            const microtvm_tensor* b = &op->outputs[0];
            int8_t* staged = (int8_t*)op->scratch;
            const int8_t* kv;
            int8_t* out;
            size_t i;
            if (strcmp(op->name, "Vendor.ScaleShift") != 0 || op->operator_index != 1) return 10;
            if (op->input_count != 2 || op->output_count != 1) return 11;
            if (op->options_size != 7 || memcmp(op->options + 2, pattern, 5) != 0) return 12;
            if (op->scratch == NULL || op->scratch_size != 40 || ((uintptr_t)op->scratch % 4) != 0) return 13;
            if (a->type != MICROTVM_TYPE_INT8 || a->rank != 3 || a->shape[0] != 1 || a->shape[1] != 2 || a->shape[2] != 4 || a->bytes != 8) return 14;
            if (a->scale != 0.5f || a->zero_point != -1 || a->channel_count != 1 || a->scales[0] != 0.5f || a->zero_points[0] != -1) return 15;
            if (k->type != MICROTVM_TYPE_INT8 || k->rank != 1 || k->shape[0] != 4 || k->data == NULL) return 16;
            if (b->type != MICROTVM_TYPE_INT8 || b->scale != 0.25f || b->zero_point != 3 || b->bytes != 8) return 17;
            if (op->options[0] == 0) return 3; /* the test's way to make the operator fail */
            memcpy(staged, a->data, a->bytes);
            memset(staged + a->bytes, 0x7E, op->scratch_size - a->bytes); /* the whole scratch is ours */
            kv = (const int8_t*)k->data;
            out = (int8_t*)b->data;
            for (i = 0; i < b->bytes; ++i) {
                int32_t v = (int32_t)(int8_t)op->options[0] * ((int32_t)staged[i] - a->zero_point) + kv[i % 4]
                            + (int32_t)(int8_t)op->options[1] + b->zero_point;
                out[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
            }
            return 0;
        }
        """;

    private static readonly CustomOperators Supplied = new(new[] { new CustomOperator(Code, Scratch) });

    /// <summary>The defined function, for the expectation.</summary>
    private static byte[] ScaleShift(byte[] a, sbyte multiplier, sbyte offset) =>
        a.Select((v, i) => unchecked((byte)(sbyte)Math.Clamp(multiplier * ((sbyte)v - XQuant.ZeroPoint) + K[i % 4] + offset + BQuant.ZeroPoint, -128, 127))).ToArray();

    /// <summary>RELU and ADD by the reference evaluator, each a model of its own; the custom operator by <see cref="ScaleShift"/>.</summary>
    private static byte[] Expected(byte[] x, sbyte multiplier, sbyte offset)
    {
        var relu = new TfliteModelBuilder();
        int rx = relu.AddTensor("x", ElementType.Int8, new[] { 1, 2, 4 }, quantization: XQuant);
        int ra = relu.AddTensor("a", ElementType.Int8, new[] { 1, 2, 4 }, quantization: XQuant);
        relu.AddOperator(Builtin.Relu, new[] { rx }, new[] { ra });
        relu.Inputs.Add(rx);
        relu.Outputs.Add(ra);
        var reluGraph = TfliteImporter.Load(relu.Build());
        var a = ReferenceEvaluator.Run(reluGraph, new[] { x })[reluGraph.Outputs[0]];

        var add = new TfliteModelBuilder();
        int ab = add.AddTensor("b", ElementType.Int8, new[] { 1, 2, 4 }, quantization: BQuant);
        int ax = add.AddTensor("x", ElementType.Int8, new[] { 1, 2, 4 }, quantization: XQuant);
        int ay = add.AddTensor("y", ElementType.Int8, new[] { 1, 2, 4 }, quantization: YQuant);
        add.AddOperator(Builtin.Add, new[] { ab, ax }, new[] { ay }, TfliteModelBuilder.Options.Add());
        add.Inputs.Add(ab);
        add.Inputs.Add(ax);
        add.Outputs.Add(ay);
        var addGraph = TfliteImporter.Load(add.Build());
        return ReferenceEvaluator.Run(addGraph, new[] { ScaleShift(a, multiplier, offset), x })[addGraph.Outputs[0]];
    }

    private static string CrtInclude => Path.GetFullPath(Path.Combine(TestModels.Root, "..", "..", "crt", "include"));

    /// <summary>Builds the model with the implementation and the harness, runs it on <paramref name="x"/>: exit code, output, log.</summary>
    private static (int Code, byte[] Output, string Text) BuildAndRun(byte[] model, byte[] x, bool ioInWorkspace, string dir)
    {
        var graph = TfliteImporter.Load(model, "custom.tflite", customOperators: Supplied);
        var generated = ModelCompiler.Compile(graph, new CompileOptions("host", "custom", IoInWorkspace: ioInWorkspace));
        generated.WriteTo(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), ioInWorkspace ? ModelHarness.WorkspaceIoMainSource(generated, graph) : ModelHarness.MainSource(generated, graph));
        File.WriteAllText(Path.Combine(dir, "scale_shift.c"), Implementation);
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
            Assert.Equal(Expected(x, 3, -5), output);
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
    public void TheRuntimeHeadersTypeCodesAreTheCompilers()
    {
        var header = File.ReadAllText(Path.Combine(CrtInclude, "microtvm", "custom_op.h"));
        foreach (var type in Enum.GetValues<ElementType>())
            Assert.Contains($"#define MICROTVM_TYPE_{type.ToString().ToUpperInvariant()} {(int)type}\n", header);
    }
}
