using MicroTvm.Compiler.Codegen;
using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// Variable (state) tensors: imported from TFLite's <c>is_variable</c>, placed in a region at the start of the
/// workspace that nothing else uses, set by <c>&lt;name&gt;_reset</c> to TFLM's initial value (an int8 variable's zero
/// point), and read by the generated code from the workspace, as the reference evaluator reads its
/// <see cref="ModelState"/>.
/// </summary>
public class StateTests
{
    /// <summary>input int8[1,8] + variable int8[1,8] (zero point -3) -> ADD -> output, as a TFLite file.</summary>
    internal static Graph AddStateModel()
    {
        var b = new TfliteModelBuilder();
        int input = b.AddTensor("input", TfliteModelBuilder.TensorTypes.Int8, new[] { 1, 8 }, scales: new[] { 0.5f }, zeroPoints: new[] { 1L });
        int state = b.AddTensor("state", TfliteModelBuilder.TensorTypes.Int8, new[] { 1, 8 }, scales: new[] { 0.25f }, zeroPoints: new[] { -3L }, isVariable: true);
        int output = b.AddTensor("output", TfliteModelBuilder.TensorTypes.Int8, new[] { 1, 8 }, scales: new[] { 0.5f }, zeroPoints: new[] { 0L });
        b.AddOperator(TfliteModelBuilder.Builtin.Add, new[] { input, state }, new[] { output }, TfliteModelBuilder.Options.Add());
        b.Inputs.Add(input);
        b.Outputs.Add(output);
        return TfliteImporter.Load(b.Build(), "state_add.tflite");
    }

    [Fact]
    public void AVariableTensorIsImportedAndStartsAtItsZeroPoint()
    {
        var graph = AddStateModel();
        var state = graph.Tensors.Single(t => t.Name == "state");
        Assert.True(state.IsVariable);
        Assert.False(state.IsConstant);
        Assert.Equal(unchecked((byte)(sbyte)-3), state.InitialByte);

        var modelState = new ModelState(graph);
        Assert.All(modelState.Values[state], v => Assert.Equal((sbyte)-3, (sbyte)v));
        // State 0.25 * (-3 - -3) = 0: the output is the input, 0.5 * (q - 1), requantized to scale 0.5, zero point 0.
        var values = ReferenceEvaluator.Run(graph, new[] { new byte[] { 1, 3, 5, 7, 9, 11, 13, 15 } }, modelState);
        Assert.Equal(new byte[] { 0, 2, 4, 6, 8, 10, 12, 14 }, values[graph.Outputs[0]]);
    }

    [Fact]
    public void StateLivesAtTheStartOfTheWorkspaceAndIsReported()
    {
        var graph = AddStateModel();
        foreach (bool ioInWorkspace in new[] { false, true })
        {
            var model = ModelCompiler.Compile(graph, new CompileOptions("cortex-m7", "state_add", IoInWorkspace: ioInWorkspace));
            var metadata = model.Metadata;
            Assert.Equal(8, metadata.StateBytes); // 8 bytes, already aligned for the Cortex-M7
            var placement = metadata.MemoryPlan.Single(p => p.Name == "state");
            Assert.Equal(("state", 0L), (placement.Storage, placement.Offset!.Value));
            Assert.True(metadata.WorkspaceBytes >= 8);
            Assert.Equal(8, ModelMetadata.FromJson(model.Files["state_add.json"]).StateBytes);
            Assert.Contains("#define STATE_ADD_STATE_SIZE 8", model.Files["state_add.h"]);
            Assert.Contains("int state_add_reset(void* workspace);", model.Files["state_add.h"]);
            MemoryPlanTests.CheckPlan(graph, metadata);
        }
    }

    /// <summary>A model without state still has a reset (it only checks its argument), so a caller can always call it.</summary>
    [Fact]
    public void AModelWithoutStateHasAnEmptyReset()
    {
        var b = new Reference.GraphBuilder();
        var x = b.Input(ElementType.Int8, new[] { 1, 4 }, Reference.GraphBuilder.Q(0.5f));
        var y = b.Tensor(ElementType.Int8, new[] { 1, 4 }, Reference.GraphBuilder.Q(0.5f));
        b.Op(OpKind.Relu, new NoAttributes(), new[] { x }, y);
        var model = ModelCompiler.Compile(b.Build(y), new CompileOptions("host", "nostate"));
        Assert.Equal(0, model.Metadata.StateBytes);
        Assert.Contains("#define NOSTATE_STATE_SIZE 0", model.Files["nostate.h"]);
        Assert.Contains("int nostate_reset(void* workspace) {\n    if (workspace == NULL) return -1;\n    return 0;\n}", model.Files["nostate.c"]);
    }

    /// <summary>The generated code reads the state from the workspace: after <c>_reset</c> in a workspace full of
    /// garbage the output is the evaluator's from the initial state; without the reset it is not (the garbage is the
    /// state). Built with the host flags (ASan, UBSan, -Werror).</summary>
    [Fact]
    [Trait("Speed", "Slow")]
    public void TheGeneratedResetGivesTheEvaluatorsInitialState()
    {
        var graph = AddStateModel();
        var model = ModelCompiler.Compile(graph, new CompileOptions("host", "state_add"));
        var dir = Gcc.TemporaryDirectory("state-add");
        model.WriteTo(dir);
        File.WriteAllText(Path.Combine(dir, "main.c"), """
            #include "state_add.h"
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            int main(int argc, char** argv) {
                int8_t input[8] = { 1, 3, 5, 7, 9, 11, 13, 15 }, output[8];
                state_add_inputs inputs; state_add_outputs outputs;
                void* workspace = malloc(STATE_ADD_WORKSPACE_SIZE);
                int i;
                (void)argv;
                if (workspace == NULL) return 2;
                memset(workspace, 0x5A, STATE_ADD_WORKSPACE_SIZE);
                if (argc > 1 && state_add_reset(workspace) != 0) return 3;
                if (state_add_reset(NULL) != -1) return 4;
                inputs.input0 = input; outputs.output0 = output;
                if (state_add_run(&inputs, &outputs, workspace) != 0) return 5;
                for (i = 0; i < 8; i++) printf("%d ", output[i]);
                free(workspace);
                return 0;
            }
            """);
        Gcc.Build("gcc", Gcc.HostFlags, new[] { model.SourceFile, "main.c" }, "model", dir);

        var expected = ReferenceEvaluator.Run(graph, new[] { new byte[] { 1, 3, 5, 7, 9, 11, 13, 15 } })[graph.Outputs[0]];
        string expectedText = string.Join(" ", expected.Select(v => ((sbyte)v).ToString(System.Globalization.CultureInfo.InvariantCulture))) + " ";
        var (code, text) = Gcc.Run(Path.Combine(dir, "model"), "reset", dir);
        Assert.Equal(0, code);
        Assert.Equal(expectedText, text.Trim() + " ");
        var (codeWithout, textWithout) = Gcc.Run(Path.Combine(dir, "model"), "", dir);
        Assert.Equal(0, codeWithout);
        Assert.NotEqual(expectedText, textWithout.Trim() + " ");
    }
}
