using System.Text;
using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Generated C against the C# reference evaluator on seeded random operators (shapes, strides, paddings,
/// dilations, quantization, broadcasting, activations): every output bit-exact, float32 included (the evaluator
/// computes floats in the generated C's order, with its exp: <see cref="FloatMath"/>). All cases of a test share one
/// gcc invocation and one process.
/// </summary>
[Trait("Speed", "Slow")] // gcc, QEMU or dotnet build: not in eng/test.sh --fast
public class DifferentialTests
{
    private const int CasesPerKind = 12;

    [Fact]
    public void ConvolutionsMatchTheReferenceEvaluator() => Check(1, r => new[]
    {
        Enumerable.Range(0, CasesPerKind).Select(_ => r.Convolution(ElementType.Int8, depthwise: false)),
        Enumerable.Range(0, CasesPerKind).Select(_ => r.Convolution(ElementType.Int8, depthwise: true)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Convolution(ElementType.Float32, depthwise: false)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Convolution(ElementType.Float32, depthwise: true)),
        Enumerable.Range(0, CasesPerKind).Select(_ => r.FullyConnected(ElementType.Int8)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.FullyConnected(ElementType.Float32)),
    }.SelectMany(c => c).ToList());

    [Fact]
    public void Int16x8LayersMatchTheReferenceEvaluator() => Check(4, r => new[]
    {
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Convolution(ElementType.Int16, depthwise: false)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Convolution(ElementType.Int16, depthwise: true)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.FullyConnected(ElementType.Int16)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Softmax(ElementType.Int8, ElementType.Int16)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Softmax(ElementType.Float32, ElementType.Float32)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Softmax(ElementType.Int16, ElementType.Int16)),
        Enumerable.Range(0, 3).Select(_ => r.Quantize(ElementType.Float32, ElementType.Int16)),
        Enumerable.Range(0, 3).Select(_ => r.Quantize(ElementType.Int16, ElementType.Int8)),
        Enumerable.Range(0, 3).Select(_ => r.Quantize(ElementType.Int8, ElementType.Int16)),
        Enumerable.Range(0, 3).Select(_ => r.Quantize(ElementType.Int16, ElementType.Float32)),
        new[] { OpKind.Add, OpKind.Sub, OpKind.Mul, OpKind.Maximum, OpKind.Minimum }
            .SelectMany(kind => Enumerable.Range(0, 3).Select(_ => r.Binary(kind, ElementType.Int16))),
        new[] { OpKind.Maximum, OpKind.Minimum }.SelectMany(kind => Enumerable.Range(0, 3).Select(_ => r.Binary(kind, ElementType.Int32))),
    }.SelectMany(c => c).ToList());

    [Fact]
    public void PoolingSoftmaxQuantizeMatchTheReferenceEvaluator() => Check(2, r => new[]
    {
        Enumerable.Range(0, CasesPerKind).Select(i => r.Pool(PoolTypes[i % 3], average: true)),
        Enumerable.Range(0, CasesPerKind).Select(i => r.Pool(PoolTypes[i % 3], average: false)),
        Enumerable.Range(0, CasesPerKind).Select(_ => r.Softmax(ElementType.Int8, ElementType.Int8)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Quantize(ElementType.Float32, ElementType.Int8)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Quantize(ElementType.Int8, ElementType.Int8)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Quantize(ElementType.Int8, ElementType.Float32)),
        Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Chain()),
    }.SelectMany(c => c).ToList());

    [Fact]
    public void QuantizeAndDequantizeAreBitExactAtEveryStep() => Check(7, r =>
        Enumerable.Range(0, 8).Select(_ => r.QuantizeAtBoundaries())
            .Concat(Enumerable.Range(0, 4).Select(_ => r.QuantizeAtBoundaries(ElementType.Int16)))
            .Concat(new[] { ElementType.Int8, ElementType.Int16 }.SelectMany(type => Enumerable.Range(0, 4).Select(_ => r.DequantizeEvery(type))))
            .ToList());

    private static readonly ElementType[] PoolTypes = { ElementType.Float32, ElementType.Int8, ElementType.Int16 };

    [Fact]
    public void ElementwiseOperatorsMatchTheReferenceEvaluator() => Check(3, r =>
        new[] { OpKind.Add, OpKind.Sub, OpKind.Mul, OpKind.Maximum, OpKind.Minimum }
            .SelectMany(kind => new[] { ElementType.Int8, ElementType.Float32 }
                .SelectMany(type => Enumerable.Range(0, CasesPerKind / 2).Select(_ => r.Binary(kind, type))))
            .ToList());

    [Fact]
    public void ActivationsMatchTheReferenceEvaluator() => Check(5, r =>
        new[] { OpKind.Relu, OpKind.Relu6, OpKind.LeakyRelu, OpKind.HardSwish, OpKind.Logistic, OpKind.Tanh }
            .SelectMany(kind => new[] { ElementType.Int8, ElementType.Int16, ElementType.Float32 }
                .Where(type => !(kind == OpKind.HardSwish && type == ElementType.Int16))
                .SelectMany(type => Enumerable.Range(0, 3).Select(_ => r.Unary(kind, type))))
            .Concat(new[] { OpKind.Relu, OpKind.LeakyRelu, OpKind.HardSwish, OpKind.Logistic, OpKind.Tanh }.Select(kind => r.UnaryExhaustive(kind, ElementType.Int8)))
            .Concat(new[] { OpKind.Relu, OpKind.LeakyRelu, OpKind.Logistic, OpKind.Logistic, OpKind.Tanh, OpKind.Tanh }.Select(kind => r.UnaryExhaustive(kind, ElementType.Int16)))
            .ToList());

    [Fact]
    public void LayoutMeanAndTransposeConvMatchTheReferenceEvaluator() => Check(6, r =>
        new[] { ElementType.Int8, ElementType.Float32, ElementType.Int16 }.SelectMany(type => new[]
        {
            Enumerable.Range(0, 3).Select(_ => r.Transpose(type)),
            Enumerable.Range(0, 3).Select(_ => r.Concatenation(type)),
            Enumerable.Range(0, 2).Select(_ => r.Pad(type, v2: false)),
            Enumerable.Range(0, 2).Select(_ => r.Pad(type, v2: true)),
            Enumerable.Range(0, 3).Select(_ => r.StridedSlice(type)),
            Enumerable.Range(0, 3).Select(_ => r.Mean(type)),
            Enumerable.Range(0, 3).Select(_ => r.TransposeConv(type)),
        }.SelectMany(c => c)).ToList());

    /// <summary>A standalone RELU/RELU6 after a layer is folded into it where that is exact (the "same" cases: the
    /// generated source then has no function for the activation) and kept as its own operator otherwise; either way
    /// the outputs equal the evaluator's on the unfolded graph.</summary>
    [Fact]
    public void StandaloneActivationsFoldIntoTheLayerBeforeThem()
    {
        var variants = new[] { "same", "rescaled", "shared", "already" };
        var cases = new List<RandomGraphs.Case>();
        var r = new RandomGraphs(9);
        foreach (var type in new[] { ElementType.Int8, ElementType.Int16, ElementType.Float32 })
            foreach (var kind in new[] { OpKind.Relu, OpKind.Relu6 })
                foreach (var variant in variants)
                    for (int i = 0; i < (variant == "same" ? 3 : 1); i++)
                        if (!(type == ElementType.Float32 && variant == "rescaled"))
                            cases.Add(r.LayerThenActivation(type, kind, variant));

        foreach (var c in cases)
        {
            var activation = c.Graph.Nodes.Single(n => n.Kind == OpKind.Relu || n.Kind == OpKind.Relu6);
            string source = ModelCompiler.Compile(c.Graph, new CompileOptions("host", "fold")).Files["fold.c"];
            bool folded = !source.Contains($"op{activation.Index}_", StringComparison.Ordinal);
            Assert.True(folded == c.Description.Contains("(same)", StringComparison.Ordinal), $"{c.Description}: folded {folded}");
        }

        Check(9, _ => cases);
    }

    [Fact]
    public void UnusualGraphInterfacesWork() => Check(7, r => r.InterfaceCases().ToList());

    /// <summary>Inputs and outputs inside the workspace: an input reshaped or returned as an output, an output read
    /// by a later operator, in-place operators writing over a graph input, reshape aliases as graph outputs; each case
    /// runs twice in the same (dirty) workspace.</summary>
    [Fact]
    public void IoInWorkspaceMatchesTheReferenceEvaluator() => Check(8, r => r.InterfaceCases()
        .Concat(Enumerable.Range(0, 4).Select(_ => r.Chain()))
        .Concat(new[] { OpKind.Relu, OpKind.Logistic }.SelectMany(kind => new[] { ElementType.Int8, ElementType.Float32 }.Select(type => r.Unary(kind, type))))
        .Concat(new[] { ElementType.Int8, ElementType.Float32 }.Select(type => r.Binary(OpKind.Add, type)))
        .Concat(new[] { r.Quantize(ElementType.Float32, ElementType.Int8), r.Quantize(ElementType.Int8, ElementType.Float32) })
        .Concat(new[] { r.Convolution(ElementType.Int8, depthwise: false), r.Pool(ElementType.Int8, average: true), r.Softmax(ElementType.Int8, ElementType.Int8) })
        .ToList(), ioInWorkspace: true);

    /// <summary>UNIDIRECTIONAL_SEQUENCE_LSTM of every type TensorFlow Lite Micro computes, batch and time major.</summary>
    [Fact]
    public void LstmMatchesTheReferenceEvaluator() => Check(12, r => new[] { ElementType.Int8, ElementType.Int16, ElementType.Float32 }
        .SelectMany(type => Enumerable.Range(0, 6).Select(i => r.Lstm(type, timeMajor: i % 2 == 1))).ToList());

    private static void Check(int seed, Func<RandomGraphs, List<RandomGraphs.Case>> generate, bool ioInWorkspace = false) =>
        CheckAll(generate(new RandomGraphs(seed)), $"seed {seed}", ioInWorkspace);

    /// <summary>Compiles every case with one gcc invocation (sanitizers on), runs them in one process and asserts each
    /// output equals the reference evaluator's (or the case's expected outputs where it has them).</summary>
    internal static void CheckAll(IReadOnlyList<RandomGraphs.Case> cases, string label, bool ioInWorkspace = false, string target = "host")
    {
        var dir = Gcc.TemporaryDirectory("diff");
        var main = new StringBuilder();
        main.AppendLine("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>");
        var sources = new List<string>();
        var calls = new StringBuilder();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            string name = $"case{i}";
            var model = ModelCompiler.Compile(c.Graph, new CompileOptions(target, name, IoInWorkspace: ioInWorkspace));
            MemoryPlanTests.CheckPlan(c.Graph, model.Metadata);
            model.WriteTo(dir);
            sources.Add(model.SourceFile);
            main.AppendLine($"#include \"{model.HeaderFile}\"");
            for (int k = 0; k < c.Inputs.Length; k++) File.WriteAllBytes(Path.Combine(dir, $"{name}_in{k}.bin"), c.Inputs[k]);
            string m = name.ToUpperInvariant();
            if (ioInWorkspace)
            {
                // Written and run twice: the second run starts from the first one's leftovers.
                calls.AppendLine("    {");
                calls.AppendLine($"        void* ws = malloc({m}_WORKSPACE_SIZE); int run;");
                calls.AppendLine($"        memset(ws, 0xA5, {m}_WORKSPACE_SIZE);");
                calls.AppendLine("        for (run = 0; run < 2; run++) {");
                calls.AppendLine($"            if ({name}_reset(ws) != 0) return 4;");
                for (int k = 0; k < c.Inputs.Length; k++)
                    calls.AppendLine($"            {{ void* data = load(\"{name}_in{k}.bin\", {m}_INPUT{k}_SIZE); memcpy({name}_input{k}(ws), data, {m}_INPUT{k}_SIZE); free(data); }}");
                calls.AppendLine($"            if ({name}_run(ws) != 0) return 4;");
                calls.AppendLine("        }");
                for (int k = 0; k < c.Graph.Outputs.Count; k++)
                    calls.AppendLine($"        save(\"{name}_out{k}.bin\", {name}_output{k}(ws), {m}_OUTPUT{k}_SIZE);");
                calls.AppendLine("    }");
                continue;
            }

            calls.AppendLine("    {");
            calls.AppendLine($"        {name}_inputs in; {name}_outputs out; void* ws = malloc({m}_WORKSPACE_SIZE ? {m}_WORKSPACE_SIZE : 1);");
            for (int k = 0; k < c.Inputs.Length; k++)
                calls.AppendLine($"        in.input{k} = ({name}_input{k}_t*)load(\"{name}_in{k}.bin\", {m}_INPUT{k}_SIZE);");
            for (int k = 0; k < c.Graph.Outputs.Count; k++)
                calls.AppendLine($"        out.output{k} = ({name}_output{k}_t*)malloc({m}_OUTPUT{k}_SIZE);");
            // From the initial state, Runs times in a row (a model with state carries it from run to run).
            calls.AppendLine($"        memset(ws, 0xA5, {m}_WORKSPACE_SIZE); if ({name}_reset(ws) != 0) return 4;");
            for (int r = 0; r < c.Runs; r++)
            {
                calls.AppendLine($"        if ({name}_run(&in, &out, ws) != 0) return 4;");
                for (int k = 0; k < c.Graph.Outputs.Count; k++)
                    calls.AppendLine($"        save(\"{name}_out{k}{(r == 0 ? "" : $"_run{r}")}.bin\", out.output{k}, {m}_OUTPUT{k}_SIZE);");
            }

            calls.AppendLine($"        save(\"{name}_state.bin\", ws, {m}_STATE_SIZE);");

            calls.AppendLine("    }");
        }

        main.Append(ModelHarness.LoadAndSaveFunctions);
        main.AppendLine("int main(void) {");
        main.Append(calls);
        main.AppendLine("    return 0;\n}");
        File.WriteAllText(Path.Combine(dir, "main.c"), main.ToString());
        // -O0: many small sources, compile time dominates; the sanitizers work the same.
        Gcc.Build("gcc", Gcc.HostFlags.Replace("-O1", "-O0"), sources.Append("main.c"), "cases", dir);
        var (code, output) = Gcc.Run(Path.Combine(dir, "cases"), "", dir);
        Assert.True(code == 0, $"the generated program failed ({code}):\n{output}");

        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var state = new ModelState(c.Graph);
            for (int r = 0; r < (ioInWorkspace ? 1 : c.Runs); r++)
            {
                var values = c.Expected is null ? ReferenceEvaluator.Run(c.Graph, c.Inputs, state) : null;
                for (int k = 0; k < c.Graph.Outputs.Count; k++)
                {
                    var outputTensor = c.Graph.Outputs[k];
                    var actual = File.ReadAllBytes(Path.Combine(dir, $"case{i}_out{k}{(r == 0 ? "" : $"_run{r}")}.bin"));
                    // Against the evaluator exactly, floats too (FloatMath mirrors the C's exp); against an independent
                    // oracle (TFLM, one run) float32 results of float arithmetic within the tolerance.
                    string? difference = WholeModelTests.Difference(outputTensor, c.Expected?[k] ?? values![outputTensor], actual,
                        tolerant: c.Expected is not null && WholeModelTests.ProducedByFloatArithmetic(c.Graph, outputTensor));
                    if (difference is not null) failures.Add($"case{i} ({label}) {c.Description}, output {k}{(r == 0 ? "" : $", run {r + 1}")}: {difference}");
                }
            }

            if (ioInWorkspace || c.Expected is not null) continue;
            // The state after the last run, where the plan put each variable tensor in the workspace.
            var stateBytes = File.ReadAllBytes(Path.Combine(dir, $"case{i}_state.bin"));
            var plan = ModelCompiler.Compile(c.Graph, new CompileOptions(target, $"case{i}")).Metadata.MemoryPlan;
            foreach (var (tensor, expected) in state.Values)
            {
                long offset = plan.Single(p => p.Tensor == tensor.Id).Offset!.Value;
                string? difference = WholeModelTests.Difference(tensor, expected, stateBytes[(int)offset..(int)(offset + tensor.ByteSize)], tolerant: false);
                if (difference is not null) failures.Add($"case{i} ({label}) {c.Description}, state {tensor} after {c.Runs} run(s): {difference}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ (sources in {dir}):\n" + string.Join("\n", failures));
    }
}
