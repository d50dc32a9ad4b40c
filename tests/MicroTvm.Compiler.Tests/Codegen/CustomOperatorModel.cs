using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Reference;
using MicroTvm.Compiler.Tests.Frontend;
using MicroTvm.Compiler.Tflite;
using static MicroTvm.Compiler.Tests.Frontend.TfliteModelBuilder;

namespace MicroTvm.Compiler.Tests.Codegen;

/// <summary>
/// A model with a custom operator between builtin ones, its C implementation and its expected output, for the compiler's
/// and the SDK's tests (linked into MicroTvm.Sdk.Tests): x -RELU-> a -"Vendor.ScaleShift"(a, k)-> b, (b, x) -ADD-> y.
/// The expectation is computed apart: the reference evaluator runs the builtin parts as models of their own, and the
/// custom operator's defined function is computed here in C#.
/// </summary>
public static class CustomOperatorModel
{
    public const string Code = "Vendor.ScaleShift";
    private static readonly (float Scale, long ZeroPoint) XQuant = (0.5f, -1), BQuant = (0.25f, 3), YQuant = (0.5f, 0);
    private static readonly sbyte[] K = { 4, -7, 0, 100 };

    /// <summary>custom options: multiplier, offset, then a pattern the C function checks byte for byte.</summary>
    public static byte[] Options(sbyte multiplier, sbyte offset) => new byte[] { unchecked((byte)multiplier), unchecked((byte)offset), 0xA5, 0x00, 0xFF, 0x5A, 0x80 };

    public static byte[] Model(byte[] options, int[]? outputSignature = null)
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

    /// <summary>The implementation: checks every descriptor field it is given, keeps a copy of the options it got (for a
    /// firmware to print), stages its input in scratch (at least 40 bytes), then
    /// b = saturate(options[0] * (a - a_zp) + k[i % 4] + options[1] + b_zp). Statuses 10+ say which check failed.</summary>
    public const string Implementation = """
        #include "microtvm/custom_op.h"
        #include <string.h>

        static const uint8_t pattern[5] = { 0xA5, 0x00, 0xFF, 0x5A, 0x80 };
        uint8_t vendor_seen_options[16];
        size_t vendor_seen_options_size;

        int Vendor_ScaleShift(const microtvm_custom_op* op) {
            const microtvm_tensor* a = &op->inputs[0];
            const microtvm_tensor* k = &op->inputs[1];
            const microtvm_tensor* b = &op->outputs[0];
            int8_t* staged = (int8_t*)op->scratch;
            const int8_t* kv;
            int8_t* out;
            size_t i;
            vendor_seen_options_size = op->options_size < 16 ? op->options_size : 16;
            if (op->options != NULL) memcpy(vendor_seen_options, op->options, vendor_seen_options_size);
            if (strcmp(op->name, "Vendor.ScaleShift") != 0 || op->operator_index != 1) return 10;
            if (op->input_count != 2 || op->output_count != 1) return 11;
            if (op->options_size != 7 || memcmp(op->options + 2, pattern, 5) != 0) return 12;
            if (op->scratch == NULL || op->scratch_size < 40 || ((uintptr_t)op->scratch % 8) != 0) return 13;
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

    /// <summary>A firmware's main.c (model named "net"): runs the model on the input x below, prints "status", the options
    /// the operator saw and the outputs ("y ...").</summary>
    public const string FirmwareMain = """
        #include <stdio.h>
        #include "net.h"

        extern uint8_t vendor_seen_options[16];
        extern size_t vendor_seen_options_size;

        static uint8_t workspace[NET_WORKSPACE_SIZE] __attribute__((aligned(NET_WORKSPACE_ALIGNMENT)));

        int main(void)
        {
            static const int8_t x[NET_INPUT0_ELEMENTS] = { -128, -1, 0, 1, 16, 127, -64, 5 };
            int8_t y[NET_OUTPUT0_ELEMENTS];
            const net_inputs in = { x };
            const net_outputs out = { y };
            int status;
            size_t i;
            net_reset(workspace);
            status = net_run(&in, &out, workspace);
            printf("status %d\n", status);
            printf("options");
            for (i = 0; i < vendor_seen_options_size; i++) printf(" %02x", vendor_seen_options[i]);
            printf("\ny");
            for (i = 0; i < NET_OUTPUT0_ELEMENTS; i++) printf(" %d", y[i]);
            printf("\n");
            return status == 0 ? 0 : 1;
        }
        """;

    /// <summary>The defined function, for the expectation.</summary>
    private static byte[] ScaleShift(byte[] a, sbyte multiplier, sbyte offset) =>
        a.Select((v, i) => unchecked((byte)(sbyte)Math.Clamp(multiplier * ((sbyte)v - XQuant.ZeroPoint) + K[i % 4] + offset + BQuant.ZeroPoint, -128, 127))).ToArray();

    /// <summary>RELU and ADD by the reference evaluator, each a model of its own; the custom operator by <see cref="ScaleShift"/>.</summary>
    public static byte[] Expected(byte[] x, sbyte multiplier, sbyte offset)
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
}
