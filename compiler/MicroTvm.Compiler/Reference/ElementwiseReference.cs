using MicroTvm.Compiler.Ir;
using MicroTvm.Compiler.Quantization;

namespace MicroTvm.Compiler.Reference;

/// <summary>Binary elementwise operators with broadcasting: ADD, SUB, MUL (float32, int8, int16, int32), MAXIMUM, MINIMUM.</summary>
internal static class ElementwiseReference
{
    private static bool IsQuantizedType(ElementType t) => t is ElementType.Int8 or ElementType.Int16;

    /// <summary>Reads both operands broadcast to the output shape.</summary>
    private static (int[] Left, int[] Right) BroadcastInts(Node node, TensorValues values) =>
        (Broadcast.To(values.Ints(node.Input(0)), node.Input(0).Shape, node.Output.Shape), Broadcast.To(values.Ints(node.Input(1)), node.Input(1).Shape, node.Output.Shape));

    private static (float[] Left, float[] Right) BroadcastFloats(Node node, TensorValues values) =>
        (Broadcast.To(values.Floats(node.Input(0)), node.Input(0).Shape, node.Output.Shape), Broadcast.To(values.Floats(node.Input(1)), node.Input(1).Shape, node.Output.Shape));

    private static bool AllTypes(Node node, ElementType type) =>
        node.Input(0).Type == type && node.Input(1).Type == type && node.Output.Type == type;

    public static void AddOrSub(Node node, TensorValues values, bool subtract)
    {
        var activation = node.AttributesAs<ElementwiseAttributes>().Activation;
        var output = node.Output;
        if (AllTypes(node, ElementType.Float32))
        {
            var range = ActivationRange.Float(activation);
            var (a, b) = BroadcastFloats(node, values);
            var y = new float[a.Length];
            for (int i = 0; i < y.Length; i++) y[i] = range.Clamp(subtract ? a[i] - b[i] : a[i] + b[i]);
            values.SetFloats(output, y);
            return;
        }

        if (AllTypes(node, ElementType.Int32))
        {
            // TFLite Micro's int32 ADD ignores the fused activation; its SUB applies it. Both wrap on overflow.
            var range = subtract ? ActivationRange.Int32(activation) : QuantizedRange.Of(ElementType.Int32);
            var (a, b) = BroadcastInts(node, values);
            values.SetInts(output, Enumerable.Range(0, a.Length).Select(i => range.Clamp(unchecked(subtract ? a[i] - b[i] : a[i] + b[i]))).ToArray());
            return;
        }

        if (!IsQuantizedType(output.Type) || !AllTypes(node, output.Type)) throw ReferenceErrors.Unsupported(node);
        var q = subtract
            ? AddSubQuantization.ForSub(node.Input(0), node.Input(1), output, activation)
            : AddSubQuantization.ForAdd(node.Input(0), node.Input(1), output, activation);
        var (x1, x2) = BroadcastInts(node, values);
        var result = new int[x1.Length];
        for (int i = 0; i < result.Length; i++) result[i] = q.Output(x1[i], x2[i], subtract);

        values.SetInts(output, result);
    }

    public static void Mul(Node node, TensorValues values)
    {
        var activation = node.AttributesAs<ElementwiseAttributes>().Activation;
        var output = node.Output;
        if (AllTypes(node, ElementType.Float32))
        {
            var range = ActivationRange.Float(activation);
            var (a, b) = BroadcastFloats(node, values);
            var y = new float[a.Length];
            for (int i = 0; i < y.Length; i++) y[i] = range.Clamp(a[i] * b[i]);
            values.SetFloats(output, y);
            return;
        }

        if (AllTypes(node, ElementType.Int32))
        {
            var range = ActivationRange.Int32(activation);
            var (a, b) = BroadcastInts(node, values);
            values.SetInts(output, Enumerable.Range(0, a.Length).Select(i => range.Clamp(unchecked(a[i] * b[i]))).ToArray());
            return;
        }

        if (!IsQuantizedType(output.Type) || !AllTypes(node, output.Type)) throw ReferenceErrors.Unsupported(node);
        var q = MulQuantization.Derive(node.Input(0), node.Input(1), output, activation);
        var (x1, x2) = BroadcastInts(node, values);
        var result = new int[x1.Length];
        for (int i = 0; i < result.Length; i++)
        {
            int product = (x1[i] + q.Input1Offset) * (x2[i] + q.Input2Offset);
            int scaled = FixedPoint.MultiplyByQuantizedMultiplier(product, q.OutputMultiplier, q.OutputShift) + q.OutputOffset;
            result[i] = q.Activation.Clamp(scaled);
        }

        values.SetInts(output, result);
    }

    /// <summary>MAXIMUM and MINIMUM compare stored values directly, whatever the operands' quantization (as TFLite Micro
    /// does: it checks none; tests/operators maximum_i16 has three different scales).</summary>
    public static void MaximumOrMinimum(Node node, TensorValues values, bool maximum)
    {
        var output = node.Output;
        if (AllTypes(node, ElementType.Float32))
        {
            var (a, b) = BroadcastFloats(node, values);
            var y = new float[a.Length];
            for (int i = 0; i < y.Length; i++) y[i] = maximum ? (a[i] < b[i] ? b[i] : a[i]) : (b[i] < a[i] ? b[i] : a[i]);
            values.SetFloats(output, y);
            return;
        }

        if (output.Type is not (ElementType.Int8 or ElementType.Int16 or ElementType.Int32) || !AllTypes(node, output.Type))
            throw ReferenceErrors.Unsupported(node);
        var (x1, x2) = BroadcastInts(node, values);
        var result = new int[x1.Length];
        for (int i = 0; i < result.Length; i++) result[i] = maximum ? Math.Max(x1[i], x2[i]) : Math.Min(x1[i], x2[i]);
        values.SetInts(output, result);
    }
}
