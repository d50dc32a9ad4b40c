using System.Buffers.Binary;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Diagnostics;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Reference;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// GATHER and GATHER_ND with indices read at run time (the oracle cases' models, whose indices are a graph input) fed an
/// index outside the params: what TFLite Micro's outputs cannot show. The evaluator refuses with MTVM2070; the generated
/// C, built with ASan/UBSan, returns -2 from its run without reading out of bounds.
/// </summary>
public class GatherIndexTests
{
    public static IEnumerable<object[]> BadIndices() => new[]
    {
        new object[] { "gather_i8_runtime_indices", new[] { 0, 1, 5, 2, 3, 4 } },            // past the axis (size 5)
        new object[] { "gather_f32_runtime_indices", new[] { 0, -1, 2, 2, 1, 3 } },          // negative
        new object[] { "gather_i8_runtime_indices_batch_dims", new[] { 0, 1, 2, 3, 4, 4, 4, 5 } },
        new object[] { "gather_nd_i8_runtime_indices", new[] { 0, 0, 3, 4, 3, 5, 1, 1 } },   // [3,5]: flat 60 of 60
        new object[] { "gather_nd_f32_runtime_indices", new[] { 0, 0, -1, 0, 1, 1, 2, 2 } }, // [-1,0]: flat -15
    };

    private static (Ir.Graph Graph, byte[] Input) Case(string name, int[] indices)
    {
        string folder = Path.Combine(OperatorOracleTests.Root, name);
        var graph = TfliteImporter.Load(Path.Combine(folder, "model.tflite"));
        var inputs = OperatorOracleTests.SplitInputs(graph, File.ReadAllBytes(Path.Combine(folder, "input0.bin")));
        Assert.Equal(indices.Length * 4, inputs[1].Length);
        for (int i = 0; i < indices.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(inputs[1].AsSpan(4 * i), indices[i]);
        return (graph, inputs.SelectMany(b => b).ToArray());
    }

    [Theory]
    [MemberData(nameof(BadIndices))]
    public void The_evaluator_refuses_an_index_outside_the_params(string name, int[] indices)
    {
        var (graph, input) = Case(name, indices);
        var inputs = OperatorOracleTests.SplitInputs(graph, input);
        var e = Assert.Throws<CompilerException>(() => ReferenceEvaluator.Run(graph, inputs));
        Assert.Equal(ErrorCodes.IndexOutOfRange, e.Code);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void The_generated_run_returns_minus_two_without_reading_out_of_bounds()
    {
        var dir = Gcc.TemporaryDirectory("gather-index");
        foreach (var row in BadIndices())
        {
            var (name, indices) = ((string)row[0], (int[])row[1]);
            var (graph, input) = Case(name, indices);
            var generated = ModelCompiler.Compile(graph, new CompileOptions("host", name));
            Assert.Contains("Returns -2 when an index read at run time lies outside its input", generated.Files[name + ".h"]);
            var caseDir = Path.Combine(dir, name);
            generated.WriteTo(caseDir);
            File.WriteAllText(Path.Combine(caseDir, "main.c"), ModelHarness.MainSource(generated, graph));
            Gcc.Build("gcc", Gcc.HostFlags, new[] { generated.SourceFile, "main.c" }, "model", caseDir);
            File.WriteAllBytes(Path.Combine(caseDir, "x.bin"), input);
            var (code, text) = Gcc.Run(Path.Combine(caseDir, "model"), $"- {Path.Combine(caseDir, "x.bin")} {Path.Combine(caseDir, "y.bin")}", caseDir);
            Assert.True(code == 4 && text.Contains("run returned -2"), $"{name}: exit {code}\n{text}");
        }

        Directory.Delete(dir, recursive: true);
    }
}
